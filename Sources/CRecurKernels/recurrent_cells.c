// Fused pointwise kernels of the recurrent cells (see recur_cells.h).
// The forward rows of LSTM, GRU and Elman cells have an AVX2 and an AVX-512 version that keeps a
// vector of units in registers through the whole cell; elsewhere transcendentals go through the
// dispatched vector math (recur_vsigmoid / recur_vtanh) and the remaining arithmetic is simple
// loops compiled once per instruction set. Each kernel works on batch rows independently, so it
// is split by rows over the thread pool (recur_parallel_for_grain): the other core would
// otherwise idle between the time steps' GEMMs. Every element is computed the
// same way whatever the split, so results do not depend on the thread count.
#include "recur_cells.h"
#include "recur_kernels.h"
#include "internal.h"
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

// Every element is computed with the same IEEE operations in the same order on every path (no
// fused multiply-adds), so the vectorised loops give the scalar loop's bits.
#pragma STDC FP_CONTRACT OFF

// The arithmetic of one batch row, compiled once per instruction set (the same source, vectorised
// with that set's registers) and chosen by the calling thread's ISA. Without the per-ISA copies
// the package's baseline x86-64 build left these loops scalar.
#define RECUR_CELL_LOOPS(sfx, attribute)                                                              \
  /* y += x */                                                                                      \
  attribute static void add_##sfx(int n, float *restrict y, const float *restrict x) {              \
    for (int j = 0; j < n; j++) y[j] += x[j];                                                       \
  }                                                                                                 \
  attribute static void lstm_backward_##sfx(int H, const float *restrict g,                         \
                                            const float *restrict cp, const float *restrict tc,     \
                                            const float *restrict dhb, float *restrict dcb,         \
                                            float *restrict d) {                                    \
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;                             \
    for (int j = 0; j < H; j++) {                                                                   \
      float t = tc[j], o = go[j], i = gi[j], f = gf[j], gv = gg[j];                                 \
      float dcj = dcb[j] + dhb[j] * o * (1.0f - t * t);                                             \
      float d_o = dhb[j] * t;                                                                       \
      d[j] = dcj * gv * i * (1.0f - i);                                                             \
      d[H + j] = dcj * cp[j] * f * (1.0f - f);                                                      \
      d[2 * H + j] = dcj * i * (1.0f - gv * gv);                                                    \
      d[3 * H + j] = d_o * o * (1.0f - o);                                                          \
      dcb[j] = dcj * f;                                                                             \
    }                                                                                               \
  }                                                                                                 \
  attribute static void gru_backward_##sfx(int H, const float *restrict r,                          \
                                           const float *restrict hn, const float *restrict hp,      \
                                           const float *restrict d, float *restrict gx,             \
                                           float *restrict gh, float *restrict dp) {                \
    const float *z = r + H, *n = r + 2 * H;                                                         \
    for (int j = 0; j < H; j++) {                                                                   \
      float dn = d[j] * (1.0f - z[j]);                                                              \
      float dz = d[j] * (hp[j] - n[j]);                                                             \
      float dan = dn * (1.0f - n[j] * n[j]);                                                        \
      float dr = dan * hn[j];                                                                       \
      float dar = dr * r[j] * (1.0f - r[j]);                                                        \
      float daz = dz * z[j] * (1.0f - z[j]);                                                        \
      gx[j] = dar; gx[H + j] = daz; gx[2 * H + j] = dan;                                            \
      gh[j] = dar; gh[H + j] = daz; gh[2 * H + j] = dan * r[j];                                     \
      dp[j] = d[j] * z[j];                                                                          \
    }                                                                                               \
  }                                                                                                 \
  /* out[k] = Σ_i x[i·ld + k] over rows i = 0..<M in row order, k < n */                             \
  attribute static void sum_columns_##sfx(int M, long ld, const float *restrict x, int n,           \
                                          float *restrict out) {                                    \
    memset(out, 0, sizeof(float) * (size_t)n);                                                      \
    for (int i = 0; i < M; i++) {                                                                   \
      const float *row = x + (size_t)i * ld;                                                        \
      for (int k = 0; k < n; k++) out[k] += row[k];                                                 \
    }                                                                                               \
  }                                                                                                 \
  attribute static void rnn_backward_##sfx(size_t n, const float *restrict h,                       \
                                           const float *restrict dh, int relu,                      \
                                           float *restrict dpre) {                                  \
    if (relu) {                                                                                     \
      for (size_t i = 0; i < n; i++) dpre[i] = h[i] > 0.0f ? dh[i] : 0.0f;                          \
    } else {                                                                                        \
      for (size_t i = 0; i < n; i++) dpre[i] = dh[i] * (1.0f - h[i] * h[i]);                        \
    }                                                                                               \
  }

