// LayerNorm and the tanh form of GELU for the residual minGRU / minLSTM blocks. The loops are one
// source compiled once per instruction set (the compiler vectorises them with that ISA's
// registers; reductions keep 8 partial sums so they vectorise without reassociating) and chosen by
// the calling thread's ISA. Work is split over the pool by rows (LayerNorm), by columns (its
// weight and bias gradients, each summed in row order) or by chunks of elements (GELU), so the
// results do not depend on the number of threads.
#include "recur_layers.h"
#include "recur_kernels.h"
#include "internal.h"

enum { LANES = 8, GELU_CHUNK = 4096, COLUMN_BLOCK = 64 };

static const float gelu_c = 0.7978845608f, gelu_a = 0.044715f;

#define RECUR_LAYER_LOOPS(sfx, attribute)                                                                \
  attribute static float row_sum_##sfx(const float *restrict p, int n) {                                \
    float acc[LANES] = {0};                                                                              \
    int j = 0;                                                                                           \
    for (; j + LANES <= n; j += LANES)                                                                   \
      for (int k = 0; k < LANES; k++) acc[k] += p[j + k];                                                \
    float s = 0;                                                                                         \
    for (int k = 0; k < LANES; k++) s += acc[k];                                                         \
    for (; j < n; j++) s += p[j];                                                                        \
    return s;                                                                                            \
  }                                                                                                      \
  attribute static float row_dot_##sfx(const float *restrict a, const float *restrict b, int n) {       \
    float acc[LANES] = {0};                                                                              \
    int j = 0;                                                                                           \
    for (; j + LANES <= n; j += LANES)                                                                   \
      for (int k = 0; k < LANES; k++) acc[k] += a[j + k] * b[j + k];                                     \
    float s = 0;                                                                                         \
    for (int k = 0; k < LANES; k++) s += acc[k];                                                         \
    for (; j < n; j++) s += a[j] * b[j];                                                                 \
    return s;                                                                                            \
  }                                                                                                      \
  attribute static void norm_row_##sfx(int d, float eps, const float *restrict x, const float *w,       \
                                       const float *b, float *restrict y, float *mean, float *rstd) {   \
    float m = row_sum_##sfx(x, d) / (float)d;                                                            \
    for (int j = 0; j < d; j++) y[j] = x[j] - m; /* centred first: a two-pass variance */                \
    float r = 1.0f / __builtin_sqrtf(row_dot_##sfx(y, y, d) / (float)d + eps);                           \
    *mean = m;                                                                                           \
    *rstd = r;                                                                                           \
    if (w && b) for (int j = 0; j < d; j++) y[j] = y[j] * r * w[j] + b[j];                               \
    else if (w) for (int j = 0; j < d; j++) y[j] = y[j] * r * w[j];                                      \
    else if (b) for (int j = 0; j < d; j++) y[j] = y[j] * r + b[j];                                      \
    else for (int j = 0; j < d; j++) y[j] = y[j] * r;                                                    \
  }                                                                                                      \
  /* dx of one row; xhat and dxhat are scratch of d floats. */                                           \
  attribute static void norm_row_backward_##sfx(int d, const float *restrict x, float m, float r,       \
                                                const float *w, const float *restrict g,                 \
                                                float *restrict xhat, float *restrict dxhat,             \
                                                float *restrict dx) {                                    \
    for (int j = 0; j < d; j++) xhat[j] = (x[j] - m) * r;                                                \
    if (w) for (int j = 0; j < d; j++) dxhat[j] = g[j] * w[j];                                           \
    else for (int j = 0; j < d; j++) dxhat[j] = g[j];                                                    \
    float a = row_sum_##sfx(dxhat, d) / (float)d, c = row_dot_##sfx(dxhat, xhat, d) / (float)d;          \
    for (int j = 0; j < d; j++) dx[j] = r * (dxhat[j] - a - xhat[j] * c);                                \
  }                                                                                                      \
  /* dw[j0..j1), db[j0..j1) over all rows, in row order. */                                              \
  attribute static void norm_columns_##sfx(int rows, int d, int j0, int j1, const float *restrict x,    \
                                           const float *mean, const float *rstd,                         \
                                           const float *restrict g, float *dw, float *db) {              \
    if (dw) for (int j = j0; j < j1; j++) dw[j] = 0;                                                     \
    if (db) for (int j = j0; j < j1; j++) db[j] = 0;                                                     \
    for (int r = 0; r < rows; r++) {                                                                     \
      const float *xr = x + (size_t)r * d, *gr = g + (size_t)r * d;                                      \
      float m = mean[r], s = rstd[r];                                                                    \
      if (dw) for (int j = j0; j < j1; j++) dw[j] += gr[j] * ((xr[j] - m) * s);                          \
      if (db) for (int j = j0; j < j1; j++) db[j] += gr[j];                                              \
    }                                                                                                    \
  }                                                                                                      \
  attribute static void gelu_arguments_##sfx(size_t n, const float *restrict x, float *restrict s) {    \
    for (size_t i = 0; i < n; i++) {                                                                     \
      float v = x[i];                                                                                    \
      s[i] = 2 * gelu_c * (v + gelu_a * v * v * v);                                                      \
    }                                                                                                    \
  }                                                                                                      \
  attribute static void gelu_products_##sfx(size_t n, const float *restrict x, const float *restrict s, \
                                            float *restrict y) {                                         \
    for (size_t i = 0; i < n; i++) y[i] = x[i] * s[i];                                                   \
  }                                                                                                      \
  attribute static void gelu_backward_##sfx(size_t n, const float *restrict x, const float *restrict s, \
                                            const float *restrict g, float *restrict dx) {               \
    for (size_t i = 0; i < n; i++) {                                                                     \
      float v = x[i], si = s[i];                                                                         \
      dx[i] = g[i] * (si + v * si * (1 - si) * 2 * gelu_c * (1 + 3 * gelu_a * v * v));                   \
    }                                                                                                    \
  }

