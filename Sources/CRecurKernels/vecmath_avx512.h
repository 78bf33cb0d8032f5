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

/// |x| for 16 floats.
RECUR_VM_AVX512 __m512 recur_abs_avx512(__m512 x) {
  return _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32(0x7FFFFFFF)));
}

/// |y| with the sign of x, for y >= 0.
RECUR_VM_AVX512 __m512 recur_copysign_avx512(__m512 y, __m512 x) {
  __m512i sign = _mm512_and_si512(_mm512_castps_si512(x), _mm512_set1_epi32((int)0x80000000u));
  return _mm512_castsi512_ps(_mm512_or_si512(_mm512_castps_si512(y), sign));
}

// recur_exp_avx512, recur_sigmoid_avx512, recur_tanh_avx512 (16 floats):
#define VM_SUFFIX avx512
#define VM_FN_ATTR RECUR_VM_AVX512
#define VM_VEC __m512
#define VM_MASK __mmask16
#define VM_SET1(x) _mm512_set1_ps(x)
#define VM_ZERO() _mm512_setzero_ps()
#define VM_ADD(a, b) _mm512_add_ps((a), (b))
#define VM_SUB(a, b) _mm512_sub_ps((a), (b))
#define VM_MUL(a, b) _mm512_mul_ps((a), (b))
#define VM_DIV(a, b) _mm512_div_ps((a), (b))
#define VM_MIN(a, b) _mm512_min_ps((a), (b))
#define VM_MAX(a, b) _mm512_max_ps((a), (b))
#define VM_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define VM_FNMA(a, b, c) _mm512_fnmadd_ps((a), (b), (c))
#define VM_ROUND(x) _mm512_roundscale_ps((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define VM_SCALE2N(p, n) _mm512_scalef_ps((p), (n))  // one rounding, +inf on overflow, gradual underflow
#define VM_ABS(x) recur_abs_avx512(x)
#define VM_COPYSIGN(y, x) recur_copysign_avx512((y), (x))
#define VM_LT(a, b) _mm512_cmp_ps_mask((a), (b), _CMP_LT_OQ)
#define VM_ISNAN(a) _mm512_cmp_ps_mask((a), (a), _CMP_UNORD_Q)
#define VM_SELECT(m, a, b) _mm512_mask_blend_ps((m), (b), (a))
#define VM_SELECT_NEG(x, a, b) _mm512_mask_blend_ps(_mm512_movepi32_mask(_mm512_castps_si512(x)), (b), (a))  // AVX512DQ
#include "vecmath_simd.h"

#endif
