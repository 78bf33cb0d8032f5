// Temporary reference implementation; replaced by the dispatched kernels.
#include "recur_kernels.h"
#include <stdlib.h>
#include <string.h>
#include <math.h>

const char *recur_isa_name(void) { return "portable"; }
static int g_threads = 1;
void recur_set_num_threads(int n) { g_threads = n < 1 ? 1 : n; }
int recur_get_num_threads(void) { return g_threads; }

void recur_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc) {
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    if (beta == 0.0f) memset(c, 0, sizeof(float) * N);
    else if (beta != 1.0f) for (int j = 0; j < N; j++) c[j] *= beta;
    for (int k = 0; k < K; k++) {
      float a = alpha * (transA ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]);
      if (transB) { for (int j = 0; j < N; j++) c[j] += a * B[(size_t)j * ldb + k]; }
      else { const float *b = B + (size_t)k * ldb; for (int j = 0; j < N; j++) c[j] += a * b[j]; }
    }
  }
}
size_t recur_packed_b_size(int K, int N) { return (size_t)K * N; }
void recur_pack_b(int transB, int K, int N, const float *B, int ldb, float *packed) {
  for (int k = 0; k < K; k++) for (int j = 0; j < N; j++)
    packed[(size_t)k * N + j] = transB ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
}
void recur_sgemm_packed(int M, int N, int K, float alpha, const float *A, int lda,
                        const float *packed, float beta, float *C, int ldc) {
  recur_sgemm(0, 0, M, N, K, alpha, A, lda, packed, N, beta, C, ldc);
}
void recur_vexp(const float *x, float *y, size_t n) { for (size_t i = 0; i < n; i++) y[i] = expf(x[i]); }
void recur_vsigmoid(const float *x, float *y, size_t n) { for (size_t i = 0; i < n; i++) y[i] = 1.0f / (1.0f + expf(-x[i])); }
void recur_vtanh(const float *x, float *y, size_t n) { for (size_t i = 0; i < n; i++) y[i] = tanhf(x[i]); }
double recur_measure_peak_gflops(double seconds) { (void)seconds; return 0; }
