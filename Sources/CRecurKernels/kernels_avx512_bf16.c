// The bfloat16 GEMM path behind recur_set_matmul_precision(RECUR_MATMUL_MEDIUM): float32 in and
// out, operands rounded to bfloat16 (round to nearest even) as they are packed, products
// summed in float32 by VDPBF16PS, which does 32 multiply-adds per instruction where FMA does 16.
// What torch.set_float32_matmul_precision("medium") allows PyTorch to do on such CPUs.
//
// Only the GEMM differs from the AVX-512 path (recur_ops_avx512 keeps the vector math, the
// cell kernels and the FP32 packing this file reuses), so this table has no vector-math entries
// and is reached only through recur_gemm_ops(). It runs on CPUs with AVX512_BF16 (Zen 4 and
// later, Cooper Lake, Sapphire Rapids and later); elsewhere medium precision falls back to FP32.
//
// Layouts: the FP32 layouts of gemm_template.h with K taken two at a time. A 32-bit word holds
// the bfloat16 of an even k in its low half and of the next k in its high half (zero past the
// end of a K block):
//   packed A block: ceil(mc/MR) micro-panels of ceil(kc/2) x MR words (word (p, i) at p*MR + i)
//   packed B panel: ceil(kc/2) x NR words (word (p, j) at p*NR + j)
// Each needs at most as many words as its FP32 form has floats, so the driver's offsets and
// scratch sizes (in floats) hold unchanged; a B panel keeps its FP32 stride of kc*NR.
#if defined(__x86_64__) && !defined(RECUR_AVX512_MODEL)

#include <immintrin.h>
#include <string.h>

#include "internal.h"
#include "transpose_avx2.h"

#define RECUR_TARGET_AVX512_BF16 \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx512bf16,fma")))

enum {
  BF_MR = 8,   // rows of A per micro-tile
  BF_NR = 48,  // columns of B per micro-tile: 3 zmm
  // k values per block where the cache sizes are unknown (gemm.c derives it from the L1D: 384
  // on a 48 KiB L1D, a 192-word x 48 B panel of 36 KiB); an MC x KC A block is 192 KiB in L2
  BF_KC = 384,
  BF_MC = 256,
};

// MARK: - Rounding to bfloat16

/// The bfloat16 bits of x as VCVTNEPS2BF16 makes them: round to nearest even, subnormal inputs
/// to zero (DAZ), NaN stays a (quiet) NaN.
static inline uint32_t bf16_bits(float x) {
  uint32_t u;
  memcpy(&u, &x, sizeof u);
  if ((u & 0x7f800000u) == 0) return (u >> 16) & 0x8000u;
  if ((u & 0x7fffffffu) > 0x7f800000u) return (u >> 16) | 0x40u;
  u += 0x7fffu + ((u >> 16) & 1u);
  return u >> 16;
}

static inline uint32_t bf16_pair(float lo, float hi) { return bf16_bits(lo) | bf16_bits(hi) << 16; }

/// n floats → ceil(n/2) words (pairs of consecutive floats; a missing last one is zero).
static RECUR_TARGET_AVX512_BF16 void pairs_of_row(const float *src, int n, uint32_t *dst) {
  int k = 0;
  for (; k + 32 <= n; k += 32) {
    __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(src + k + 16), _mm512_loadu_ps(src + k));
    _mm512_storeu_si512((void *)(dst + k / 2), (__m512i)v);
  }
  for (; k + 1 < n; k += 2) dst[k / 2] = bf16_pair(src[k], src[k + 1]);
  if (k < n) dst[k / 2] = bf16_pair(src[k], 0.0f);
}

/// 16 words interleaving x[0..16) (low halves) with y[0..16) (high halves).
static RECUR_TARGET_AVX512_BF16 __m512i interleave16(const float *x, const float *y) {
  const __m512i order = _mm512_set_epi16(31, 15, 30, 14, 29, 13, 28, 12, 27, 11, 26, 10, 25, 9,
                                         24, 8, 23, 7, 22, 6, 21, 5, 20, 4, 19, 3, 18, 2, 17, 1,
                                         16, 0);
  __m512bh v = _mm512_cvtne2ps_pbh(_mm512_loadu_ps(y), _mm512_loadu_ps(x));
  return _mm512_permutexvar_epi16(order, (__m512i)v);
}

/// 8 words interleaving x[0..8) (low halves) with y[0..8) (high halves).
static RECUR_TARGET_AVX512_BF16 __m256i interleave8(const float *x, const float *y) {
  const __m256i order = _mm256_set_epi16(15, 7, 14, 6, 13, 5, 12, 4, 11, 3, 10, 2, 9, 1, 8, 0);
  __m512 both = _mm512_insertf32x8(_mm512_castps256_ps512(_mm256_loadu_ps(x)), _mm256_loadu_ps(y), 1);
  __m256bh v = _mm512_cvtneps_pbh(both);
  return _mm256_permutexvar_epi16(order, (__m256i)v);
}

