// Internal interfaces of the double-precision echo-state network kernels (recur_reservoir.h):
// the per-ISA table of reservoir kernels and the jobs they work on. The ISA is the one of the
// GEMM and vector math (dispatch.c: CPUID once, RECUR_ISA, recur_force_isa per thread); an entry
// point resolves the table once, on the calling thread, and hands it to pool workers in its job,
// so a forced path reaches the workers too.
//
// Files: reservoir_vector.c (the table choice and the public vector entry points),
// reservoir_run.c (the reservoir update and the read-out), reservoir_gram.c (Gram and cross
// products, and the run with a concurrent Gram matrix), reservoir_solve.c (Cholesky),
// reservoir_portable.c (the portable kernels), reservoir_simd.h instantiated by
// reservoir_avx2.c and reservoir_avx512.c (the SIMD kernels).
#ifndef RECUR_RESERVOIR_INTERNAL_H
#define RECUR_RESERVOIR_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "internal.h"
#include "recur_reservoir.h"

/// One reservoir step for rows [begin, end) of the state: work = W prev (sparse), then
/// cur = keep * prev + leak * tanh(work + W_in u_t + bias).
typedef struct {
  const struct recur_reservoir_ops *ops;
  int inputs;
  const int32_t *rs, *ci;
  const double *v, *w_in, *bias, *prev, *ut;
  double leak, keep;
  double *cur, *work;
  const uint16_t *ci16;  // 16-bit copy of ci, or NULL
} recur_esn_step_job;

/// out[t] = b + X[t] W for rows t of X [rows, n] (row stride ldx), W [n, k].
typedef struct {
  const struct recur_reservoir_ops *ops;
  int n, k, ldx;
  const double *X, *W, *b;
  double *out;
} recur_readout_job;

/// C[i, :] += (X[t, i] - xmean[i]) Yc[t, :] for one row t, for columns i of X in [begin, end)
/// (cross_row).
typedef struct {
  const struct recur_reservoir_ops *ops;
  int rows, cols, outs, ldx, ldc;
  const double *X, *xmean, *Yc;
  double *C;
} recur_cross_job;

/// The Gram matrix works on panels of GRAM_NR columns and blocks of GRAM_TB rows.
enum { RECUR_GRAM_TB = 128, RECUR_GRAM_NR = 8 };

/// Everything that differs between instruction sets in the reservoir kernels.
typedef struct recur_reservoir_ops {
  int isa;  // enum recur_isa
  void (*vtanh)(const double *x, double *y, size_t n);
  double (*dot)(int n, const double *a, const double *b);
  void (*csr_matvec)(int rows, const int32_t *rs, const int32_t *ci, const double *v, const double *x,
                     double *y);
  /// The same with 16-bit column indices (reservoirs up to 65,536 units), or NULL.
  void (*csr_matvec_u16)(int rows, const int32_t *rs, const uint16_t *ci, const double *v, const double *x,
                         double *y);
  /// The step after the sparse product (work[begin, end) holds W prev).
  void (*esn_finish)(const recur_esn_step_job *j, int begin, int end);
  void (*readout_rows)(const recur_readout_job *j, int begin, int end);
  /// acc[8][8] += A^T B over tb rows, A and B packed panels [tb][8].
  void (*gram_kernel)(int tb, const double *A, const double *B, double *acc);
  void (*cross_row)(const recur_cross_job *j, int t, int begin, int end);
} recur_reservoir_ops;

/// The table of one ISA from the functions named after it (vtanh_f64_<sfx>, dot_f64_<sfx>, ...).
/// csr, csr_u16: the sparse products (csr_u16 may be NULL).
#define RECUR_RESERVOIR_OPS_TABLE(sfx, isa_, csr, csr_u16)                                         \
  {                                                                                                 \
    .isa = (isa_), .vtanh = vtanh_f64_##sfx, .dot = dot_f64_##sfx, .csr_matvec = (csr),            \
    .csr_matvec_u16 = (csr_u16), .esn_finish = esn_finish_##sfx, .readout_rows = readout_rows_##sfx, \
    .gram_kernel = gram_kernel_##sfx, .cross_row = cross_row_##sfx                                  \
  }

/// The AVX2 sparse products (reservoir_avx2.c), which the AVX-512 table uses too.
void recur_res_csr_matvec_avx2(int rows, const int32_t *rs, const int32_t *ci, const double *v, const double *x,
                               double *y);
void recur_res_csr_matvec_u16_avx2(int rows, const int32_t *rs, const uint16_t *ci, const double *v,
                                   const double *x, double *y);

extern const recur_reservoir_ops recur_reservoir_portable;
extern const recur_reservoir_ops recur_reservoir_avx2;
extern const recur_reservoir_ops recur_reservoir_avx512;

/// The reservoir table of the calling thread's ISA (recur_active_ops()->isa).
const recur_reservoir_ops *recur_reservoir_active(void);

/// Runs `steps` reservoir steps (reservoir_run.c). States go to rows of `states` (stride lds),
/// or, with a read-out `ro`, alternate between two rows and each step's read-out goes to ro->out.
/// With `produced`, the number of finished rows is published every 32 steps (release order).
typedef struct {
  const double *w, *b;  // [features, k], [k]
  int k, with_input;
  double *out;          // [steps, k]
  double *features;     // scratch [units + inputs]
} recur_esn_readout;

void recur_esn_run_steps(const recur_reservoir_ops *ops, int units, int inputs, int steps,
                         const int32_t *row_start, const int32_t *col_index, const double *values,
                         const double *w_in, const double *bias, double leak, const double *u, int ldu,
                         const double *x0, double *states, int lds, double *work, _Atomic int *produced,
                         const recur_esn_readout *ro);

#endif
