// minGRU / minLSTM (Feng et al. 2024): gates from the input alone, then the linear recurrence
// h_t = a_t ⊙ h_{t−1} + b_t. Forward: gates per row (t, b) with the vectorised sigmoid, then the
// scan per column (b, j) — columns are independent, so the threads split them and no fix-up pass is
// needed. Backward: the reverse scan per column, then the gate gradients per row (the decays a are
// kept from the forward; the other gates are recomputed from the projections).
//
// The scan runs in linear space: a_t ∈ (0, 1), so the sequential recurrence neither overflows nor
// underflows (the log-space form of the paper matters for its prefix-product formulation, which a
// column-parallel CPU scan does not use). The minLSTM's normalised forget gate f/(f + i) is taken
// in log space, σ(log f − log i), where f + i underflows.
#include "recur_scan.h"
#include "recur_kernels.h"
#include "internal.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int gate_count(int kind) { return kind == RECUR_MIN_LSTM ? 3 : 2; }

static float log_sigmoid(float x) { return x >= 0 ? -log1pf(expf(-x)) : x - log1pf(expf(x)); }

// The pointwise loops of one row, compiled once per instruction set (the same source; the
// compiler vectorises the selects with the wider registers) and chosen by the calling thread's ISA.
#define RECUR_MIN_SCAN_LOOPS(sfx, attribute)                                                          \
  attribute static void gru_gates_##sfx(int H, const float *restrict k, const float *restrict kh,        \
                                        const float *restrict z, const float *restrict s3,              \
                                        float *restrict tmp, float *restrict b) {                       \
    for (int j = 0; j < H; j++) tmp[j] = -k[j];                                                          \
    for (int j = 0; j < H; j++) b[j] = z[j] * (kh[j] >= 0 ? kh[j] + 0.5f : s3[j]);                       \
  }                                                                                                      \
  attribute static int lstm_gates_##sfx(int H, const float *restrict kh, const float *restrict f,       \
                                        const float *restrict i, const float *restrict s3,              \
                                        float *restrict a, float *restrict b) {                         \
    int underflow = 0;                                                                                   \
    for (int j = 0; j < H; j++) {                                                                        \
      float sum = f[j] + i[j];                                                                           \
      underflow |= !(sum > 1e-30f);                                                                      \
      a[j] = f[j] / sum;                                                                                 \
      b[j] = i[j] / sum * (kh[j] >= 0 ? kh[j] + 0.5f : s3[j]);                                           \
    }                                                                                                    \
    return underflow;                                                                                    \
  }                                                                                                      \
  attribute static void gru_gradients_##sfx(int H, const float *restrict kh, const float *restrict z,   \
                                            const float *restrict s3, const float *restrict a,          \
                                            const float *restrict carry, const float *restrict previous,\
                                            float *restrict dk, float *restrict dkh) {                  \
    for (int j = 0; j < H; j++) {                                                                        \
      int positive = kh[j] >= 0;                                                                         \
      float candidate = positive ? kh[j] + 0.5f : s3[j], slope = positive ? 1.0f : s3[j] * (1.0f - s3[j]); \
      float gB = carry[j], gA = gB * previous[j];                                                        \
      dk[j] = (gB * candidate - gA) * z[j] * a[j];                                                       \
      dkh[j] = gB * z[j] * slope;                                                                        \
    }                                                                                                    \
  }                                                                                                      \
  attribute static void lstm_gradients_##sfx(int H, const float *restrict kh, const float *restrict f,  \
                                             const float *restrict i, const float *restrict s3,         \
                                             const float *restrict a, const float *restrict carry,      \
                                             const float *restrict previous, float *restrict df,        \
                                             float *restrict di, float *restrict dkh) {                 \
    for (int j = 0; j < H; j++) {                                                                        \
      int positive = kh[j] >= 0;                                                                         \
      float candidate = positive ? kh[j] + 0.5f : s3[j], slope = positive ? 1.0f : s3[j] * (1.0f - s3[j]); \
      float gB = carry[j], gA = gB * previous[j], rest = 1.0f - a[j];                                    \
      float gd = (gA - gB * candidate) * a[j] * rest;                                                    \
      df[j] = gd * (1.0f - f[j]);                                                                        \
      di[j] = -gd * (1.0f - i[j]);                                                                       \
      dkh[j] = gB * rest * slope;                                                                        \
    }                                                                                                    \
  }

