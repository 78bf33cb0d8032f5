// GEMM micro-kernel, macro-kernel and packing routines, written once and instantiated per ISA
// (kernels_portable.c, kernels_avx2.c, kernels_avx512.c include this file after defining):
//
//   GT_SUFFIX            token appended to every function name (portable, avx2, avx512)
//   GT_ATTR              function attribute selecting the ISA (target(...)), may be empty
//   GT_MR, GT_NR         micro-tile: rows of A, columns of B; GT_NR a multiple of GT_VL
//   GT_VL                floats per vector register (1 = scalar)
//   GT_VEC               vector type
//   GT_ZERO()            all-zero vector
//   GT_LOAD(p)           load GT_VL floats from a 4*GT_VL-byte aligned address
//   GT_LOADU(p)          load GT_VL floats, any alignment
//   GT_STOREU(p, v)      store GT_VL floats, any alignment
//   GT_BCAST(p)          vector of GT_VL copies of *p
//   GT_SET1(x)           vector of GT_VL copies of x
//   GT_FMA(a, b, c)      a * b + c (fused where the ISA has it)
//   GT_MUL(a, b)         a * b
//   GT_TRANSPOSE8(src, lds, dst, ldd)   optional: dst[c*ldd + r] = src[r*lds + c], r, c < 8
//
// Only these macros differ between ISAs; the blocking logic is shared, so the AVX-512 path
// (which this machine may not be able to run) is the AVX2 path with wider registers.
//
// Layouts (BLIS):
//   packed A block: ceil(mc/MR) micro-panels, each kc x MR floats, row index fastest
//                   (element (i, k) of micro-panel t at [t*kc*MR + k*MR + i]), rows >= mc zero.
//   packed B panel: kc x NR floats, column index fastest ([k*NR + j]), columns >= nr zero.

#ifndef GT_SUFFIX
#error "define GT_SUFFIX and the other GT_ macros before including gemm_template.h"
#endif

#include <stddef.h>
#include <string.h>

#define GT_CAT2(a, b) a##_##b
#define GT_CAT(a, b) GT_CAT2(a, b)
#define GT_FN(name) GT_CAT(name, GT_SUFFIX)
#define GT_NV (GT_NR / GT_VL)

#if defined(__clang__)
#define GT_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define GT_UNROLL _Pragma("GCC unroll 64")
#else
#define GT_UNROLL
#endif

#if GT_NR % GT_VL != 0
#error "GT_NR must be a multiple of GT_VL"
#endif

/// The register-blocked micro-kernel: C[0:R, 0:NV*VL] = alpha * A_panel * B_panel + beta * C
/// (beta == 0: C is not read). R and NV are compile-time constants after inlining (1..MR, 1..NR/VL
/// vectors of the B panel, which keeps its NR-float rows); the
/// accumulators acc[R][NV] live in registers. Every 4 steps of k the pfs floats at pf are
/// prefetched into L2 and pf advances by pfs: the macro-kernel uses this to fetch the next B
/// panel while the current one is in use, spread evenly over that panel's tiles.
static inline __attribute__((always_inline)) GT_ATTR void GT_FN(ukr_body)(
    const int R, const int NV, int kc, const float *restrict a, const float *restrict b, float *restrict c,
    long ldc, float alpha, float beta, const float *pf, long pfs) {
  GT_VEC acc[GT_MR][GT_NV];
  GT_UNROLL for (int i = 0; i < R; i++) {
    GT_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = GT_ZERO();
  }
  GT_UNROLL for (int i = 0; i < R; i++) {
    __builtin_prefetch(c + i * ldc, 1, 3);
    __builtin_prefetch(c + i * ldc + GT_NR - 1, 1, 3);
  }
#define GT_STEP()                                                                     \
  do {                                                                                \
    GT_VEC bv[GT_NV];                                                                 \
    GT_UNROLL for (int v = 0; v < NV; v++) bv[v] = GT_LOAD(b + v * GT_VL);         \
    GT_UNROLL for (int i = 0; i < R; i++) {                                           \
      GT_VEC ai = GT_BCAST(a + i);                                                    \
      GT_UNROLL for (int v = 0; v < NV; v++) acc[i][v] = GT_FMA(ai, bv[v], acc[i][v]); \
    }                                                                                 \
    a += GT_MR;                                                                       \
    b += GT_NR;                                                                       \
  } while (0)
  int k = 0;
  for (; k + 4 <= kc; k += 4) {
    recur_prefetch_span(pf, pfs);
    pf += pfs;
    GT_STEP();
    GT_STEP();
    GT_STEP();
    GT_STEP();
  }
  for (; k < kc; k++) GT_STEP();
#undef GT_STEP
  GT_VEC va = GT_SET1(alpha);
  if (beta == 0.0f) {
    GT_UNROLL for (int i = 0; i < R; i++) {
      GT_UNROLL for (int v = 0; v < NV; v++)
        GT_STOREU(c + i * ldc + v * GT_VL, GT_MUL(acc[i][v], va));
    }
  } else if (beta == 1.0f) {
    GT_UNROLL for (int i = 0; i < R; i++) {
      GT_UNROLL for (int v = 0; v < NV; v++) {
        float *cp = c + i * ldc + v * GT_VL;
        GT_STOREU(cp, GT_FMA(acc[i][v], va, GT_LOADU(cp)));
      }
    }
  } else {
    GT_VEC vb = GT_SET1(beta);
    GT_UNROLL for (int i = 0; i < R; i++) {
      GT_UNROLL for (int v = 0; v < NV; v++) {
        float *cp = c + i * ldc + v * GT_VL;
        GT_STOREU(cp, GT_FMA(acc[i][v], va, GT_MUL(GT_LOADU(cp), vb)));
      }
    }
  }
}

