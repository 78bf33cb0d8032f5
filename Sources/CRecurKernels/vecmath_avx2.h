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

/// exp(x) for 8 floats.
RECUR_VM_AVX2 __m256 recur_exp_avx2(__m256 x) {
  // Clamp: below -104 the result is 0, above 89 it is +inf, and the reduction stays exact.
  __m256 xc = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(RECUR_EXP_LO)), _mm256_set1_ps(RECUR_EXP_HI));
  // x = n ln2 + r, |r| <= ln2/2 (Cody-Waite: n*C1 is exact).
  __m256 n = _mm256_round_ps(_mm256_mul_ps(xc, _mm256_set1_ps(RECUR_LOG2E)),
                             _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RECUR_LN2_C1), xc);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(RECUR_LN2_C2), r);
  // e^r = 1 + r + r^2 P(r)  (Cephes expf).
  __m256 p = _mm256_set1_ps(RECUR_EXP_P0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RECUR_EXP_P1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RECUR_EXP_P2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RECUR_EXP_P3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RECUR_EXP_P4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(RECUR_EXP_P5));
  __m256 r2 = _mm256_mul_ps(r, r);
  p = _mm256_fmadd_ps(p, r2, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  // Scale by 2^n in two exact steps 2^n1 * 2^n2 (n1 = floor(n/2)): both factors are normal for
  // n in [-150, 128], so overflow gives +inf and underflow rounds gradually, like expf.
  __m256i ni = _mm256_cvtps_epi32(n);
  __m256i n1 = _mm256_srai_epi32(ni, 1);
  __m256i n2 = _mm256_sub_epi32(ni, n1);
  __m256 y = _mm256_mul_ps(_mm256_mul_ps(p, recur_pow2i_avx2(n1)), recur_pow2i_avx2(n2));
  // NaN in, NaN out (the clamp above turned it into a number).
  return _mm256_blendv_ps(y, x, _mm256_cmp_ps(x, x, _CMP_UNORD_Q));
}

/// |x| for 8 floats.
RECUR_VM_AVX2 __m256 recur_abs_avx2(__m256 x) {
  return _mm256_andnot_ps(_mm256_set1_ps(-0.0f), x);
}

/// sigmoid(x) = 1 / (1 + exp(-x)) for 8 floats: with t = exp(-|x|) <= 1, it is 1/(1+t) for
/// x >= 0 and t/(1+t) for x < 0, so nothing overflows and tiny results keep their precision.
RECUR_VM_AVX2 __m256 recur_sigmoid_avx2(__m256 x) {
  __m256 t = recur_exp_avx2(_mm256_sub_ps(_mm256_setzero_ps(), recur_abs_avx2(x)));
  __m256 r = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), t));
  return _mm256_blendv_ps(r, _mm256_mul_ps(t, r), x);  // picks t*r where x's sign bit is set
}

/// tanh(x) for 8 floats: |x| + |x|^3 P(x^2) for |x| < 0.625 (Cephes tanhf), else
/// (1 - t) / (1 + t) with t = exp(-2|x|); then the sign of x (so tanh(-0) = -0).
RECUR_VM_AVX2 __m256 recur_tanh_avx2(__m256 x) {
  __m256 ax = recur_abs_avx2(x);
  __m256 z = _mm256_mul_ps(x, x);
  __m256 p = _mm256_set1_ps(RECUR_TANH_P0);
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RECUR_TANH_P1));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RECUR_TANH_P2));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RECUR_TANH_P3));
  p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(RECUR_TANH_P4));
  __m256 small = _mm256_fmadd_ps(_mm256_mul_ps(p, z), ax, ax);
  __m256 t = recur_exp_avx2(_mm256_mul_ps(ax, _mm256_set1_ps(-2.0f)));
  __m256 one = _mm256_set1_ps(1.0f);
  __m256 large = _mm256_div_ps(_mm256_sub_ps(one, t), _mm256_add_ps(one, t));
  __m256 y = _mm256_blendv_ps(large, small, _mm256_cmp_ps(ax, _mm256_set1_ps(RECUR_TANH_SMALL), _CMP_LT_OQ));
  return _mm256_or_ps(y, _mm256_and_ps(x, _mm256_set1_ps(-0.0f)));  // copysign
}

#endif