RECUR_CELL_LOOPS(portable, )
#if defined(__x86_64__)
RECUR_CELL_LOOPS(avx2, __attribute__((target("avx2,fma"))))
RECUR_CELL_LOOPS(avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))))
#endif
#define RECUR_CELL_PICK(name) RECUR_PICK(recur_active_ops()->isa, name)

// MARK: - LSTM forward, one pass per row

/// n hidden units of one batch row of the LSTM forward step on the portable path: the gates
/// (g: i, f, g, o blocks S floats apart; + b_hh, the same layout) activated in place, then
/// c = f ⊙ c_prev + i ⊙ g, tanh(c) and h = o ⊙ tanh(c), one array pass after another.
static void lstm_row_portable(int n, int S, float *restrict g, const float *restrict bhh,
                              const float *restrict cp, float *restrict c, float *restrict tc,
                              float *restrict h) {
  float *gi = g, *gf = g + S, *gg = g + 2 * S, *go = g + 3 * S;
  if (bhh) {
    for (int q = 0; q < 4; q++) add_portable(n, g + q * S, bhh + q * S);
  }
  recur_vsigmoid(gi, gi, (size_t)n);
  recur_vsigmoid(gf, gf, (size_t)n);
  recur_vtanh(gg, gg, (size_t)n);
  recur_vsigmoid(go, go, (size_t)n);
  for (int k = 0; k < n; k++) c[k] = gf[k] * cp[k] + gi[k] * gg[k];
  recur_vtanh(c, tc, (size_t)n);
  for (int k = 0; k < n; k++) h[k] = go[k] * tc[k];
}

#if defined(__x86_64__)
#include "vecmath_avx2.h"
#include "vecmath_avx512.h"

// The same row in one pass over the hidden units, a vector of units at a time: the four gates,
// c, tanh(c) and h of those units stay in registers (the array passes above read and wrote the
// gates five times, and called the dispatched vector math four times per row). The same
// operations in the same order on each element as the portable passes with this ISA's vector
// math, so the results are those passes' bits.
#define RECUR_LSTM_ROW_BODY(VEC, LOAD, STORE, ADD, MUL, SIGMOID, TANH)                   \
  {                                                                                     \
    VEC pi = LOAD(g + j), pf = LOAD(g + S + j), pg = LOAD(g + 2 * S + j);               \
    VEC po = LOAD(g + 3 * S + j);                                                       \
    if (bhh) {                                                                          \
      pi = ADD(pi, LOAD(bhh + j));                                                      \
      pf = ADD(pf, LOAD(bhh + S + j));                                                  \
      pg = ADD(pg, LOAD(bhh + 2 * S + j));                                              \
      po = ADD(po, LOAD(bhh + 3 * S + j));                                              \
    }                                                                                   \
    VEC vi = SIGMOID(pi), vf = SIGMOID(pf), vg = TANH(pg), vo = SIGMOID(po);            \
    VEC vc = ADD(MUL(vf, LOAD(cp + j)), MUL(vi, vg));                                   \
    VEC vt = TANH(vc);                                                                  \
    STORE(g + j, vi);                                                                   \
    STORE(g + S + j, vf);                                                               \
    STORE(g + 2 * S + j, vg);                                                           \
    STORE(g + 3 * S + j, vo);                                                           \
    STORE(c + j, vc);                                                                   \
    STORE(tc + j, vt);                                                                  \
    STORE(h + j, MUL(vo, vt));                                                          \
  }

