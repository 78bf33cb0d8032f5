#ifndef RECUR_RESERVOIR_H
#define RECUR_RESERVOIR_H

// Double-precision kernels for echo-state networks: the sparse leaky-tanh reservoir update and the
// ridge read-out (Gram matrix, Cholesky factorisation and solve). Every entry point runs on the
// instruction-set path of the rest of the kernels (recur_isa_name: AVX-512, AVX2+FMA or portable,
// chosen once from CPUID; RECUR_ISA or recur_force_isa override it). All matrices are row-major.

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The path the reservoir kernels use on the calling thread: "avx512", "avx2" or "portable".
const char *recur_reservoir_isa_name(void);

/// y[i] = tanh(x[i]) in double precision (max error a few ulp; x and y may alias).
void recur_vtanh_f64(const double *x, double *y, size_t n);

/// Runs a leaky-integrator tanh reservoir for `steps` steps:
///   x_t = (1 - leak) * x_{t-1} + leak * tanh(W x_{t-1} + W_in u_t + bias)
/// W: [units, units] in CSR form (row_start[units + 1], col_index[nnz], values[nnz]);
/// w_in: [units, inputs] dense; bias: [units] or NULL; u: [steps, inputs] (row stride ldu >= inputs);
/// x0: [units] state before the first step; states: [steps, units], states[t] = x_t.
/// `work` must hold `units` doubles.
void recur_esn_run_f64(int units, int inputs, int steps,
                       const int32_t *row_start, const int32_t *col_index, const double *values,
                       const double *w_in, const double *bias, double leak,
                       const double *u, int ldu, const double *x0, double *states, double *work);

/// Dot product of two double vectors.
double recur_dot_f64(int n, const double *a, const double *b);

/// y += alpha x.
void recur_axpy_f64(int n, double alpha, const double *x, double *y);

/// recur_esn_run_f64 without keeping the states: after each step t the read-out
/// out[t] = W_out^T [x_t; u_t] + b_out (u_t only if with_input; W_out is [units (+ inputs), k],
/// b_out [k], out [steps, k]); the state after the last step goes to x_final [units].
void recur_esn_run_readout_f64(int units, int inputs, int steps,
                               const int32_t *row_start, const int32_t *col_index, const double *values,
                               const double *w_in, const double *bias, double leak,
                               const double *u, int ldu, const double *x0,
                               const double *w_out, const double *b_out, int k, int with_input,
                               double *out, double *x_final, double *work);

/// recur_esn_run_f64 with a state row stride `lds` (>= units; columns units..lds-1 of each state
/// row are left as they are, so callers can pre-fill extra read-out features there), plus the
/// centred Gram matrix of columns 0..gram_cols-1 of state rows [gram_begin, gram_end):
/// C = sum (s - mean)(s - mean)^T (full, symmetric) and mean. When the thread pool has a free
/// worker, the Gram matrix is accumulated on it while the reservoir is still running.
void recur_esn_run_gram_f64(int units, int inputs, int steps,
                            const int32_t *row_start, const int32_t *col_index, const double *values,
                            const double *w_in, const double *bias, double leak,
                            const double *u, int ldu, const double *x0, double *states, int lds, double *work,
                            int gram_begin, int gram_end, int gram_cols, double *mean, double *C, int ldc);

/// y[rows] = A x for a CSR matrix A [rows, *].
void recur_csr_matvec_f64(int rows, const int32_t *row_start, const int32_t *col_index,
                          const double *values, const double *x, double *y);

/// C[cols, cols] = (X - 1 mean^T)^T (X - 1 mean^T) for X [rows, cols] (row stride ldx >= cols);
/// mean [cols] or NULL (no centring). C is overwritten and fully symmetric; ldc >= cols.
void recur_gram_f64(int rows, int cols, const double *X, int ldx, const double *mean,
                    double *C, int ldc);

/// C[cols, outs] = (X - 1 xmean^T)^T (Y - 1 ymean^T); xmean / ymean may be NULL. C is overwritten.
void recur_cross_f64(int rows, int cols, int outs, const double *X, int ldx, const double *xmean,
                     const double *Y, int ldy, const double *ymean, double *C, int ldc);

/// out[rows, k] = X W + b for X [rows, n] (row stride ldx), W [n, k], b [k].
void recur_readout_f64(int rows, int n, int k, const double *X, int ldx, const double *W,
                       const double *b, double *out);

/// In-place Cholesky factorisation A = L L^T of a symmetric positive-definite A [n, n]; the lower
/// triangle of A receives L (the strict upper triangle is left as it was). Returns 0 on success,
/// or k + 1 if the leading minor of order k + 1 is not positive definite.
int recur_cholesky_f64(int n, double *A, int lda);

/// Solves (L L^T) X = B in place for B [n, nrhs] (row stride ldb), with L from recur_cholesky_f64.
void recur_cholesky_solve_f64(int n, const double *L, int lda, int nrhs, double *B, int ldb);

#ifdef __cplusplus
}
#endif

#endif
