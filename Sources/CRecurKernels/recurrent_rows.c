// The forward rows of the LSTM, GRU and Elman cells (see recurrent_rows.h). The portable rows make
// one array pass per operation with the dispatched vector math; the AVX2 and AVX-512 rows make one
// pass, a vector of units at a time, keeping the units' gates in registers through the whole
// cell. Every element goes through the same IEEE operations in the same order on every path (no
// fused multiply-adds), so a vector row gives the portable passes' bits with its ISA's vector math.
#include "recurrent_rows.h"
#include "recur_kernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

#pragma STDC FP_CONTRACT OFF

/// y += x
static void add_to(int n, float *restrict y, const float *restrict x) {
  for (int j = 0; j < n; j++) y[j] += x[j];
}

void recur_lstm_row_portable(int n, int S, float *restrict g, const float *restrict bhh, const float *restrict cp,
                       float *restrict c, float *restrict tc, float *restrict h) {
  float *gi = g, *gf = g + S, *gg = g + 2 * S, *go = g + 3 * S;
  if (bhh) {
    for (int q = 0; q < 4; q++) add_to(n, g + q * S, bhh + q * S);
  }
  recur_vsigmoid(gi, gi, (size_t)n);
  recur_vsigmoid(gf, gf, (size_t)n);
  recur_vtanh(gg, gg, (size_t)n);
  recur_vsigmoid(go, go, (size_t)n);
  for (int k = 0; k < n; k++) c[k] = gf[k] * cp[k] + gi[k] * gg[k];
  recur_vtanh(c, tc, (size_t)n);
  for (int k = 0; k < n; k++) h[k] = go[k] * tc[k];
}

void recur_gru_row_portable(int H, float *restrict x, float *restrict hh, const float *restrict bhh,
                      const float *restrict hp, float *restrict h) {
  if (bhh) add_to(3 * H, hh, bhh);
  add_to(2 * H, x, hh);
  recur_vsigmoid(x, x, (size_t)2 * H);
  float *n = x + 2 * H;
  const float *r = x, *z = x + H, *hn = hh + 2 * H;
  for (int j = 0; j < H; j++) n[j] += r[j] * hn[j];
  recur_vtanh(n, n, (size_t)H);
  for (int j = 0; j < H; j++) h[j] = (1.0f - z[j]) * n[j] + z[j] * hp[j];
}

void recur_rnn_row_portable(int n, const float *restrict pre, const float *restrict bhh, int relu, float *restrict h) {
  memcpy(h, pre, sizeof(float) * (size_t)n);
  if (bhh) add_to(n, h, bhh);
  if (relu) {
    for (int i = 0; i < n; i++) h[i] = h[i] > 0.0f ? h[i] : 0.0f;
  } else {
    recur_vtanh(h, h, (size_t)n);
  }
}

#if defined(__x86_64__)
#if !defined(RECUR_AVX512_MODEL)  // KernelTests builds the AVX-512 rows alone against a software model
#include "vecmath_avx2.h"
#endif
#include "vecmath_avx512.h"

// A row body is written once against an ISA's operations V##_ADD, V##_MUL, … and a memory access
// M##_LOAD / M##_STORE (full vectors, or the masked last vector with the mask `m`); the loop
// RECUR_ROWS_AVX2 / RECUR_ROWS_AVX512 runs it over units j = 0, W, 2W, … and then the tail.
#define AVX2_VEC __m256
#define AVX2_ADD _mm256_add_ps
#define AVX2_SUB _mm256_sub_ps
#define AVX2_MUL _mm256_mul_ps
#define AVX2_MAX _mm256_max_ps
#define AVX2_SET1 _mm256_set1_ps
#define AVX2_ZERO _mm256_setzero_ps
#define AVX2_SIGMOID recur_sigmoid_avx2
#define AVX2_TANH recur_tanh_avx2
#define AVX2_FULL_LOAD(p) _mm256_loadu_ps(p)
#define AVX2_FULL_STORE(p, v) _mm256_storeu_ps((p), (v))
#define AVX2_TAIL_LOAD(p) _mm256_maskload_ps((p), m)
#define AVX2_TAIL_STORE(p, v) _mm256_maskstore_ps((p), m, (v))
#define AVX512_VEC __m512
#define AVX512_ADD _mm512_add_ps
#define AVX512_SUB _mm512_sub_ps
#define AVX512_MUL _mm512_mul_ps
#define AVX512_MAX _mm512_max_ps
#define AVX512_SET1 _mm512_set1_ps
#define AVX512_ZERO _mm512_setzero_ps
#define AVX512_SIGMOID recur_sigmoid_avx512
#define AVX512_TANH recur_tanh_avx512
#define AVX512_FULL_LOAD(p) _mm512_loadu_ps(p)
#define AVX512_FULL_STORE(p, v) _mm512_storeu_ps((p), (v))
#define AVX512_TAIL_LOAD(p) _mm512_maskz_loadu_ps(m, p)
#define AVX512_TAIL_STORE(p, v) _mm512_mask_storeu_ps((p), m, (v))

#define RECUR_ROWS_AVX2(n, BODY)                                                                       \
  do {                                                                                                 \
    int j = 0;                                                                                         \
    for (; j + 8 <= (n); j += 8) BODY(AVX2, AVX2_FULL)                                                 \
    if (j < (n)) {                                                                                     \
      const __m256i m = _mm256_cmpgt_epi32(_mm256_set1_epi32((n) - j), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7)); \
      BODY(AVX2, AVX2_TAIL)                                                                            \
    }                                                                                                  \
  } while (0)