// MARK: - Packing

/// Scratch for the NR rows of a transposed B converted to words before the FP32 transposing pack.
enum { BF_ROW_WORDS = (BF_KC + 1) / 2 };

/// Micro-panel of rows [t, t+mr) of a transposed A (stored [K, M]): a word pairs rows k and k+1
/// of the storage at the same column.
static RECUR_TARGET_AVX512_BF16 void pack_a_panel_transposed(const float *A, long lda, int col,
                                                             int mr, int k0, int kc, uint32_t *dst) {
  const int kcp = (kc + 1) / 2;
  for (int p = 0; p < kcp; p++) {
    const float *r0 = A + (size_t)(k0 + 2 * p) * lda + col;
    const float *r1 = 2 * p + 1 < kc ? r0 + lda : NULL;
    uint32_t *w = dst + (size_t)p * BF_MR;
    if (r1 != NULL && mr == BF_MR) {
      _mm256_store_si256((__m256i *)w, interleave8(r0, r1));
    } else {
      for (int i = 0; i < mr; i++) w[i] = bf16_pair(r0[i], r1 ? r1[i] : 0.0f);
      for (int i = mr; i < BF_MR; i++) w[i] = 0;
    }
  }
}

/// Micro-panel of rows [row, row+mr) of an untransposed A: row i's pairs are adjacent floats.
static RECUR_TARGET_AVX512_BF16 void pack_a_panel(const float *A, long lda, int row, int mr,
                                                  int k0, int kc, uint32_t *dst) {
  const int kcp = (kc + 1) / 2;
  const float *src = A + (size_t)row * lda + k0;
  int p = 0;
  if (mr == BF_MR) {
    // 8 rows x 16 floats → 8 x 8 words, transposed into place
    for (; 2 * p + 16 <= kc; p += 8) {
      _Alignas(32) uint32_t block[BF_MR * 8];
      for (int i = 0; i < BF_MR; i++) {
        __m256bh w = _mm512_cvtneps_pbh(_mm512_loadu_ps(src + (size_t)i * lda + 2 * p));
        _mm256_store_si256((__m256i *)(block + i * 8), (__m256i)w);
      }
      recur_transpose8x8_avx2((const float *)block, 8, (float *)(dst + (size_t)p * BF_MR), BF_MR);
    }
  }
  for (; p < kcp; p++) {
    uint32_t *w = dst + (size_t)p * BF_MR;
    for (int i = 0; i < mr; i++) {
      const float *r = src + (size_t)i * lda + 2 * p;
      w[i] = bf16_pair(r[0], 2 * p + 1 < kc ? r[1] : 0.0f);
    }
    for (int i = mr; i < BF_MR; i++) w[i] = 0;
  }
}

/// See recur_isa_ops.pack_a; kc <= BF_KC.
static RECUR_TARGET_AVX512_BF16 void pack_a_bf16(int transA, const float *A, long lda, int i0,
                                                  int mc, int k0, int kc, float *Ap) {
  const int kcp = (kc + 1) / 2;
  uint32_t *panels = (uint32_t *)Ap;
  int t = 0;
  if (transA) {
    // two micro-panels at a time: 16 adjacent floats of each storage row, whole cache lines
    for (; t + 2 * BF_MR <= mc; t += 2 * BF_MR) {
      uint32_t *d0 = panels + (size_t)(t / BF_MR) * kcp * BF_MR, *d1 = d0 + (size_t)kcp * BF_MR;
      int p = 0;
      for (; 2 * p + 1 < kc; p++) {
        const float *r0 = A + (size_t)(k0 + 2 * p) * lda + i0 + t;
        __m512i w = interleave16(r0, r0 + lda);
        _mm256_store_si256((__m256i *)(d0 + (size_t)p * BF_MR), _mm512_castsi512_si256(w));
        _mm256_store_si256((__m256i *)(d1 + (size_t)p * BF_MR), _mm512_extracti64x4_epi64(w, 1));
      }
      if (p < kcp) {  // odd kc: the last pair has no high half
        const float *r0 = A + (size_t)(k0 + 2 * p) * lda + i0 + t;
        for (int i = 0; i < BF_MR; i++) {
          d0[(size_t)p * BF_MR + i] = bf16_pair(r0[i], 0.0f);
          d1[(size_t)p * BF_MR + i] = bf16_pair(r0[BF_MR + i], 0.0f);
        }
      }
    }
  }
  for (; t < mc; t += BF_MR) {
    int mr = mc - t < BF_MR ? mc - t : BF_MR;
    uint32_t *dst = panels + (size_t)(t / BF_MR) * kcp * BF_MR;
    if (transA) {
      pack_a_panel_transposed(A, lda, i0 + t, mr, k0, kc, dst);
    } else {
      pack_a_panel(A, lda, i0 + t, mr, k0, kc, dst);
    }
  }
}