RECUR_TARGET_AVX512 static void lstm_row_avx512(int n, int S, float *restrict g, const float *restrict bhh,
                                                const float *restrict cp, float *restrict c,
                                                float *restrict tc, float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm512_loadu_ps(p)
#define STORE_FULL(p, v) _mm512_storeu_ps((p), (v))
  for (; j + 16 <= n; j += 16) {
    RECUR_LSTM_ROW_BODY(__m512, LOAD_FULL, STORE_FULL, _mm512_add_ps, _mm512_mul_ps,
                        recur_sigmoid_avx512, recur_tanh_avx512)
  }
  if (j < n) {
    const __mmask16 m = recur_tail_mask_avx512(n - j);
#define LOAD_TAIL(p) _mm512_maskz_loadu_ps(m, p)
#define STORE_TAIL(p, v) _mm512_mask_storeu_ps((p), m, (v))
    RECUR_LSTM_ROW_BODY(__m512, LOAD_TAIL, STORE_TAIL, _mm512_add_ps, _mm512_mul_ps,
                        recur_sigmoid_avx512, recur_tanh_avx512)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}

RECUR_TARGET_AVX2 static void lstm_row_avx2(int n, int S, float *restrict g, const float *restrict bhh,
                                            const float *restrict cp, float *restrict c,
                                            float *restrict tc, float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm256_loadu_ps(p)
#define STORE_FULL(p, v) _mm256_storeu_ps((p), (v))
  for (; j + 8 <= n; j += 8) {
    RECUR_LSTM_ROW_BODY(__m256, LOAD_FULL, STORE_FULL, _mm256_add_ps, _mm256_mul_ps,
                        recur_sigmoid_avx2, recur_tanh_avx2)
  }
  if (j < n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#define LOAD_TAIL(p) _mm256_maskload_ps((p), m)
#define STORE_TAIL(p, v) _mm256_maskstore_ps((p), m, (v))
    RECUR_LSTM_ROW_BODY(__m256, LOAD_TAIL, STORE_TAIL, _mm256_add_ps, _mm256_mul_ps,
                        recur_sigmoid_avx2, recur_tanh_avx2)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}
#undef RECUR_LSTM_ROW_BODY
#endif

typedef void (*lstm_row_fn)(int n, int S, float *g, const float *bhh, const float *cp, float *c,
                            float *tc, float *h);

/// Rows per chunk so that a chunk has at least ~4K elements (smaller jobs stay on the caller).
static int row_grain(int width) { return width >= 4096 ? 1 : 4096 / (width > 0 ? width : 1); }

typedef struct {
  int H;
  float *gates, *c, *tanh_c, *h, *dc, *dgates, *xw, *hh, *dgx, *dgh, *dp;
  const float *bhh, *c_prev, *cgates, *ctanh_c, *dh, *act, *chh, *h_prev;
} cell_job;

static void lstm_forward_rows(void *p, int b0, int b1) {
  const cell_job *j = p;
  const int H = j->H, G = 4 * H;
  lstm_row_fn row = RECUR_CELL_PICK(lstm_row);
  for (int b = b0; b < b1; b++) {
    size_t o = (size_t)b * H;
    row(H, H, j->gates + (size_t)b * G, j->bhh, j->c_prev + o, j->c + o, j->tanh_c + o, j->h + o);
  }
}

void recur_lstm_forward_step(int B, int H, float *gates, const float *bhh,
                             const float *c_prev, float *c, float *tanh_c, float *h) {
  cell_job j = {.H = H, .gates = gates, .bhh = bhh, .c_prev = c_prev, .c = c, .tanh_c = tanh_c, .h = h};
  recur_parallel_for_grain(B, row_grain(4 * H), lstm_forward_rows, &j);
}

// MARK: - LSTM recurrence split by hidden units

typedef struct {
  int T, B, H, reverse, slices;
  const int *bounds;
  float *gates;
  const float *const *packed;
  const float *bhh;
  float *states, *cells, *tanh_cells;
  const int *lengths;
  float *output;
  long output_stride;
  atomic_int *claimed;  // [T·slices]: 1 once a thread has taken slice p of step s
  atomic_int *done;     // [T]: slices of step s finished
} lstm_sequence_job;

/// Waits until *p >= v: spinning, then yielding the core (a part the OS has descheduled, or a
/// busy machine, must not be waited for at full speed).
static void wait_at_least(atomic_int *p, int v) {
  for (int spins = 0; atomic_load_explicit(p, memory_order_acquire) < v; spins++) {
#if defined(__x86_64__)
    if (spins < 20000) {
      _mm_pause();
      continue;
    }
#endif
    sched_yield();
  }
}

/// Step t of hidden units [bounds[p], bounds[p+1]) for all B rows: the GEMM adds h_prev·W_hhᵀ
/// of those units' four gate columns to the input projections, then the cell (see
/// recur_lstm_forward_sequence).
static void lstm_slice_step(const lstm_sequence_job *j, lstm_row_fn row, int t, int p) {
  const int B = j->B, H = j->H, G = 4 * H, u0 = j->bounds[p], n = j->bounds[p + 1] - u0;
  const size_t prev = (size_t)(j->reverse ? t + 1 : t) * B * H, next = (size_t)(j->reverse ? t : t + 1) * B * H;
  float *gt = j->gates + (size_t)t * B * G;
  float *C[4] = {gt + u0, gt + H + u0, gt + 2 * H + u0, gt + 3 * H + u0};
  recur_sgemm_packed_multi(B, H, j->states + prev, H, 4, j->packed + 4 * p, 1.0f, C, G);
  for (int b = 0; b < B; b++) {
    size_t o = (size_t)b * H + u0;
    float *cp = j->cells + prev + o, *c = j->cells + next + o;
    float *hp = j->states + prev + o, *h = j->states + next + o;
    row(n, H, gt + (size_t)b * G + u0, j->bhh ? j->bhh + u0 : NULL, cp, c,
        j->tanh_cells + (size_t)t * B * H + o, h);
    float *out = j->output + ((size_t)t * B + b) * j->output_stride + u0;
    if (j->lengths && t >= j->lengths[b]) {
      memcpy(c, cp, sizeof(float) * (size_t)n);
      memcpy(h, hp, sizeof(float) * (size_t)n);
      memset(out, 0, sizeof(float) * (size_t)n);
    } else {
      memcpy(out, h, sizeof(float) * (size_t)n);
    }
  }
}

/// Pool part `part` of `nparts`. Each step's slices are claimed, not assigned: a part takes its
/// own slice first (the one whose weights its core holds), then any slice nobody has taken yet,
/// then waits for the step to be finished before it begins the next (which reads all of h_prev).
/// A part the OS has not scheduled yet, or a pool that runs everything on the caller, holds
/// nothing up: the other parts do its slices. A part waits only for slices being computed.
static void lstm_sequence_task(void *ctx, int part, int nparts) {
  const lstm_sequence_job *j = ctx;
  lstm_row_fn row = RECUR_CELL_PICK(lstm_row);
  const int S = j->slices, first = (int)((long)S * part / nparts);
  for (int s = 0; s < j->T; s++) {
    if (s > 0) wait_at_least(j->done + s - 1, S);
    int t = j->reverse ? j->T - 1 - s : s;
    for (int k = 0; k < S; k++) {
      int p = (first + k) % S, free = 0;
      if (atomic_compare_exchange_strong(j->claimed + (size_t)s * S + p, &free, 1)) {
        lstm_slice_step(j, row, t, p);
        atomic_fetch_add_explicit(j->done + s, 1, memory_order_release);
      }
    }
  }
}

void recur_lstm_forward_sequence(int T, int B, int H, int reverse, float *gates,
                                 const float *const *packed, int slices, const int *bounds,
                                 const float *bhh, float *states, float *cells, float *tanh_cells,
                                 const int *lengths, float *output, long output_stride) {
  if (T <= 0 || B <= 0 || H <= 0 || slices <= 0) return;
  size_t flags = (size_t)T * (size_t)(slices + 1);
  atomic_int *claimed = recur_aligned_alloc(sizeof(atomic_int) * flags);
  for (size_t i = 0; i < flags; i++) atomic_init(claimed + i, 0);
  lstm_sequence_job j = {.T = T, .B = B, .H = H, .reverse = reverse, .slices = slices,
                         .bounds = bounds, .gates = gates, .packed = packed, .bhh = bhh,
                         .states = states, .cells = cells, .tanh_cells = tanh_cells,
                         .lengths = lengths, .output = output, .output_stride = output_stride,
                         .claimed = claimed, .done = claimed + (size_t)T * slices};
  recur_pool_run(slices, lstm_sequence_task, &j);
  free(claimed);
}

static void lstm_backward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 4 * H;
  for (int b = b0; b < b1; b++) {
    RECUR_CELL_PICK(lstm_backward)(H, jb->cgates + (size_t)b * G, jb->c_prev + (size_t)b * H,
                                   jb->ctanh_c + (size_t)b * H, jb->dh + (size_t)b * H,
                                   jb->dc + (size_t)b * H, jb->dgates + (size_t)b * G);
  }
}

void recur_lstm_backward_step(int B, int H, const float *gates, const float *c_prev, const float *tanh_c,
                              const float *dh, float *dc, float *dgates) {
  cell_job j = {.H = H, .cgates = gates, .c_prev = c_prev, .ctanh_c = tanh_c, .dh = dh, .dc = dc, .dgates = dgates};
  recur_parallel_for_grain(B, row_grain(4 * H), lstm_backward_rows, &j);
}

// MARK: - GRU forward, one pass per row

/// n += r ⊙ (W_hn h + b_hn)
static void gru_candidate(int H, const float *restrict rg, const float *restrict hn, float *restrict n) {
  for (int j = 0; j < H; j++) n[j] += rg[j] * hn[j];
}

/// h = (1 − z) ⊙ n + z ⊙ h_prev
static void gru_state(int H, const float *restrict z, const float *restrict n, const float *restrict hp,
                      float *restrict h) {
  for (int j = 0; j < H; j++) h[j] = (1.0f - z[j]) * n[j] + z[j] * hp[j];
}

/// One batch row of the GRU forward step on the portable path: hh (W_hh h, r|z|n blocks of H)
/// gets b_hh, x (the input projections, r|z|n) gets r and z activated in place, then
/// n = tanh(x_n + r ⊙ hh_n) and h = (1 − z) ⊙ n + z ⊙ h_prev, one array pass after another.
static void gru_row_portable(int H, float *restrict x, float *restrict hh, const float *restrict bhh,
                             const float *restrict hp, float *restrict h) {
  if (bhh) add_portable(3 * H, hh, bhh);
  add_portable(2 * H, x, hh);
  recur_vsigmoid(x, x, (size_t)2 * H);
  float *n = x + 2 * H;
  gru_candidate(H, x, hh + 2 * H, n);
  recur_vtanh(n, n, (size_t)H);
  gru_state(H, x + H, n, hp, h);
}

#if defined(__x86_64__)
// The same row in one pass, a vector of units at a time: the three gates of those units stay in
// registers (the array passes above went over the row six times and called the dispatched vector
// math twice). The same operations in the same order on each element as the portable passes
// with this ISA's vector math, so the results are those passes' bits.
#define RECUR_GRU_ROW_BODY(VEC, LOAD, STORE, ADD, SUB, MUL, SET1, SIGMOID, TANH)          \
  {                                                                                     \
    VEC hr = LOAD(hh + j), hz = LOAD(hh + H + j), hn = LOAD(hh + 2 * H + j);            \
    if (bhh) {                                                                          \
      hr = ADD(hr, LOAD(bhh + j));                                                      \
      hz = ADD(hz, LOAD(bhh + H + j));                                                  \
      hn = ADD(hn, LOAD(bhh + 2 * H + j));                                              \
      STORE(hh + j, hr);                                                                \
      STORE(hh + H + j, hz);                                                            \
      STORE(hh + 2 * H + j, hn);                                                        \
    }                                                                                   \
    VEC r = SIGMOID(ADD(LOAD(x + j), hr)), z = SIGMOID(ADD(LOAD(x + H + j), hz));       \
    VEC n = TANH(ADD(LOAD(x + 2 * H + j), MUL(r, hn)));                                 \
    STORE(x + j, r);                                                                    \
    STORE(x + H + j, z);                                                                \
    STORE(x + 2 * H + j, n);                                                            \
    STORE(h + j, ADD(MUL(SUB(SET1(1.0f), z), n), MUL(z, LOAD(hp + j))));                \
  }

RECUR_TARGET_AVX512 static void gru_row_avx512(int H, float *restrict x, float *restrict hh,
                                               const float *restrict bhh, const float *restrict hp,
                                               float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm512_loadu_ps(p)
#define STORE_FULL(p, v) _mm512_storeu_ps((p), (v))
  for (; j + 16 <= H; j += 16) {
    RECUR_GRU_ROW_BODY(__m512, LOAD_FULL, STORE_FULL, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps,
                       _mm512_set1_ps, recur_sigmoid_avx512, recur_tanh_avx512)
  }
  if (j < H) {
    const __mmask16 m = recur_tail_mask_avx512(H - j);
#define LOAD_TAIL(p) _mm512_maskz_loadu_ps(m, p)
#define STORE_TAIL(p, v) _mm512_mask_storeu_ps((p), m, (v))
    RECUR_GRU_ROW_BODY(__m512, LOAD_TAIL, STORE_TAIL, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps,
                       _mm512_set1_ps, recur_sigmoid_avx512, recur_tanh_avx512)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}

RECUR_TARGET_AVX2 static void gru_row_avx2(int H, float *restrict x, float *restrict hh,
                                           const float *restrict bhh, const float *restrict hp,
                                           float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm256_loadu_ps(p)
#define STORE_FULL(p, v) _mm256_storeu_ps((p), (v))
  for (; j + 8 <= H; j += 8) {
    RECUR_GRU_ROW_BODY(__m256, LOAD_FULL, STORE_FULL, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps,
                       _mm256_set1_ps, recur_sigmoid_avx2, recur_tanh_avx2)
  }
  if (j < H) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(H - j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#define LOAD_TAIL(p) _mm256_maskload_ps((p), m)
#define STORE_TAIL(p, v) _mm256_maskstore_ps((p), m, (v))
    RECUR_GRU_ROW_BODY(__m256, LOAD_TAIL, STORE_TAIL, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps,
                       _mm256_set1_ps, recur_sigmoid_avx2, recur_tanh_avx2)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}
#undef RECUR_GRU_ROW_BODY
#endif

static void gru_forward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 3 * H;
  void (*row)(int, float *, float *, const float *, const float *, float *) = RECUR_CELL_PICK(gru_row);
  for (int b = b0; b < b1; b++) {
    row(H, jb->xw + (size_t)b * G, jb->hh + (size_t)b * G, jb->bhh, jb->h_prev + (size_t)b * H,
        jb->h + (size_t)b * H);
  }
}

void recur_gru_forward_step(int B, int H, float *xw, float *hh, const float *bhh,
                            const float *h_prev, float *h) {
  cell_job j = {.H = H, .xw = xw, .hh = hh, .bhh = bhh, .h_prev = h_prev, .h = h};
  recur_parallel_for_grain(B, row_grain(3 * H), gru_forward_rows, &j);
}

static void gru_backward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 3 * H;
  for (int b = b0; b < b1; b++) {
    RECUR_CELL_PICK(gru_backward)(H, jb->act + (size_t)b * G, jb->chh + (size_t)b * G + 2 * H,
                                  jb->h_prev + (size_t)b * H, jb->dh + (size_t)b * H,
                                  jb->dgx + (size_t)b * G, jb->dgh + (size_t)b * G,
                                  jb->dp + (size_t)b * H);
  }
}

void recur_gru_backward_step(int B, int H, const float *act, const float *hh, const float *h_prev,
                             const float *dh, float *dgx, float *dgh, float *dh_prev_direct) {
  cell_job j = {.H = H, .act = act, .chh = hh, .h_prev = h_prev, .dh = dh, .dgx = dgx, .dgh = dgh, .dp = dh_prev_direct};
  recur_parallel_for_grain(B, row_grain(3 * H), gru_backward_rows, &j);
}

/// The Elman step of n units on the portable path: h = pre + b_hh, then tanh or ReLU in place.
static void rnn_row_portable(int n, const float *restrict pre, const float *restrict bhh, int relu,
                             float *restrict h) {
  memcpy(h, pre, sizeof(float) * (size_t)n);
  if (bhh) add_portable(n, h, bhh);
  if (relu) {
    for (int i = 0; i < n; i++) h[i] = h[i] > 0.0f ? h[i] : 0.0f;
  } else {
    recur_vtanh(h, h, (size_t)n);
  }
}

#if defined(__x86_64__)
// The same in one pass a vector at a time (the passes above copied the row, added the bias and
// applied the activation one after another). max(v, 0) is `v > 0 ? v : 0` (NaN gives 0), so the
// results are the portable passes' bits with this ISA's tanh.
#define RECUR_RNN_ROW_BODY(VEC, LOAD, STORE, ADD, MAX, ZERO, TANH) \
  {                                                                \
    VEC v = LOAD(pre + j);                                         \
    if (bhh) v = ADD(v, LOAD(bhh + j));                            \
    STORE(h + j, relu ? MAX(v, ZERO()) : TANH(v));                 \
  }

RECUR_TARGET_AVX512 static void rnn_row_avx512(int n, const float *restrict pre, const float *restrict bhh,
                                               int relu, float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm512_loadu_ps(p)
#define STORE_FULL(p, v) _mm512_storeu_ps((p), (v))
  for (; j + 16 <= n; j += 16) {
    RECUR_RNN_ROW_BODY(__m512, LOAD_FULL, STORE_FULL, _mm512_add_ps, _mm512_max_ps, _mm512_setzero_ps,
                       recur_tanh_avx512)
  }
  if (j < n) {
    const __mmask16 m = recur_tail_mask_avx512(n - j);
#define LOAD_TAIL(p) _mm512_maskz_loadu_ps(m, p)
#define STORE_TAIL(p, v) _mm512_mask_storeu_ps((p), m, (v))
    RECUR_RNN_ROW_BODY(__m512, LOAD_TAIL, STORE_TAIL, _mm512_add_ps, _mm512_max_ps, _mm512_setzero_ps,
                       recur_tanh_avx512)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}

RECUR_TARGET_AVX2 static void rnn_row_avx2(int n, const float *restrict pre, const float *restrict bhh,
                                           int relu, float *restrict h) {
  int j = 0;
#define LOAD_FULL(p) _mm256_loadu_ps(p)
#define STORE_FULL(p, v) _mm256_storeu_ps((p), (v))
  for (; j + 8 <= n; j += 8) {
    RECUR_RNN_ROW_BODY(__m256, LOAD_FULL, STORE_FULL, _mm256_add_ps, _mm256_max_ps, _mm256_setzero_ps,
                       recur_tanh_avx2)
  }
  if (j < n) {
    const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
#define LOAD_TAIL(p) _mm256_maskload_ps((p), m)
#define STORE_TAIL(p, v) _mm256_maskstore_ps((p), m, (v))
    RECUR_RNN_ROW_BODY(__m256, LOAD_TAIL, STORE_TAIL, _mm256_add_ps, _mm256_max_ps, _mm256_setzero_ps,
                       recur_tanh_avx2)
#undef LOAD_TAIL
#undef STORE_TAIL
  }
#undef LOAD_FULL
#undef STORE_FULL
}
#undef RECUR_RNN_ROW_BODY
#endif

void recur_rnn_forward_step(int B, int H, const float *pre, const float *bhh, int relu, float *h) {
  void (*row)(int, const float *, const float *, int, float *) = RECUR_CELL_PICK(rnn_row);
  for (int b = 0; b < B; b++) row(H, pre + (size_t)b * H, bhh, relu, h + (size_t)b * H);
}

void recur_rnn_backward_step(int B, int H, const float *h, const float *dh, int relu, float *dpre) {
  RECUR_CELL_PICK(rnn_backward)((size_t)B * H, h, dh, relu, dpre);
}

typedef struct {
  int M, N;
  float *x, *out;
  const float *cx, *bias;
} rows_job;

static void add_row_bias_rows(void *p, int i0, int i1) {
  const rows_job *j = p;
  for (int i = i0; i < i1; i++) {
    float *row = j->x + (size_t)i * j->N;
    RECUR_CELL_PICK(add)(j->N, row, j->bias);
  }
}

void recur_add_row_bias(int M, int N, float *x, const float *bias) {
  rows_job j = {.M = M, .N = N, .x = x, .bias = bias};
  recur_parallel_for_grain(M, row_grain(N) * 4, add_row_bias_rows, &j);
}

enum { SUM_COLUMNS = 64 };  // columns per parallel-for index of recur_sum_rows

/// Column blocks [c0, c1) of 64: each column summed over all rows in row order.
static void sum_rows_columns(void *p, int c0, int c1) {
  const rows_job *j = p;
  int j0 = c0 * SUM_COLUMNS, j1 = c1 * SUM_COLUMNS < j->N ? c1 * SUM_COLUMNS : j->N;
  RECUR_CELL_PICK(sum_columns)(j->M, j->N, j->cx + j0, j1 - j0, j->out + j0);
}

void recur_sum_rows(int M, int N, const float *x, float *out) {
  rows_job j = {.M = M, .N = N, .cx = x, .out = out};
  int blocks = (N + SUM_COLUMNS - 1) / SUM_COLUMNS;
  int grain = M >= 4096 ? 1 : (4096 / (M > 0 ? M : 1) + SUM_COLUMNS - 1) / SUM_COLUMNS;
  recur_parallel_for_grain(blocks, grain > 0 ? grain : 1, sum_rows_columns, &j);
}