/// A tile narrower than NR (the last column panel): the micro-kernel on the ceil(nr/VL) vectors
/// the columns need (a 16-column edge of a 48-column kernel costs a third of a full tile, not a
/// full one), into a local tile whose mr x nr corner is then merged into C.
#define GT_UKR_NARROW(NVE)                                                                    \
  static GT_ATTR void GT_CAT(GT_FN(ukr_narrow), NVE)(int kc, const float *a, const float *b,  \
                                                     float *tile, const float *pf, long pfs) { \
    GT_FN(ukr_body)(GT_MR, NVE, kc, a, b, tile, GT_NR, 1.0f, 0.0f, pf, pfs);                   \
  }
GT_UKR_NARROW(1)
#if GT_NV >= 2
GT_UKR_NARROW(2)
#endif
#if GT_NV >= 3
GT_UKR_NARROW(3)
#endif
#if GT_NV >= 4
GT_UKR_NARROW(4)
#endif
#if GT_NV > 4
#error "GT_NR > 4 vectors: add more GT_UKR_NARROW cases"
#endif

static GT_ATTR void GT_FN(ukr_edge)(int mr, int nr, int kc, const float *a, const float *b,
                                    float *c, long ldc, float alpha, float beta, const float *pf,
                                    long pfs) {
  _Alignas(64) float tile[GT_MR * GT_NR];
  switch ((nr + GT_VL - 1) / GT_VL) {
    case 1: GT_CAT(GT_FN(ukr_narrow), 1)(kc, a, b, tile, pf, pfs); break;
#if GT_NV >= 2
    case 2: GT_CAT(GT_FN(ukr_narrow), 2)(kc, a, b, tile, pf, pfs); break;
#endif
#if GT_NV >= 3
    case 3: GT_CAT(GT_FN(ukr_narrow), 3)(kc, a, b, tile, pf, pfs); break;
#endif
#if GT_NV >= 4
    case 4: GT_CAT(GT_FN(ukr_narrow), 4)(kc, a, b, tile, pf, pfs); break;
#endif
  }
  for (int i = 0; i < mr; i++) {
    float *ci = c + i * ldc;
    const float *ti = tile + i * GT_NR;
    if (beta == 0.0f) {
      for (int j = 0; j < nr; j++) ci[j] = alpha * ti[j];
    } else {
      for (int j = 0; j < nr; j++) ci[j] = alpha * ti[j] + beta * ci[j];
    }
  }
}

/// Full-width tiles, one function per row count so each keeps its accumulators in registers.
#define GT_UKR_ROWS(R)                                                                      \
  static GT_ATTR void GT_CAT(GT_FN(ukr), R)(int kc, const float *a, const float *b, float *c, \
                                            long ldc, float alpha, float beta, const float *pf, \
                                            long pfs) {                                     \
    GT_FN(ukr_body)(R, GT_NV, kc, a, b, c, ldc, alpha, beta, pf, pfs);                             \
  }
GT_UKR_ROWS(1)
#if GT_MR >= 2
GT_UKR_ROWS(2)
#endif
#if GT_MR >= 3
GT_UKR_ROWS(3)
#endif
#if GT_MR >= 4
GT_UKR_ROWS(4)
#endif
#if GT_MR >= 5
GT_UKR_ROWS(5)
#endif
#if GT_MR >= 6
GT_UKR_ROWS(6)
#endif
#if GT_MR >= 7
GT_UKR_ROWS(7)
#endif
#if GT_MR >= 8
GT_UKR_ROWS(8)
#endif
#if GT_MR > 8
#error "GT_MR > 8: add more GT_UKR_ROWS cases"
#endif