/// See recur_isa_ops.pack_b_panel; kc <= BF_KC.
static RECUR_TARGET_AVX512_BF16 void pack_b_panel_bf16(int transB, const float *B, long ldb,
                                                        int k0, int kc, int j0, int nr,
                                                        float *Bp) {
  const int kcp = (kc + 1) / 2;
  uint32_t *dst = (uint32_t *)Bp;
  if (transB) {
    // stored [N, K]: column j's pairs are adjacent floats of row j
    _Alignas(64) uint32_t rows[BF_NR * BF_ROW_WORDS];
    for (int j = 0; j < nr; j++) pairs_of_row(B + (size_t)(j0 + j) * ldb + k0, kc, rows + j * kcp);
    recur_ops_avx512.pack_b_panel(1, (const float *)rows, kcp, 0, kcp, 0, nr, (float *)dst);
    return;
  }
  // stored [K, N]: a word pairs rows k and k+1 at the same column
  for (int p = 0; p < kcp; p++) {
    const float *r0 = B + (size_t)(k0 + 2 * p) * ldb + j0;
    uint32_t *w = dst + (size_t)p * BF_NR;
    if (2 * p + 1 < kc && nr == BF_NR) {
      for (int v = 0; v < BF_NR; v += 16) _mm512_store_si512((void *)(w + v), interleave16(r0 + v, r0 + ldb + v));
    } else {
      const float *r1 = 2 * p + 1 < kc ? r0 + ldb : NULL;
      for (int j = 0; j < nr; j++) w[j] = bf16_pair(r0[j], r1 ? r1[j] : 0.0f);
      for (int j = nr; j < BF_NR; j++) w[j] = 0;
    }
  }
}

// MARK: - Micro- and macro-kernel

/// C[0:R, 0:16*NV] = alpha * A_panel * B_panel + beta * C over kcp word pairs (beta == 0: C not
/// read; NV = 3 the full panel, fewer for an edge); prefetches the next B panel as the FP32
/// micro-kernel does.
static inline __attribute__((always_inline)) RECUR_TARGET_AVX512_BF16 void ukr_body_bf16(
    const int R, const int NV, int kcp, const uint32_t *restrict a, const uint32_t *restrict b,
    float *restrict c, long ldc, float alpha, float beta, const float *pf, long pfs) {
  __m512 acc[BF_MR][3];
#pragma unroll
  for (int i = 0; i < R; i++) {
#pragma unroll
    for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();
  }
#pragma unroll
  for (int i = 0; i < R; i++) {
    __builtin_prefetch(c + i * ldc, 1, 3);
    __builtin_prefetch(c + i * ldc + BF_NR - 1, 1, 3);
  }
#define BF_STEP()                                                                   \
  do {                                                                              \
    __m512bh bv[3];                                                                 \
    _Pragma("unroll") for (int v = 0; v < NV; v++)                                  \
      bv[v] = (__m512bh)_mm512_load_si512((const void *)(b + 16 * v));              \
    _Pragma("unroll") for (int i = 0; i < R; i++) {                                 \
      __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);                         \
      _Pragma("unroll") for (int v = 0; v < NV; v++)                                \
        acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);                         \
    }                                                                               \
    a += BF_MR;                                                                     \
    b += BF_NR;                                                                     \
  } while (0)
  int p = 0;
  for (; p + 4 <= kcp; p += 4) {
    recur_prefetch_span(pf, pfs);
    pf += pfs;
    BF_STEP();
    BF_STEP();
    BF_STEP();
    BF_STEP();
  }
  for (; p < kcp; p++) BF_STEP();
#undef BF_STEP
  __m512 va = _mm512_set1_ps(alpha);
#pragma unroll
  for (int i = 0; i < R; i++) {
#pragma unroll
    for (int v = 0; v < NV; v++) {
      float *cp = c + i * ldc + v * 16;
      __m512 r = _mm512_mul_ps(acc[i][v], va);
      if (beta == 1.0f) {
        r = _mm512_add_ps(r, _mm512_loadu_ps(cp));
      } else if (beta != 0.0f) {
        r = _mm512_fmadd_ps(_mm512_loadu_ps(cp), _mm512_set1_ps(beta), r);
      }
      _mm512_storeu_ps(cp, r);
    }
  }
}

typedef void (*bf16_ukr_fn)(int kcp, const uint32_t *a, const uint32_t *b, float *c, long ldc,
                            float alpha, float beta, const float *pf, long pfs);