RECUR_MIN_SCAN_LOOPS(portable, )
#if defined(__x86_64__)
RECUR_MIN_SCAN_LOOPS(avx2, __attribute__((target("avx2,fma"))))
RECUR_MIN_SCAN_LOOPS(avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))))
#endif

/// Scratch of one row's gates: sigmoids of the gate pre-activations and of the candidate.
typedef struct {
  float *s1, *s2, *s3, *tmp;
} RowScratch;

static RowScratch row_scratch(int H) {
  float *base = malloc(sizeof(float) * 4 * (size_t)H);
  return (RowScratch){base, base + H, base + 2 * (size_t)H, base + 3 * (size_t)H};
}

/// The decay a and the input b of one row (s holds the sigmoids on the way).
static void row_gates(int isa, int kind, int H, const float *p, float *a, float *b, RowScratch s) {
  const float *kh = p + (size_t)(gate_count(kind) - 1) * H;
  recur_vsigmoid(kh, s.s3, (size_t)H);
  recur_vsigmoid(p, s.s1, (size_t)H);
  if (kind == RECUR_MIN_GRU) {
    RECUR_PICK(isa, gru_gates)(H, p, kh, s.s1, s.s3, s.tmp, b);
    recur_vsigmoid(s.tmp, a, (size_t)H);  // 1 − z without cancellation
  } else {
    recur_vsigmoid(p + H, s.s2, (size_t)H);
    if (RECUR_PICK(isa, lstm_gates)(H, kh, s.s1, s.s2, s.s3, a, b)) {
      // Both gates below ~1e-30: the normalised forget gate in log space, σ(log f − log i).
      for (int j = 0; j < H; j++) {
        if (s.s1[j] + s.s2[j] > 1e-30f) continue;
        a[j] = 1.0f / (1.0f + expf(log_sigmoid(p[H + j]) - log_sigmoid(p[j])));
        b[j] = (1.0f - a[j]) * (kh[j] >= 0 ? kh[j] + 0.5f : s.s3[j]);
      }
    }
  }
}

typedef struct {
  int isa, kind, T, B, H;
  const float *pre, *h0, *h, *dh;
  float *a, *out, *dpre, *dh0, *carry;
} ScanJob;

static void forward_gates(void *ctx, int begin, int end) {
  ScanJob *job = ctx;
  int H = job->H, G = gate_count(job->kind);
  RowScratch s = row_scratch(H);
  for (int r = begin; r < end; r++)
    row_gates(job->isa, job->kind, H, job->pre + (size_t)r * G * H, job->a + (size_t)r * H, job->out + (size_t)r * H, s);
  free(s.s1);
}

/// h_t = a_t h_{t−1} + b_t over the columns [begin, end) of the B·H, in place (out holds b).
static void forward_scan(void *ctx, int begin, int end) {
  ScanJob *job = ctx;
  size_t N = (size_t)job->B * job->H;
  const float *previous = job->h0 + begin;
  for (int t = 0; t < job->T; t++) {
    const float *a = job->a + t * N + begin;
    float *h = job->out + t * N + begin;
    for (int c = 0; c < end - begin; c++) h[c] = a[c] * previous[c] + h[c];
    previous = h;
  }
}

void recur_min_scan_gates(int kind, int T, int B, int H, const float *pre, float *a, float *b) {
  ScanJob job = {.isa = recur_active_ops()->isa, .kind = kind, .T = T, .B = B, .H = H, .pre = pre, .a = a, .out = b};
  recur_parallel_for_grain(T * B, 8, forward_gates, &job);
}

void recur_min_scan_linear(int T, int B, int H, const float *a, const float *h0, float *h) {
  ScanJob job = {.T = T, .B = B, .H = H, .h0 = h0, .a = (float *)a, .out = h};
  recur_parallel_for_grain(B * H, 256, forward_scan, &job);
}

