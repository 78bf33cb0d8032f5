// The AVX-512 reservoir kernels: reservoir_simd.h on 8 doubles (__m512d), with masked loads and
// stores for the tails; the sparse products are the AVX2 ones (see below). Compiled with
// per-function target attributes only; selected at run time only where dispatch.c finds AVX-512
// (avx512f/dq/vl/bw).
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <stdint.h>

#include "vecmath_avx512.h"  // RECUR_TARGET_AVX512

#define RA5 static inline __attribute__((always_inline)) RECUR_TARGET_AVX512

RA5 __mmask8 recur_res_mask_avx512(int n) { return (__mmask8)((1u << n) - 1u); }

#define RT_SUFFIX avx512
#define RT_ISA RECUR_ISA_AVX512
#define RT_ATTR RECUR_TARGET_AVX512
#define RT_VL 8
#define RT_VEC __m512d
#define RT_MASK __mmask8
#define RT_ZERO() _mm512_setzero_pd()
#define RT_SET1(x) _mm512_set1_pd(x)
#define RT_LOADU(p) _mm512_loadu_pd(p)
#define RT_STOREU(p, v) _mm512_storeu_pd((p), (v))
#define RT_ADD(a, b) _mm512_add_pd((a), (b))
#define RT_SUB(a, b) _mm512_sub_pd((a), (b))
#define RT_MUL(a, b) _mm512_mul_pd((a), (b))
#define RT_DIV(a, b) _mm512_div_pd((a), (b))
#define RT_MIN(a, b) _mm512_min_pd((a), (b))
#define RT_FMA(a, b, c) _mm512_fmadd_pd((a), (b), (c))
#define RT_FNMA(a, b, c) _mm512_fnmadd_pd((a), (b), (c))
#define RT_AND(a, b) _mm512_and_pd((a), (b))
#define RT_ANDNOT(a, b) _mm512_andnot_pd((a), (b))
#define RT_OR(a, b) _mm512_or_pd((a), (b))
#define RT_ROUND(x) _mm512_roundscale_pd((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define RT_POW2(n) _mm512_scalef_pd(_mm512_set1_pd(1.0), (n))
#define RT_LT(a, b) _mm512_cmp_pd_mask((a), (b), _CMP_LT_OQ)
#define RT_ISNAN(a) _mm512_cmp_pd_mask((a), (a), _CMP_UNORD_Q)
#define RT_SELECT(m, a, b) _mm512_mask_blend_pd((m), (b), (a))
#define RT_HSUM(v) _mm512_reduce_add_pd(v)
// The sparse products are the AVX2 ones: with 8-wide vectors (16 non-zeros a step) the rows of a
// typical reservoir (50-200 non-zeros) leave longer scalar tails and a costlier horizontal sum,
// and single-thread runs of 500 units measured ~10 % slower.
#define RT_CSR_FROM avx2
#define RT_LOAD_PART(p, n) _mm512_maskz_loadu_pd(recur_res_mask_avx512(n), (p))
#define RT_STORE_PART(p, v, n) _mm512_mask_storeu_pd((p), recur_res_mask_avx512(n), (v))
#include "reservoir_simd.h"

#endif