#define BF_UKR_ROWS(R)                                                                        \
  static RECUR_TARGET_AVX512_BF16 void ukr_bf16_##R(int kcp, const uint32_t *a,               \
                                                     const uint32_t *b, float *c, long ldc,   \
                                                     float alpha, float beta, const float *pf, \
                                                     long pfs) {                              \
    ukr_body_bf16(R, 3, kcp, a, b, c, ldc, alpha, beta, pf, pfs);                             \
  }
BF_UKR_ROWS(1)
BF_UKR_ROWS(2)
BF_UKR_ROWS(3)
BF_UKR_ROWS(4)
BF_UKR_ROWS(5)
BF_UKR_ROWS(6)
BF_UKR_ROWS(7)
BF_UKR_ROWS(8)

/// An edge panel's 8 x 16*NV tile, on the NV vectors its columns need, into `tile` (stride NR).
#define BF_UKR_NARROW(NV)                                                                        \
  static RECUR_TARGET_AVX512_BF16 void ukr_bf16_narrow_##NV(int kcp, const uint32_t *a,          \
                                                            const uint32_t *b, float *tile,      \
                                                            const float *pf, long pfs) {         \
    ukr_body_bf16(BF_MR, NV, kcp, a, b, tile, BF_NR, 1.0f, 0.0f, pf, pfs);                       \
  }
BF_UKR_NARROW(1)
BF_UKR_NARROW(2)
BF_UKR_NARROW(3)

static const bf16_ukr_fn ukr_bf16_by_rows[BF_MR + 1] = {
    0, ukr_bf16_1, ukr_bf16_2, ukr_bf16_3, ukr_bf16_4, ukr_bf16_5, ukr_bf16_6, ukr_bf16_7, ukr_bf16_8,
};

/// See recur_isa_ops.macro_kernel (panels of B kc*NR floats apart, as the driver lays them out).
static RECUR_TARGET_AVX512_BF16 void macro_kernel_bf16(int mc, int kc, const float *Ap,
                                                        const float *Bp, int jp0, int jp1, int n,
                                                        float *C, long ldc, float alpha,
                                                        float beta, const float *after) {
  const int kcp = (kc + 1) / 2;
  const long stride = (long)kc * BF_NR;  // floats from one panel to the next
  const long panel = (long)kcp * BF_NR;  // words a panel occupies
  const int tiles = (mc + BF_MR - 1) / BF_MR;
  const int steps = kcp / 4 > 0 ? kcp / 4 : 1;
  long pfs = (panel + (long)tiles * steps - 1) / ((long)tiles * steps);
  for (int jp = jp0; jp < jp1; jp++) {
    const float *b = Bp + (size_t)(jp - jp0) * stride;
    const float *next = jp + 1 < jp1 ? b + stride : after ? after : b;
    long step = jp + 1 < jp1 || after ? pfs : 0;
    int j0 = jp * BF_NR;
    int nr = n - j0 < BF_NR ? n - j0 : BF_NR;
    for (int t = 0; t < tiles; t++) {
      int i0 = t * BF_MR;
      const uint32_t *a = (const uint32_t *)Ap + (size_t)t * kcp * BF_MR;
      int mr = mc - i0 < BF_MR ? mc - i0 : BF_MR;
      float *c = C + i0 * ldc + j0;
      const float *pf = next + (size_t)t * steps * step;
      if (nr == BF_NR) {
        ukr_bf16_by_rows[mr](kcp, a, (const uint32_t *)b, c, ldc, alpha, beta, pf, step);
      } else {
        _Alignas(64) float tile[BF_MR * BF_NR];
        switch ((nr + 15) / 16) {
          case 1: ukr_bf16_narrow_1(kcp, a, (const uint32_t *)b, tile, pf, step); break;
          case 2: ukr_bf16_narrow_2(kcp, a, (const uint32_t *)b, tile, pf, step); break;
          default: ukr_bf16_narrow_3(kcp, a, (const uint32_t *)b, tile, pf, step); break;
        }
        for (int i = 0; i < mr; i++) {
          float *ci = c + i * ldc;
          const float *ti = tile + i * BF_NR;
          for (int j = 0; j < nr; j++) ci[j] = alpha * ti[j] + (beta == 0.0f ? 0.0f : beta * ci[j]);
        }
      }
    }
  }
}

const recur_isa_ops recur_ops_avx512_bf16 = {
    .isa = RECUR_ISA_AVX512,
    .name = "avx512",
    .bf16 = 1,
    .mr = BF_MR,
    .nr = BF_NR,
    .kc_max = BF_KC,
    .mc = BF_MC,
    .pack_a = pack_a_bf16,
    .pack_b_panel = pack_b_panel_bf16,
    .macro_kernel = macro_kernel_bf16,
};

#endif
