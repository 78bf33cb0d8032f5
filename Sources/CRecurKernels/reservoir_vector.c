// The reservoir kernels' ISA choice (the one of the rest of the kernels, see reservoir_internal.h)
// and the public vector entry points of recur_reservoir.h.
#include "reservoir_internal.h"

const recur_reservoir_ops *recur_reservoir_active(void) {
  switch (recur_active_ops()->isa) {
#if defined(__x86_64__) || defined(__i386__)
    case RECUR_ISA_AVX512: return &recur_reservoir_avx512;
    case RECUR_ISA_AVX2: return &recur_reservoir_avx2;
#endif
    default: return &recur_reservoir_portable;
  }
}

const char *recur_reservoir_isa_name(void) { return recur_active_ops()->name; }

void recur_vtanh_f64(const double *x, double *y, size_t n) { recur_reservoir_active()->vtanh(x, y, n); }

void recur_csr_matvec_f64(int rows, const int32_t *row_start, const int32_t *col_index,
                          const double *values, const double *x, double *y) {
  recur_reservoir_active()->csr_matvec(rows, row_start, col_index, values, x, y);
}

double recur_dot_f64(int n, const double *a, const double *b) { return recur_reservoir_active()->dot(n, a, b); }

void recur_axpy_f64(int n, double alpha, const double *x, double *y) {
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}
