// The AVX2+FMA reservoir kernels: reservoir_simd.h on 4 doubles (__m256d), compiled with
// per-function target attributes only.
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>
#include <stdint.h>
#include <string.h>

#include "vecmath_avx2.h"  // RECUR_TARGET_AVX2

#define RA2 static inline __attribute__((always_inline)) RECUR_TARGET_AVX2

RA2 __m256d recur_res_gather_avx2(const double *x, const int32_t *ci) {
  __m128d lo = _mm_loadh_pd(_mm_load_sd(x + ci[0]), x + ci[1]);
  __m128d hi = _mm_loadh_pd(_mm_load_sd(x + ci[2]), x + ci[3]);
  return _mm256_set_m128d(hi, lo);
}

// Four 16-bit indices arrive in one 64-bit load.
RA2 __m256d recur_res_gather16_avx2(const double *x, const uint16_t *ci) {
  uint64_t p;
  memcpy(&p, ci, 8);
  __m128d lo = _mm_loadh_pd(_mm_load_sd(x + (p & 0xFFFF)), x + ((p >> 16) & 0xFFFF));
  __m128d hi = _mm_loadh_pd(_mm_load_sd(x + ((p >> 32) & 0xFFFF)), x + (p >> 48));
  return _mm256_set_m128d(hi, lo);
}

RA2 double recur_res_hsum_avx2(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

RA2 __m256d recur_res_load_part_avx2(const double *p, int n) {
  double b[4] = {0, 0, 0, 0};
  for (int i = 0; i < n; i++) b[i] = p[i];
  return _mm256_loadu_pd(b);
}

RA2 void recur_res_store_part_avx2(double *p, __m256d v, int n) {
  double b[4];
  _mm256_storeu_pd(b, v);
  for (int i = 0; i < n; i++) p[i] = b[i];
}

/// 2^n for integral n in [0, 58]: n + 1023 in the exponent field.
RA2 __m256d recur_res_pow2_avx2(__m256d n) {
  __m256i ni = _mm256_castpd_si256(_mm256_add_pd(n, _mm256_set1_pd(6755399441055744.0)));  // 0x1.8p52
  return _mm256_castsi256_pd(_mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52));
}

#define RT_SUFFIX avx2
#define RT_ISA RECUR_ISA_AVX2
#define RT_ATTR RECUR_TARGET_AVX2
#define RT_VL 4
#define RT_VEC __m256d
#define RT_MASK __m256d
#define RT_ZERO() _mm256_setzero_pd()
#define RT_SET1(x) _mm256_set1_pd(x)
#define RT_LOADU(p) _mm256_loadu_pd(p)
#define RT_STOREU(p, v) _mm256_storeu_pd((p), (v))
#define RT_ADD(a, b) _mm256_add_pd((a), (b))
#define RT_SUB(a, b) _mm256_sub_pd((a), (b))
#define RT_MUL(a, b) _mm256_mul_pd((a), (b))
#define RT_DIV(a, b) _mm256_div_pd((a), (b))
#define RT_MIN(a, b) _mm256_min_pd((a), (b))
#define RT_FMA(a, b, c) _mm256_fmadd_pd((a), (b), (c))
#define RT_FNMA(a, b, c) _mm256_fnmadd_pd((a), (b), (c))
#define RT_AND(a, b) _mm256_and_pd((a), (b))
#define RT_ANDNOT(a, b) _mm256_andnot_pd((a), (b))
#define RT_OR(a, b) _mm256_or_pd((a), (b))
#define RT_ROUND(x) _mm256_round_pd((x), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC)
#define RT_POW2(n) recur_res_pow2_avx2(n)
#define RT_LT(a, b) _mm256_cmp_pd((a), (b), _CMP_LT_OQ)
#define RT_ISNAN(a) _mm256_cmp_pd((a), (a), _CMP_UNORD_Q)
#define RT_SELECT(m, a, b) _mm256_blendv_pd((b), (a), (m))
#define RT_HSUM(v) recur_res_hsum_avx2(v)
#define RT_GATHER(x, ci) recur_res_gather_avx2((x), (ci))
#define RT_GATHER16(x, ci) recur_res_gather16_avx2((x), (ci))
#define RT_LOAD_PART(p, n) recur_res_load_part_avx2((p), (n))
#define RT_STORE_PART(p, v, n) recur_res_store_part_avx2((p), (v), (n))
#include "reservoir_simd.h"

#endif
