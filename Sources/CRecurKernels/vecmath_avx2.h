// AVX2+FMA vector math on __m256 registers: exp, sigmoid, tanh of 8 floats at once.
//
// For other C files of this target (e.g. fused LSTM/GRU cell kernels):
//
//     #include "vecmath_avx2.h"
//     RECUR_TARGET_AVX2 static void my_cell_avx2(...) {
//       __m256 i = recur_sigmoid_avx2(_mm256_loadu_ps(gates));
//       __m256 g = recur_tanh_avx2(_mm256_loadu_ps(gates + 2 * H));
//       ...
//     }
//
// The helpers are `static inline` with `always_inline` and `target("avx2,fma")`: call them only
// from functions compiled for AVX2+FMA (RECUR_TARGET_AVX2) or a superset such as
// RECUR_TARGET_AVX512 — the compiler refuses any other caller — and only after the runtime
// dispatch (recur_active_ops()->isa) says the CPU has AVX2. No global -mavx2 flag is needed.
//
// Accuracy (checked against double precision by Tests/RecurTests/KernelTests.swift):
// relative error <= 1e-6 (in practice ~3e-7) wherever the result is a normal float.
//   recur_exp_avx2:     exp(x); +inf above ~88.72, gradual underflow to 0 below ~-87.3
//                       (0 below ~-103.9), exp(-inf) = 0, NaN -> NaN.
//   recur_sigmoid_avx2: 1 / (1 + exp(-x)) for all x, computed without overflow; NaN -> NaN.
//   recur_tanh_avx2:    tanh(x) for all x, relative accuracy near 0 (odd polynomial for
//                       |x| < 0.625), +-1 for large |x|, tanh(-0) = -0; NaN -> NaN.
// The algorithms are those of vecmath_portable.h and vecmath_avx512.h, so the three ISA paths
// agree to within a few ulp.
#ifndef RECUR_VECMATH_AVX2_H
#define RECUR_VECMATH_AVX2_H

#include <immintrin.h>

#include "vecmath_constants.h"

#ifndef RECUR_TARGET_AVX2
#define RECUR_TARGET_AVX2 __attribute__((target("avx2,fma")))
#endif

#define RECUR_VM_AVX2 static inline __attribute__((always_inline)) RECUR_TARGET_AVX2

/// 2^n for integer n in [-126, 127] (built in the exponent field).
RECUR_VM_AVX2 __m256 recur_pow2i_avx2(__m256i n) {
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n, _mm256_set1_epi32(127)), 23));
}

/// |x| for 8 floats.
RECUR_VM_AVX2 __m256 recur_abs_avx2(__m256 x) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

/// p * 2^n in two exact steps 2^n1 * 2^n2 (n1 = floor(n/2)): both factors are normal for n in
/// [-150, 128], so overflow gives +inf and underflow rounds gradually, like expf.
RECUR_VM_AVX2 __m256 recur_scale2n_avx2(__m256 p, __m256 n) {
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  return _mm256_mul_ps(_mm256_mul_ps(p, recur_pow2i_avx2(n1)), recur_pow2i_avx2(n2));
}

// recur_exp_avx2, recur_sigmoid_avx2, recur_tanh_avx2 (8 floats):
#define VM_SUFFIX avx2
#define VM_FN_ATTR RECUR_VM_AVX2
#define VM_VEC __m256
#define VM_MASK __m256
#define VM_SET1(x) _mm256_set1_ps(x)
#define VM_ZERO() _mm256_setzero_ps()
#define VM_ADD(a, b) _mm256_add_ps((a), (b))
#define VM_SUB(a, b) _mm256_sub_ps((a), (b))
#define VM_MUL(a, b) _mm256_mul_ps((a), (b))
#define VM_DIV(a, b) _mm256_div_ps((a), (b))
#define VM_MIN(a, b) _mm256_min_ps((a), (b))
#define VM_MAX(a, b) _mm256_max_ps((a), (b))
#define VM_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define VM_FNMA(a, b, c) _mm256_fnmadd_ps((a), (b), (c))
#define VM_ROUND(x) _mm256_round_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VM_SCALE2N(p, n) recur_scale2n_avx2((p), (n))
#define VM_ABS(x) recur_abs_avx2(x)
#define VM_COPYSIGN(y, x) _mm256_or_ps((y), _mm256_and_ps((x), _mm256_set1_ps(-0.0f)))
#define VM_LT(a, b) _mm256_cmp_ps((a), (b), _CMP_LT_OQ)
#define VM_ISNAN(a) _mm256_cmp_ps((a), (a), _CMP_UNORD_Q)
#define VM_SELECT(m, a, b) _mm256_blendv_ps((b), (a), (m))
#define VM_SELECT_NEG(x, a, b) _mm256_blendv_ps((b), (a), (x))
#include "vecmath_simd.h"

#endif