typedef void (*GT_FN(ukr_fn))(int kc, const float *a, const float *b, float *c, long ldc,
                              float alpha, float beta, const float *pf, long pfs);

static const GT_FN(ukr_fn) GT_FN(ukr_by_rows)[GT_MR + 1] = {
    0,
    GT_CAT(GT_FN(ukr), 1),
#if GT_MR >= 2
    GT_CAT(GT_FN(ukr), 2),
#endif
#if GT_MR >= 3
    GT_CAT(GT_FN(ukr), 3),
#endif
#if GT_MR >= 4
    GT_CAT(GT_FN(ukr), 4),
#endif
#if GT_MR >= 5
    GT_CAT(GT_FN(ukr), 5),
#endif
#if GT_MR >= 6
    GT_CAT(GT_FN(ukr), 6),
#endif
#if GT_MR >= 7
    GT_CAT(GT_FN(ukr), 7),
#endif
#if GT_MR >= 8
    GT_CAT(GT_FN(ukr), 8),
#endif
};

/// See recur_isa_ops.macro_kernel. Loop order: column panels outside (a kc x NR panel of B
/// stays in L1 while every MR-row panel of the A block, from L2, passes over it). While the
/// tiles of one panel run, they prefetch the next panel, each tile an equal share: with few
/// rows (small M) the first tile would otherwise wait on memory for the whole panel. The last
/// panel prefetches `after`, the caller's next panel, when it is given.
static GT_ATTR void GT_FN(macro_kernel)(int mc, int kc, const float *Ap, const float *Bp, int jp0,
                                        int jp1, int n, float *C, long ldc, float alpha,
                                        float beta, const float *after) {
  const long panel = (long)kc * GT_NR;  // floats per B panel
  const int tiles = (mc + GT_MR - 1) / GT_MR;
  const int steps = kc / 4 > 0 ? kc / 4 : 1;  // prefetches per tile
  // floats between prefetches so that `tiles` tiles x `steps` prefetches cover a panel
  long pfs = (panel + (long)tiles * steps - 1) / ((long)tiles * steps);
  for (int jp = jp0; jp < jp1; jp++) {
    const float *b = Bp + (size_t)(jp - jp0) * panel;
    const float *next = jp + 1 < jp1 ? b + panel : after ? after : b;
    long step = jp + 1 < jp1 || after ? pfs : 0;
    int j0 = jp * GT_NR;
    int nr = n - j0 < GT_NR ? n - j0 : GT_NR;
    for (int t = 0; t < tiles; t++) {
      int i0 = t * GT_MR;
      const float *a = Ap + (size_t)t * kc * GT_MR;
      int mr = mc - i0 < GT_MR ? mc - i0 : GT_MR;
      float *c = C + i0 * ldc + j0;
      const float *pf = next + (size_t)t * steps * step;
      if (nr == GT_NR) {
        GT_FN(ukr_by_rows)[mr](kc, a, b, c, ldc, alpha, beta, pf, step);
      } else {
        GT_FN(ukr_edge)(mr, nr, kc, a, b, c, ldc, alpha, beta, pf, step);
      }
    }
  }
}

