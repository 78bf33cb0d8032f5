// Cholesky factorisation and solve for the ridge read-out (see recur_reservoir.h).
#include <math.h>

#include "reservoir_internal.h"

int recur_cholesky_f64(int n, double *A, int lda) {
  double (*dot)(int, const double *, const double *) = recur_reservoir_active()->dot;
  // Row by row: L[i][j] = (A[i][j] - L[i][:j] . L[j][:j]) / L[j][j]; the dot products run over
  // contiguous row prefixes.
  for (int i = 0; i < n; i++) {
    double *li = A + (size_t)i * lda;
    for (int j = 0; j <= i; j++) {
      const double *lj = A + (size_t)j * lda;
      double s = li[j] - dot(j, li, lj);
      if (j == i) {
        if (!(s > 0)) return i + 1;
        li[i] = sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
  }
  return 0;
}

void recur_cholesky_solve_f64(int n, const double *L, int lda, int nrhs, double *B, int ldb) {
  // Forward: L Z = B (row i of Z depends on rows < i).
  for (int i = 0; i < n; i++) {
    const double *li = L + (size_t)i * lda;
    double *bi = B + (size_t)i * ldb;
    for (int j = 0; j < i; j++) {
      const double l = li[j];
      if (l == 0) continue;
      const double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bi[k] -= l * bj[k];
    }
    const double inv = 1.0 / li[i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
  }
  // Backward: L^T X = Z; row i of X uses rows > i through column i of L.
  for (int i = n - 1; i >= 0; i--) {
    double *bi = B + (size_t)i * ldb;
    const double inv = 1.0 / L[(size_t)i * lda + i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
    for (int j = 0; j < i; j++) {
      const double l = L[(size_t)i * lda + j];
      if (l == 0) continue;
      double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bj[k] -= l * bi[k];
    }
  }
}
