// The portable path: plain C (GCC/Clang vector extensions of 4 floats, which compile to SSE2 on
// baseline x86-64, NEON on arm64, scalar code elsewhere). Used when the CPU has no AVX2+FMA,
// when RECUR_ISA=portable, and as the reference the SIMD paths are tested against.
#include <math.h>
#include <string.h>

#include "internal.h"
#include "vecmath_portable.h"

// MARK: - GEMM (4x8 micro-tile: 8 accumulators of 4 floats)

typedef float recur_v4sf __attribute__((vector_size(16)));
typedef float recur_v4sf_u __attribute__((vector_size(16), aligned(4)));

#define GT_SUFFIX portable
#define GT_ATTR
#define GT_MR 4
#define GT_NR 8
#define GT_VL 4
#define GT_VEC recur_v4sf
#define GT_ZERO() ((recur_v4sf){0.0f, 0.0f, 0.0f, 0.0f})
#define GT_LOAD(p) (*(const recur_v4sf *)(p))
#define GT_LOADU(p) ((recur_v4sf)(*(const recur_v4sf_u *)(p)))
#define GT_STOREU(p, v) (*(recur_v4sf_u *)(p) = (v))
#define GT_BCAST(p) ((recur_v4sf){0.0f, 0.0f, 0.0f, 0.0f} + *(p))
#define GT_SET1(x) ((recur_v4sf){0.0f, 0.0f, 0.0f, 0.0f} + (x))
#define GT_FMA(a, b, c) ((a) * (b) + (c))
#define GT_MUL(a, b) ((a) * (b))
#include "gemm_template.h"

// MARK: - Vector math over arrays

static void vexp_portable(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = recur_exp_scalar(x[i]);
}

static void vsigmoid_portable(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = recur_sigmoid_scalar(x[i]);
}

static void vtanh_portable(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = recur_tanh_scalar(x[i]);
}

// MARK: - Peak

/// Multiply-adds on 8 independent 4-float chains (what the portable GEMM kernel issues).
static double fma_loop_portable(long iters) {
  recur_v4sf b = GT_SET1(0.999999f), c = GT_SET1(1e-7f);
  recur_v4sf x[8];
  for (int j = 0; j < 8; j++) x[j] = GT_SET1(1.0f);
  for (long i = 0; i < iters; i++) {
    for (int j = 0; j < 8; j++) x[j] = x[j] * b + c;
  }
  recur_v4sf s = x[0];
  for (int j = 1; j < 8; j++) s += x[j];
  volatile float sink = s[0] + s[1] + s[2] + s[3];
  (void)sink;
  return (double)iters * 8 * 4 * 2;
}

const recur_isa_ops recur_ops_portable =
    RECUR_ISA_OPS_TABLE(portable, RECUR_ISA_PORTABLE, "portable", GT_MR, GT_NR, 256, 128);