void recur_min_scan_forward(int kind, int T, int B, int H, const float *pre, const float *h0, float *h, float *a) {
  if (T <= 0 || B <= 0 || H <= 0) return;
  recur_min_scan_gates(kind, T, B, H, pre, a, h);
  recur_min_scan_linear(T, B, H, a, h0, h);
}

/// Reverse scan over columns: carry_t = dh_t + a_{t+1} carry_{t+1} (∂L/∂h_t in full), stored in
/// job->carry; dh0 = a_0 carry_0.
static void backward_scan(void *ctx, int begin, int end) {
  ScanJob *job = ctx;
  size_t N = (size_t)job->B * job->H;
  int width = end - begin;
  for (int t = job->T - 1; t >= 0; t--) {
    const float *dh = job->dh + t * N + begin;
    float *carry = job->carry + t * N + begin;
    if (t == job->T - 1) {
      memcpy(carry, dh, sizeof(float) * (size_t)width);
    } else {
      const float *a = job->a + (t + 1) * N + begin, *next = job->carry + (t + 1) * N + begin;
      for (int c = 0; c < width; c++) carry[c] = dh[c] + a[c] * next[c];
    }
  }
  const float *a0 = job->a + begin, *carry0 = job->carry + begin;
  for (int c = 0; c < width; c++) job->dh0[begin + c] = a0[c] * carry0[c];
}

static void backward_gates(void *ctx, int begin, int end) {
  ScanJob *job = ctx;
  int H = job->H, G = gate_count(job->kind), B = job->B;
  RowScratch s = row_scratch(H);
  for (int r = begin; r < end; r++) {
    const float *p = job->pre + (size_t)r * G * H, *kh = p + (size_t)(G - 1) * H, *a = job->a + (size_t)r * H;
    const float *carry = job->carry + (size_t)r * H;
    const float *previous = r >= B ? job->h + (size_t)(r - B) * H : job->h0 + (size_t)r * H;
    float *dp = job->dpre + (size_t)r * G * H, *dkh = dp + (size_t)(G - 1) * H;
    recur_vsigmoid(kh, s.s3, (size_t)H);
    recur_vsigmoid(p, s.s1, (size_t)H);
    if (job->kind == RECUR_MIN_GRU) {
      RECUR_PICK(job->isa, gru_gradients)(H, kh, s.s1, s.s3, a, carry, previous, dp, dkh);
    } else {
      recur_vsigmoid(p + H, s.s2, (size_t)H);
      RECUR_PICK(job->isa, lstm_gradients)(H, kh, s.s1, s.s2, s.s3, a, carry, previous, dp, dp + H, dkh);
    }
  }
  free(s.s1);
}

void recur_min_scan_linear_reverse(int T, int B, int H, const float *a, const float *dh, float *carry, float *dh0) {
  ScanJob job = {.T = T, .B = B, .H = H, .a = (float *)a, .dh = dh, .carry = carry, .dh0 = dh0};
  recur_parallel_for_grain(B * H, 256, backward_scan, &job);
}

void recur_min_scan_gate_gradients(int kind, int T, int B, int H, const float *pre, const float *a, const float *h0,
                                   const float *h, const float *carry, float *dpre) {
  ScanJob job = {.isa = recur_active_ops()->isa, .kind = kind, .T = T, .B = B, .H = H, .pre = pre, .a = (float *)a, .h0 = h0, .h = h, .carry = (float *)carry,
                 .dpre = dpre};
  recur_parallel_for_grain(T * B, 8, backward_gates, &job);
}

void recur_min_scan_backward(int kind, int T, int B, int H, const float *pre, const float *a, const float *h0,
                             const float *h, const float *dh, float *dpre, float *dh0) {
  if (T <= 0 || B <= 0 || H <= 0) return;
  float *carry = malloc(sizeof(float) * (size_t)T * B * H);
  recur_min_scan_linear_reverse(T, B, H, a, dh, carry, dh0);
  recur_min_scan_gate_gradients(kind, T, B, H, pre, a, h0, h, carry, dpre);
  free(carry);
}
