// Fused pointwise kernels of the recurrent cells (see recur_cells.h). The forward rows are in
// recurrent_rows.c (one pass per row on AVX2 and AVX-512); the backward passes and the bias and
// column sums here are simple loops compiled once per instruction set. Each kernel works on batch
// rows independently, so it is split by rows over the thread pool (recur_parallel_for_grain): the
// other core would otherwise idle between the time steps' GEMMs. Every element is computed the
// same way whatever the split, so results do not depend on the thread count. The LSTM recurrence
// split by hidden units is in lstm_sequence.c.
#include "recur_cells.h"
#include "recur_kernels.h"
#include "internal.h"
#include "recurrent_rows.h"
#include <string.h>

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
  lstm_row_fn row = RECUR_CELL_PICK(recur_lstm_row);
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

static void gru_forward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 3 * H;
  gru_row_fn row = RECUR_CELL_PICK(recur_gru_row);
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

void recur_rnn_forward_step(int B, int H, const float *pre, const float *bhh, int relu, float *h) {
  rnn_row_fn row = RECUR_CELL_PICK(recur_rnn_row);
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
