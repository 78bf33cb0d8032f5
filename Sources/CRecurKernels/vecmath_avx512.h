// AVX-512 vector math on __m512 registers: exp, sigmoid, tanh of 16 floats at once.
//
// For other C files of this target (e.g. fused LSTM/GRU cell kernels):
//
//     #include "vecmath_avx512.h"
//     RECUR_TARGET_AVX512 static void my_cell_avx512(...) {
//       __m512 i = recur_sigmoid_avx512(_mm512_loadu_ps(gates));
//       __mmask16 tail = recur_tail_mask_avx512(n - j);   // for the last, partial vector
//       __m512 g = recur_tanh_avx512(_mm512_maskz_loadu_ps(tail, gates + 2 * H + j));
//       ...
//     }
//
// The helpers are `static inline` with `always_inline` and RECUR_TARGET_AVX512
// (avx512f,avx512dq,avx512vl,avx512bw,fma): call them only from functions compiled with
// RECUR_TARGET_AVX512, and only after the runtime dispatch (recur_active_ops()->isa) says the
// CPU has AVX-512. No global -mavx512f flag is needed.
//
// Same algorithms, constants and accuracy as vecmath_avx2.h (see there); the only differences
// are AVX-512 instructions: vscalefps for the 2^n scaling (handles overflow and gradual
// underflow by itself) and mask registers for the selects.
#ifndef RECUR_VECMATH_AVX512_H
#define RECUR_VECMATH_AVX512_H

#include <immintrin.h>

#include "vecmath_constants.h"

// Overridable so the AVX-512 code can be compiled, for checking its logic, against a software
// model of the intrinsics on a machine without AVX-512 (see avx512_model/immintrin.h).
#ifndef RECUR_TARGET_AVX512
#define RECUR_TARGET_AVX512 __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,fma")))
#endif

#define RECUR_VM_AVX512 static inline __attribute__((always_inline)) RECUR_TARGET_AVX512

/// Mask of the first n lanes (n clipped to [0, 16]).
RECUR_VM_AVX512 __mmask16 recur_tail_mask_avx512(long n) {
  return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? (__mmask16)0 : (__mmask16)((1u << n) - 1u);
}

/// exp(x) for 16 floats.
RECUR_VM_AVX512 __m512 recur_exp_avx512(__m512 x) {
  __m512 xc = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(RECUR_EXP_LO)), _mm512_set1_ps(RECUR_EXP_HI));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(xc, _mm512_set1_ps(RECUR_LOG2E)),
                                  _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RECUR_LN2_C1), xc);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(RECUR_LN2_C2), r);
  __m512 p = _mm512_set1_ps(RECUR_EXP_P0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RECUR_EXP_P1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RECUR_EXP_P2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RECUR_EXP_P3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RECUR_EXP_P4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(RECUR_EXP_P5));
  __m512 r2 = _mm512_mul_ps(r, r);
  p = _mm512_fmadd_ps(p, r2, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  // p * 2^n, one rounding, +inf on overflow, gradual underflow.
  __m512 y = _mm512_scalef_ps(p, n);
  // NaN in, NaN out (the clamp turned it into a number).
  return _mm512_mask_blend_ps(_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q), y, x);
}

/// |x| for 16 floats.
RECUR_VM_AVX512 __m512 recur_abs_avx512(__m512 x) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
}

/// sigmoid(x) = 1 / (1 + exp(-x)) for 16 floats, without overflow (see recur_sigmoid_avx2).
RECUR_VM_AVX512 __m512 recur_sigmoid_avx512(__m512 x) {
  __m512 t = recur_exp_avx512(_mm512_sub_ps(_mm512_setzero_ps(), recur_abs_avx512(x)));
  __m512 r = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_add_ps(_mm512_set1_ps(1.0f), t));
  __mmask16 neg = _mm512_movepi32_mask(_mm512_castps_si512(x));  // sign bits (AVX512DQ)
  return _mm512_mask_blend_ps(neg, r, _mm512_mul_ps(t, r));
}

/// tanh(x) for 16 floats (see recur_tanh_avx2).
RECUR_VM_AVX512 __m512 recur_tanh_avx512(__m512 x) {
  __m512 ax = recur_abs_avx512(x);
  __m512 z = _mm512_mul_ps(x, x);
  __m512 p = _mm512_set1_ps(RECUR_TANH_P0);
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RECUR_TANH_P1));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RECUR_TANH_P2));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RECUR_TANH_P3));
  p = _mm512_fmadd_ps(p, z, _mm512_set1_ps(RECUR_TANH_P4));
  __m512 small = _mm512_fmadd_ps(_mm512_mul_ps(p, z), ax, ax);
  __m512 t = recur_exp_avx512(_mm512_mul_ps(ax, _mm512_set1_ps(-2.0f)));
  __m512 one = _mm512_set1_ps(1.0f);
  __m512 large = _mm512_div_ps(_mm512_sub_ps(one, t), _mm512_add_ps(one, t));
  __m512 y = _mm512_mask_blend_ps(_mm512_cmp_ps_mask(ax, _mm512_set1_ps(RECUR_TANH_SMALL), _CMP_LT_OQ),
                                  large, small);
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));  // copysign
}

#endif