/// See recur_isa_ops.pack_a.
static GT_ATTR void GT_FN(pack_a)(int transA, const float *A, long lda, int i0, int mc, int k0,
                                  int kc, float *Ap) {
  if (transA) {
    // stored [K, M]: element (i, k) at A[(k0 + k)*lda + i0 + i], rows of the block contiguous.
    // 8 k's at a time across all micro-panels, so every source row is read front to back while
    // it is in L1 (micro-panel by micro-panel, the rows lda apart were read 32 bytes at a time
    // in an order the hardware prefetchers do not follow)
    for (int kb = 0; kb < kc; kb += 8) {
      int kn = kc - kb < 8 ? kc - kb : 8;
      const float *src = A + (size_t)(k0 + kb) * lda + i0;
      // the next 8 rows, fetched while these are copied (an operand that comes from memory, such
      // as the gate gradients of all T*B rows, would otherwise stall every row's first line)
      for (int k = 8; k < 16 && kb + k < kc; k++) recur_prefetch_span(src + (size_t)k * lda, mc);
      for (int t = 0; t < mc; t += GT_MR) {
        int mr = mc - t < GT_MR ? mc - t : GT_MR;
        float *restrict dst = Ap + (size_t)(t / GT_MR) * kc * GT_MR + (size_t)kb * GT_MR;
        if (mr == GT_MR) {
          for (int k = 0; k < kn; k++) memcpy(dst + k * GT_MR, src + (size_t)k * lda + t, sizeof(float) * GT_MR);
        } else {
          for (int k = 0; k < kn; k++) {
            for (int i = 0; i < mr; i++) dst[k * GT_MR + i] = src[k * lda + t + i];
            for (int i = mr; i < GT_MR; i++) dst[k * GT_MR + i] = 0.0f;
          }
        }
      }
    }
    return;
  }
  for (int t = 0; t < mc; t += GT_MR) {
    int mr = mc - t < GT_MR ? mc - t : GT_MR;
    float *restrict dst = Ap + (size_t)(t / GT_MR) * kc * GT_MR;
    // element (i, k) at src[i*lda + k]: MR rows read side by side
    const float *src = A + (size_t)(i0 + t) * lda + k0;
    if (mr == GT_MR) {
      int k = 0;
#if defined(GT_TRANSPOSE8) && GT_MR == 8
      // 8 rows x 8 k's at a time, transposed in registers (element by element, the strided
      // reads made packing A cost as much as the product when N is small)
      for (; k + 8 <= kc; k += 8) GT_TRANSPOSE8(src + k, lda, dst + (size_t)k * GT_MR, GT_MR);
#endif
      for (; k < kc; k++) {
        GT_UNROLL for (int i = 0; i < GT_MR; i++) dst[k * GT_MR + i] = src[i * lda + k];
      }
    } else {
      for (int k = 0; k < kc; k++) {
        for (int i = 0; i < mr; i++) dst[k * GT_MR + i] = src[i * lda + k];
        for (int i = mr; i < GT_MR; i++) dst[k * GT_MR + i] = 0.0f;
      }
    }
  }
}

/// See recur_isa_ops.pack_b_panel.
static GT_ATTR void GT_FN(pack_b_panel)(int transB, const float *B, long ldb, int k0, int kc,
                                        int j0, int nr, float *restrict Bp) {
  if (!transB) {
    // element (k, j) at src[k*ldb + j]: rows copied
    const float *src = B + (size_t)k0 * ldb + j0;
    if (nr == GT_NR) {
      for (int k = 0; k < kc; k++) {
        GT_UNROLL for (int v = 0; v < GT_NV; v++)
          GT_STOREU(Bp + k * GT_NR + v * GT_VL, GT_LOADU(src + k * ldb + v * GT_VL));
      }
    } else {
      for (int k = 0; k < kc; k++) {
        for (int j = 0; j < nr; j++) Bp[k * GT_NR + j] = src[k * ldb + j];
        for (int j = nr; j < GT_NR; j++) Bp[k * GT_NR + j] = 0.0f;
      }
    }
  } else {
    // stored [N, K]: element (k, j) at src[j*ldb + k]; transposed in blocks of 8 k's so
    // reads stay contiguous and writes stay within a few lines of the panel
    const float *src = B + (size_t)j0 * ldb + k0;
    int kb = 0;
#if defined(GT_TRANSPOSE8) && GT_NR % 8 == 0
    if (nr == GT_NR) {
      // 16 k's (a whole cache line of each source row) at a time: rows often lie a multiple of
      // 4 KiB apart and share an L1 set, so a line must be used up before the next rows evict it
      for (; kb + 16 <= kc; kb += 16) {
        GT_UNROLL for (int jb = 0; jb < GT_NR; jb += 8) {
          GT_TRANSPOSE8(src + (size_t)jb * ldb + kb, ldb, Bp + (size_t)kb * GT_NR + jb, GT_NR);
          GT_TRANSPOSE8(src + (size_t)jb * ldb + kb + 8, ldb, Bp + (size_t)(kb + 8) * GT_NR + jb, GT_NR);
        }
      }
      for (; kb + 8 <= kc; kb += 8) {
        GT_UNROLL for (int jb = 0; jb < GT_NR; jb += 8)
          GT_TRANSPOSE8(src + (size_t)jb * ldb + kb, ldb, Bp + (size_t)kb * GT_NR + jb, GT_NR);
      }
    }
#endif
    for (; kb < kc; kb += 8) {
      int kn = kc - kb < 8 ? kc - kb : 8;
      for (int j = 0; j < nr; j++) {
        const float *s = src + (size_t)j * ldb + kb;
        for (int k = 0; k < kn; k++) Bp[(kb + k) * GT_NR + j] = s[k];
      }
      for (int j = nr; j < GT_NR; j++) {
        for (int k = 0; k < kn; k++) Bp[(kb + k) * GT_NR + j] = 0.0f;
      }
    }
  }
}

#undef GT_CAT2
#undef GT_CAT
#undef GT_FN
#undef GT_NV
#undef GT_UNROLL