#define RECUR_ROWS_AVX512(n, BODY)                                                                     \
  do {                                                                                                 \
    int j = 0;                                                                                         \
    for (; j + 16 <= (n); j += 16) BODY(AVX512, AVX512_FULL)                                           \
    if (j < (n)) {                                                                                     \
      const __mmask16 m = recur_tail_mask_avx512((n) - j);                                             \
      BODY(AVX512, AVX512_TAIL)                                                                        \
    }                                                                                                  \
  } while (0)

// LSTM: the four gates, c, tanh(c) and h of units j… (the portable passes read and wrote the gates
// five times and called the vector math four times per row).
#define LSTM_ROW_BODY(V, M)                                                                            \
  {                                                                                                    \
    V##_VEC pi = M##_LOAD(g + j), pf = M##_LOAD(g + S + j), pg = M##_LOAD(g + 2 * S + j);              \
    V##_VEC po = M##_LOAD(g + 3 * S + j);                                                              \
    if (bhh) {                                                                                         \
      pi = V##_ADD(pi, M##_LOAD(bhh + j));                                                             \
      pf = V##_ADD(pf, M##_LOAD(bhh + S + j));                                                         \
      pg = V##_ADD(pg, M##_LOAD(bhh + 2 * S + j));                                                     \
      po = V##_ADD(po, M##_LOAD(bhh + 3 * S + j));                                                     \
    }                                                                                                  \
    V##_VEC vi = V##_SIGMOID(pi), vf = V##_SIGMOID(pf), vg = V##_TANH(pg), vo = V##_SIGMOID(po);       \
    V##_VEC vc = V##_ADD(V##_MUL(vf, M##_LOAD(cp + j)), V##_MUL(vi, vg));                              \
    V##_VEC vt = V##_TANH(vc);                                                                         \
    M##_STORE(g + j, vi);                                                                              \
    M##_STORE(g + S + j, vf);                                                                          \
    M##_STORE(g + 2 * S + j, vg);                                                                      \
    M##_STORE(g + 3 * S + j, vo);                                                                      \
    M##_STORE(c + j, vc);                                                                              \
    M##_STORE(tc + j, vt);                                                                             \
    M##_STORE(h + j, V##_MUL(vo, vt));                                                                 \
  }

// GRU: the three gates of units j… (the portable passes went over the row six times).
#define GRU_ROW_BODY(V, M)                                                                             \
  {                                                                                                    \
    V##_VEC hr = M##_LOAD(hh + j), hz = M##_LOAD(hh + H + j), hn = M##_LOAD(hh + 2 * H + j);           \
    if (bhh) {                                                                                         \
      hr = V##_ADD(hr, M##_LOAD(bhh + j));                                                             \
      hz = V##_ADD(hz, M##_LOAD(bhh + H + j));                                                         \
      hn = V##_ADD(hn, M##_LOAD(bhh + 2 * H + j));                                                     \
      M##_STORE(hh + j, hr);                                                                           \
      M##_STORE(hh + H + j, hz);                                                                       \
      M##_STORE(hh + 2 * H + j, hn);                                                                   \
    }                                                                                                  \
    V##_VEC r = V##_SIGMOID(V##_ADD(M##_LOAD(x + j), hr));                                             \
    V##_VEC z = V##_SIGMOID(V##_ADD(M##_LOAD(x + H + j), hz));                                         \
    V##_VEC n = V##_TANH(V##_ADD(M##_LOAD(x + 2 * H + j), V##_MUL(r, hn)));                            \
    M##_STORE(x + j, r);                                                                               \
    M##_STORE(x + H + j, z);                                                                           \
    M##_STORE(x + 2 * H + j, n);                                                                       \
    M##_STORE(h + j, V##_ADD(V##_MUL(V##_SUB(V##_SET1(1.0f), z), n), V##_MUL(z, M##_LOAD(hp + j))));   \
  }

// Elman: bias and activation in one pass; max(v, 0) is `v > 0 ? v : 0` (NaN gives 0).
#define RNN_ROW_BODY(V, M)                                                                             \
  {                                                                                                    \
    V##_VEC v = M##_LOAD(pre + j);                                                                     \
    if (bhh) v = V##_ADD(v, M##_LOAD(bhh + j));                                                        \
    M##_STORE(h + j, relu ? V##_MAX(v, V##_ZERO()) : V##_TANH(v));                                     \
  }

#define RECUR_DEFINE_ROWS(isa, TARGET, LOOP)                                                           \
  TARGET void recur_lstm_row_##isa(int n, int S, float *restrict g, const float *restrict bhh,         \
                             const float *restrict cp, float *restrict c, float *restrict tc,          \
                             float *restrict h) {                                                      \
    LOOP(n, LSTM_ROW_BODY);                                                                            \
  }                                                                                                    \
  TARGET void recur_gru_row_##isa(int H, float *restrict x, float *restrict hh, const float *restrict bhh, \
                            const float *restrict hp, float *restrict h) {                             \
    LOOP(H, GRU_ROW_BODY);                                                                             \
  }                                                                                                    \
  TARGET void recur_rnn_row_##isa(int n, const float *restrict pre, const float *restrict bhh, int relu, \
                            float *restrict h) {                                                       \
    LOOP(n, RNN_ROW_BODY);                                                                             \
  }

#if !defined(RECUR_AVX512_MODEL)
RECUR_DEFINE_ROWS(avx2, RECUR_TARGET_AVX2, RECUR_ROWS_AVX2)
#endif
RECUR_DEFINE_ROWS(avx512, RECUR_TARGET_AVX512, RECUR_ROWS_AVX512)
#endif
