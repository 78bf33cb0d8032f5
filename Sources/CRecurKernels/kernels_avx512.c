// The AVX-512 path: GEMM micro-kernel 8x48 (24 zmm accumulators, 3 B vectors, 1 broadcast),
// vector exp/sigmoid/tanh, and the FMA peak loop. Compiled with per-function target attributes
// only (RECUR_TARGET_AVX512), so the rest of the package builds for baseline x86-64; selected at
// run time only on CPUs with avx512f (and dq/vl/bw, which every AVX-512 CPU since Skylake-X
// has: the dispatcher checks them all).
//
// The GEMM code is gemm_template.h, shared with the AVX2 path (which runs on every x86 CI
// machine); the only AVX-512-specific code is the instruction macros below, the masked tails of
// the array loops and vecmath_avx512.h. On CPUs without AVX-512 the tests still check this file:
// they compile it against a software model of the intrinsics (avx512_model/immintrin.h, with
// RECUR_AVX512_MODEL defined and RECUR_TARGET_AVX512 empty) and compare the forced "avx512" path
// with double precision. Under the model the transposing pack uses the template's scalar loop
// (the 8x8 AVX transpose it uses on hardware is shared with, and tested by, the AVX2 path).
#if defined(__x86_64__) || defined(__i386__)

#include <immintrin.h>

#include "internal.h"
#include "vecmath_avx512.h"
#ifndef RECUR_AVX512_MODEL
#include "transpose_avx2.h"  // AVX-512 implies AVX2: the 8x8 ymm transpose serves both
#endif

#ifndef RECUR_AVX512_MR
#define RECUR_AVX512_MR 8
#endif
#ifndef RECUR_AVX512_NR
#define RECUR_AVX512_NR 48
#endif
// Blocking where CPUID gives no cache sizes (gemm.c otherwise derives it from the L1D and L2:
// the same 192 on Zen 5's 48 KiB L1D, where a KC x 48 B panel is 36 KiB; 128 on Zen 4's 32 KiB);
// an MC x KC A block (192 KiB) fits in L2 (1-2 MiB).
#ifndef RECUR_AVX512_KC
#define RECUR_AVX512_KC 192
#endif
#ifndef RECUR_AVX512_MC
#define RECUR_AVX512_MC 256
#endif

// MARK: - GEMM

#define GT_SUFFIX avx512
#define GT_ATTR RECUR_TARGET_AVX512
#define GT_MR RECUR_AVX512_MR
#define GT_NR RECUR_AVX512_NR
#define GT_VL 16
#define GT_VEC __m512
#define GT_ZERO() _mm512_setzero_ps()
#define GT_LOAD(p) _mm512_load_ps(p)
#define GT_LOADU(p) _mm512_loadu_ps(p)
#define GT_STOREU(p, v) _mm512_storeu_ps((p), (v))
#define GT_BCAST(p) _mm512_set1_ps(*(p))
#define GT_SET1(x) _mm512_set1_ps(x)
#define GT_FMA(a, b, c) _mm512_fmadd_ps((a), (b), (c))
#define GT_MUL(a, b) _mm512_mul_ps((a), (b))
#ifndef RECUR_AVX512_MODEL
#define GT_TRANSPOSE8(src, lds, dst, ldd) recur_transpose8x8_avx2((src), (lds), (dst), (ldd))
#endif
#include "gemm_template.h"

// MARK: - Vector math over arrays

#define RECUR_VMAP_AVX512(name, f)                                                  \
  static RECUR_TARGET_AVX512 void name(const float *x, float *y, size_t n) {        \
    size_t i = 0;                                                                   \
    for (; i + 32 <= n; i += 32) {                                                  \
      __m512 a = f(_mm512_loadu_ps(x + i));                                         \
      __m512 b = f(_mm512_loadu_ps(x + i + 16));                                    \
      _mm512_storeu_ps(y + i, a);                                                   \
      _mm512_storeu_ps(y + i + 16, b);                                              \
    }                                                                               \
    for (; i < n; i += 16) {                                                        \
      __mmask16 m = recur_tail_mask_avx512((long)(n - i));                          \
      _mm512_mask_storeu_ps(y + i, m, f(_mm512_maskz_loadu_ps(m, x + i)));          \
    }                                                                               \
  }
RECUR_VMAP_AVX512(vexp_avx512, recur_exp_avx512)
RECUR_VMAP_AVX512(vsigmoid_avx512, recur_sigmoid_avx512)
RECUR_VMAP_AVX512(vtanh_avx512, recur_tanh_avx512)

// MARK: - Peak

/// 16 independent accumulators: FMA latency 4 x 2 pipes needs 8; 16 leaves margin.
static RECUR_TARGET_AVX512 double fma_loop_avx512(long iters) {
  __m512 b = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-7f);
  __m512 x[16];
  for (int j = 0; j < 16; j++) x[j] = _mm512_set1_ps(1.0f);
  for (long i = 0; i < iters; i++) {
#ifndef RECUR_AVX512_MODEL
    __asm__("" : "+v"(x[0]), "+v"(x[1]), "+v"(x[2]), "+v"(x[3]), "+v"(x[4]), "+v"(x[5]),
                 "+v"(x[6]), "+v"(x[7]));
    __asm__("" : "+v"(x[8]), "+v"(x[9]), "+v"(x[10]), "+v"(x[11]), "+v"(x[12]), "+v"(x[13]),
                 "+v"(x[14]), "+v"(x[15]));
#endif
    for (int j = 0; j < 16; j++) x[j] = _mm512_fmadd_ps(x[j], b, c);
  }
  __m512 s = x[0];
  for (int j = 1; j < 16; j++) s = _mm512_add_ps(s, x[j]);
  volatile float sink = _mm512_cvtss_f32(s);
  (void)sink;
  return (double)iters * 16 * 16 * 2;
}

const recur_isa_ops recur_ops_avx512 = RECUR_ISA_OPS_TABLE(avx512, RECUR_ISA_AVX512, "avx512", RECUR_AVX512_MR,
                                                            RECUR_AVX512_NR, RECUR_AVX512_KC, RECUR_AVX512_MC);

#endif
