// The AVX-512 reservoir kernels: reservoir_simd.h on 8 doubles (__m512d), with masked loads and
// stores for the tails. Compiled with per-function target attributes only; selected at run time
// only where dispatch.c finds AVX-512 (avx512f/dq/vl/bw).
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "vecmath_avx512.h"  // RECUR_TARGET_AVX512

#define RA5 static inline __attribute__((always_inline)) RECUR_TARGET_AVX512

RA5 __m128d recur_res_pair_avx512(const double *x, long i0, long i1) {
  return _mm_loadh_pd(_mm_load_sd(x + i0), x + i1);
}

RA5 __m512d recur_res_join_avx512(__m128d a, __m128d b, __m128d c, __m128d d) {
  __m256d lo = _mm256_insertf128_pd(_mm256_castpd128_pd256(a), b, 1);
  __m256d hi = _mm256_insertf128_pd(_mm256_castpd128_pd256(c), d, 1);
  return _mm512_insertf64x4(_mm512_castpd256_pd512(lo), hi, 1);
}

RA5 __m512d recur_res_gather_avx512(const double *x, const int32_t *ci) {
  return recur_res_join_avx512(recur_res_pair_avx512(x, ci[0], ci[1]), recur_res_pair_avx512(x, ci[2], ci[3]),
                               recur_res_pair_avx512(x, ci[4], ci[5]), recur_res_pair_avx512(x, ci[6], ci[7]));
}

// Eight 16-bit indices arrive in two 64-bit loads.
RA5 __m512d recur_res_gather16_avx512(const double *x, const uint16_t *ci) {
  uint64_t p, q;
  memcpy(&p, ci, 8);
  memcpy(&q, ci + 4, 8);
  return recur_res_join_avx512(recur_res_pair_avx512(x, (long)(p & 0xFFFF), (long)((p >> 16) & 0xFFFF)),
                               recur_res_pair_avx512(x, (long)((p >> 32) & 0xFFFF), (long)(p >> 48)),
                               recur_res_pair_avx512(x, (long)(q & 0xFFFF), (long)((q >> 16) & 0xFFFF)),
                               recur_res_pair_avx512(x, (long)((q >> 32) & 0xFFFF), (long)(q >> 48)));
}

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
#define RT_GATHER(x, ci) recur_res_gather_avx512((x), (ci))
#define RT_GATHER16(x, ci) recur_res_gather16_avx512((x), (ci))
#define RT_LOAD_PART(p, n) _mm512_maskz_loadu_pd(recur_res_mask_avx512(n), (p))
#define RT_STORE_PART(p, v, n) _mm512_mask_storeu_pd((p), recur_res_mask_avx512(n), (v))
#include "reservoir_simd.h"

#endif
