// The portable reservoir kernels: plain C, used when the CPU has no AVX2+FMA, under
// RECUR_ISA=portable, and as the reference the SIMD paths are tested against.
#include <math.h>

#include "reservoir_internal.h"

static void vtanh_f64_portable(const double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = tanh(x[i]);
}

static double dot_f64_portable(int n, const double *a, const double *b) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

static void csr_matvec_portable(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = rs[i], end = rs[i + 1];
    for (; k + 4 <= end; k += 4) {
      s0 += v[k] * x[ci[k]];
      s1 += v[k + 1] * x[ci[k + 1]];
      s2 += v[k + 2] * x[ci[k + 2]];
      s3 += v[k + 3] * x[ci[k + 3]];
    }
    for (; k < end; k++) s0 += v[k] * x[ci[k]];
    y[i] = (s0 + s1) + (s2 + s3);
  }
}

static void esn_finish_portable(const recur_esn_step_job *j, int begin, int end) {
  double *work = j->work;
  if (j->inputs == 1) {
    const double u0 = j->ut[0];
    for (int i = begin; i < end; i++) work[i] += j->w_in[i] * u0;
  } else {
    for (int i = begin; i < end; i++) {
      const double *wr = j->w_in + (size_t)i * j->inputs;
      double s = 0;
      for (int f = 0; f < j->inputs; f++) s += wr[f] * j->ut[f];
      work[i] += s;
    }
  }
  if (j->bias) for (int i = begin; i < end; i++) work[i] += j->bias[i];
  vtanh_f64_portable(work + begin, work + begin, (size_t)(end - begin));
  for (int i = begin; i < end; i++) j->cur[i] = j->keep * j->prev[i] + j->leak * work[i];
}

static void readout_rows_portable(const recur_readout_job *j, int begin, int end) {
  const int n = j->n, K = j->k;
  for (int t = begin; t < end; t++) {
    const double *x = j->X + (size_t)t * j->ldx;
    double *o = j->out + (size_t)t * K;
    if (K == 1) { o[0] = j->b[0] + dot_f64_portable(n, x, j->W); continue; }
    for (int k = 0; k < K; k++) o[k] = j->b[k];
    for (int i = 0; i < n; i++) {
      const double xi = x[i];
      const double *w = j->W + (size_t)i * K;
      for (int k = 0; k < K; k++) o[k] += xi * w[k];
    }
  }
}

static void gram_kernel_portable(int tb, const double *A, const double *B, double *acc) {
  for (int t = 0; t < tb; t++) {
    const double *a = A + (size_t)t * RECUR_GRAM_NR, *b = B + (size_t)t * RECUR_GRAM_NR;
    for (int r = 0; r < RECUR_GRAM_NR; r++) {
      double ar = a[r];
      for (int c = 0; c < RECUR_GRAM_NR; c++) acc[r * RECUR_GRAM_NR + c] += ar * b[c];
    }
  }
}

static void cross_row_portable(const recur_cross_job *j, int t, int begin, int end) {
  const int K = j->outs;
  const double *x = j->X + (size_t)t * j->ldx, *y = j->Yc + (size_t)t * K;
  for (int i = begin; i < end; i++) {
    const double xi = j->xmean ? x[i] - j->xmean[i] : x[i];
    double *c = j->C + (size_t)i * j->ldc;
    for (int k = 0; k < K; k++) c[k] += xi * y[k];
  }
}

const recur_reservoir_ops recur_reservoir_portable = RECUR_RESERVOIR_OPS_TABLE(portable, RECUR_ISA_PORTABLE, csr_matvec_portable, NULL);