RECUR_LAYER_LOOPS(portable, )
#if defined(__x86_64__)
RECUR_LAYER_LOOPS(avx2, __attribute__((target("avx2,fma"))))
RECUR_LAYER_LOOPS(avx512, __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))))
#endif

// MARK: - LayerNorm

typedef struct {
  int isa, d;
  float eps;
  const float *x, *w, *b, *g, *mean_in, *rstd_in;
  float *y, *mean, *rstd, *dx, *dw, *db;
  int rows;
} norm_job;

static void norm_forward_rows(void *p, int begin, int end) {
  norm_job *job = p;
  size_t d = (size_t)job->d;
  for (int r = begin; r < end; r++)
    RECUR_PICK(job->isa, norm_row)(job->d, job->eps, job->x + r * d, job->w, job->b, job->y + r * d,
                                   job->mean + r, job->rstd + r);
}

void recur_layer_norm_forward(int rows, int d, float eps, const float *x, const float *w, const float *b,
                              float *y, float *mean, float *rstd) {
  if (rows <= 0 || d <= 0) return;
  norm_job job = {.isa = recur_active_ops()->isa, .d = d, .eps = eps, .x = x, .w = w, .b = b,
                  .y = y, .mean = mean, .rstd = rstd};
  recur_parallel_for_grain(rows, 1 + 16384 / d, norm_forward_rows, &job);
}

static void norm_backward_rows(void *p, int begin, int end) {
  norm_job *job = p;
  size_t d = (size_t)job->d;
  float *xhat = recur_scratch(RECUR_SCRATCH_PANEL, 2 * d), *dxhat = xhat + d;
  for (int r = begin; r < end; r++)
    RECUR_PICK(job->isa, norm_row_backward)(job->d, job->x + r * d, job->mean_in[r], job->rstd_in[r], job->w,
                                            job->g + r * d, xhat, dxhat, job->dx + r * d);
}

static void norm_backward_columns(void *p, int begin, int end) {
  norm_job *job = p;
  int j0 = begin * COLUMN_BLOCK, j1 = end * COLUMN_BLOCK < job->d ? end * COLUMN_BLOCK : job->d;
  RECUR_PICK(job->isa, norm_columns)(job->rows, job->d, j0, j1, job->x, job->mean_in, job->rstd_in, job->g,
                                     job->dw, job->db);
}

void recur_layer_norm_backward(int rows, int d, const float *x, const float *mean, const float *rstd,
                               const float *w, const float *g, float *dx, float *dw, float *db) {
  if (rows <= 0 || d <= 0) return;
  norm_job job = {.isa = recur_active_ops()->isa, .d = d, .rows = rows, .x = x, .w = w, .g = g,
                  .mean_in = mean, .rstd_in = rstd, .dx = dx, .dw = dw, .db = db};
  if (dx) recur_parallel_for_grain(rows, 1 + 16384 / d, norm_backward_rows, &job);
  if (dw || db) recur_parallel_for((d + COLUMN_BLOCK - 1) / COLUMN_BLOCK, norm_backward_columns, &job);
}

// MARK: - GELU (tanh form)

typedef struct {
  int isa;
  size_t n;
  const float *x, *g, *s_in;
  float *s, *y, *dx;
  void (*sigmoid)(const float *, float *, size_t);
} gelu_job;

static void gelu_forward_chunks(void *p, int begin, int end) {
  gelu_job *job = p;
  size_t i0 = (size_t)begin * GELU_CHUNK, i1 = (size_t)end * GELU_CHUNK < job->n ? (size_t)end * GELU_CHUNK : job->n;
  size_t n = i1 - i0;
  RECUR_PICK(job->isa, gelu_arguments)(n, job->x + i0, job->s + i0);
  job->sigmoid(job->s + i0, job->s + i0, n);
  RECUR_PICK(job->isa, gelu_products)(n, job->x + i0, job->s + i0, job->y + i0);
}

static void gelu_backward_chunks(void *p, int begin, int end) {
  gelu_job *job = p;
  size_t i0 = (size_t)begin * GELU_CHUNK, i1 = (size_t)end * GELU_CHUNK < job->n ? (size_t)end * GELU_CHUNK : job->n;
  RECUR_PICK(job->isa, gelu_backward)(i1 - i0, job->x + i0, job->s_in + i0, job->g + i0, job->dx + i0);
}

static int gelu_chunks(size_t n) { return (int)((n + GELU_CHUNK - 1) / GELU_CHUNK); }

void recur_gelu_tanh_forward(size_t n, const float *x, float *s, float *y) {
  if (n == 0) return;
  const recur_isa_ops *ops = recur_active_ops();
  gelu_job job = {.isa = ops->isa, .n = n, .x = x, .s = s, .y = y, .sigmoid = ops->vsigmoid};
  recur_parallel_for_grain(gelu_chunks(n), 4, gelu_forward_chunks, &job);
}

void recur_gelu_tanh_backward(size_t n, const float *x, const float *s, const float *g, float *dx) {
  if (n == 0) return;
  gelu_job job = {.isa = recur_active_ops()->isa, .n = n, .x = x, .s_in = s, .g = g, .dx = dx};
  recur_parallel_for_grain(gelu_chunks(n), 4, gelu_backward_chunks, &job);
}
