// The AVX2+FMA path: GEMM micro-kernel 6x16 (12 ymm accumulators, 2 B vectors, 1 broadcast),
// vector exp/sigmoid/tanh, and the FMA peak loop. Compiled with per-function target attributes
// only, so the rest of the package builds for baseline x86-64.
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "internal.h"
#include "transpose_avx2.h"
#include "vecmath_avx2.h"

#ifndef RECUR_AVX2_MR
#define RECUR_AVX2_MR 6
#endif
#ifndef RECUR_AVX2_NR
#define RECUR_AVX2_NR 16
#endif
// Blocking where CPUID gives no cache sizes (gemm.c otherwise derives it from the L1D and L2): a
// KC x 16 B panel is half of a 32 KiB L1D (16 KiB), an MC x KC A block 192 KiB of L2. Measured on Zen 3: 6x16 with these reaches 92-95 % of the FMA peak at
// RNN shapes with packed B; 4x24 needs all 16 ymm registers and spills.
#ifndef RECUR_AVX2_KC
#define RECUR_AVX2_KC 256
#endif
#ifndef RECUR_AVX2_MC
#define RECUR_AVX2_MC 192
#endif

// MARK: - GEMM

#define GT_SUFFIX avx2
#define GT_ATTR RECUR_TARGET_AVX2
#define GT_MR RECUR_AVX2_MR
#define GT_NR RECUR_AVX2_NR
#define GT_VL 8
#define GT_VEC __m256
#define GT_ZERO() _mm256_setzero_ps()
#define GT_LOAD(p) _mm256_load_ps(p)
#define GT_LOADU(p) _mm256_loadu_ps(p)
#define GT_STOREU(p, v) _mm256_storeu_ps((p), (v))
#define GT_BCAST(p) _mm256_broadcast_ss(p)
#define GT_SET1(x) _mm256_set1_ps(x)
#define GT_FMA(a, b, c) _mm256_fmadd_ps((a), (b), (c))
#define GT_MUL(a, b) _mm256_mul_ps((a), (b))
#define GT_TRANSPOSE8(src, lds, dst, ldd) recur_transpose8x8_avx2((src), (lds), (dst), (ldd))
#include "gemm_template.h"

// MARK: - Vector math over arrays

#define RECUR_VMAP_AVX2(name, f)                                                  \
  static RECUR_TARGET_AVX2 void name(const float *x, float *y, size_t n) {        \
    size_t i = 0;                                                                 \
    for (; i + 16 <= n; i += 16) {                                                \
      __m256 a = f(_mm256_loadu_ps(x + i));                                       \
      __m256 b = f(_mm256_loadu_ps(x + i + 8));                                   \
      _mm256_storeu_ps(y + i, a);                                                 \
      _mm256_storeu_ps(y + i + 8, b);                                             \
    }                                                                             \
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, f(_mm256_loadu_ps(x + i))); \
    if (i < n) {                                                                  \
      __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                   \
      __m256i mask = _mm256_cmpgt_epi32(_mm256_set1_epi32((int)(n - i)), lane);   \
      _mm256_maskstore_ps(y + i, mask, f(_mm256_maskload_ps(x + i, mask)));       \
    }                                                                             \
  }
RECUR_VMAP_AVX2(vexp_avx2, recur_exp_avx2)
RECUR_VMAP_AVX2(vsigmoid_avx2, recur_sigmoid_avx2)
RECUR_VMAP_AVX2(vtanh_avx2, recur_tanh_avx2)

// MARK: - Peak

/// 12 independent accumulators: FMA latency (4-5 cycles) x 2 pipes needs at least 10.
static RECUR_TARGET_AVX2 double fma_loop_avx2(long iters) {
  __m256 b = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-7f);
  __m256 x0 = _mm256_set1_ps(1.0f), x1 = x0, x2 = x0, x3 = x0, x4 = x0, x5 = x0;
  __m256 x6 = x0, x7 = x0, x8 = x0, x9 = x0, x10 = x0, x11 = x0;
  for (long i = 0; i < iters; i++) {
    // keep the compiler from folding or reordering the chains
    __asm__("" : "+x"(x0), "+x"(x1), "+x"(x2), "+x"(x3), "+x"(x4), "+x"(x5));
    __asm__("" : "+x"(x6), "+x"(x7), "+x"(x8), "+x"(x9), "+x"(x10), "+x"(x11));
    x0 = _mm256_fmadd_ps(x0, b, c); x1 = _mm256_fmadd_ps(x1, b, c);
    x2 = _mm256_fmadd_ps(x2, b, c); x3 = _mm256_fmadd_ps(x3, b, c);
    x4 = _mm256_fmadd_ps(x4, b, c); x5 = _mm256_fmadd_ps(x5, b, c);
    x6 = _mm256_fmadd_ps(x6, b, c); x7 = _mm256_fmadd_ps(x7, b, c);
    x8 = _mm256_fmadd_ps(x8, b, c); x9 = _mm256_fmadd_ps(x9, b, c);
    x10 = _mm256_fmadd_ps(x10, b, c); x11 = _mm256_fmadd_ps(x11, b, c);
  }
  __m256 s = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(x0, x1), _mm256_add_ps(x2, x3)),
                           _mm256_add_ps(_mm256_add_ps(x4, x5), _mm256_add_ps(x6, x7)));
  s = _mm256_add_ps(s, _mm256_add_ps(_mm256_add_ps(x8, x9), _mm256_add_ps(x10, x11)));
  volatile float sink = _mm256_cvtss_f32(s);
  (void)sink;
  return (double)iters * 12 * 8 * 2;
}

const recur_isa_ops recur_ops_avx2 =
    RECUR_ISA_OPS_TABLE(avx2, RECUR_ISA_AVX2, "avx2", RECUR_AVX2_MR, RECUR_AVX2_NR, RECUR_AVX2_KC, RECUR_AVX2_MC);

#endif
