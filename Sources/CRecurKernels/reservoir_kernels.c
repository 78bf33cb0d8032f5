// Double-precision kernels for echo-state networks (see include/recur_reservoir.h).
//
// Two paths: AVX2+FMA (functions marked __attribute__((target("avx2,fma"))), no global -m flags) and a
// portable scalar path. The path is chosen once, at first use, from __builtin_cpu_supports; the
// environment variable RECUR_ISA=portable forces the portable one (for testing it).

#include "recur_reservoir.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) || defined(__i386__)
#define RECUR_RES_X86 1
#include <immintrin.h>
#else
#define RECUR_RES_X86 0
#endif

// MARK: - Dispatch

static int g_res_path = -1;  // 0 portable, 1 avx2

static int res_path(void) {
  int p = __atomic_load_n(&g_res_path, __ATOMIC_RELAXED);
  if (p >= 0) return p;
  p = 0;
#if RECUR_RES_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) p = 1;
#endif
  const char *force = getenv("RECUR_ISA");
  if (force && strcmp(force, "portable") == 0) p = 0;
  __atomic_store_n(&g_res_path, p, __ATOMIC_RELAXED);
  return p;
}

const char *recur_reservoir_isa_name(void) { return res_path() == 1 ? "avx2" : "portable"; }

// MARK: - Portable kernels

static void vtanh_portable(const double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = tanh(x[i]);
}

static void csr_matvec_portable(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = rs[i], end = rs[i + 1];
    for (; k + 4 <= end; k += 4) {
      s0 += v[k] * x[ci[k]];
      s1 += v[k + 1] * x[ci[k + 1]];
      s2 += v[k + 2] * x[ci[k + 2]];
      s3 += v[k + 3] * x[ci[k + 3]];
    }
    for (; k < end; k++) s0 += v[k] * x[ci[k]];
    y[i] = (s0 + s1) + (s2 + s3);
  }
}

// MARK: - AVX2 + FMA kernels

#if RECUR_RES_X86
#define AVX2 __attribute__((target("avx2,fma")))

// tanh for 4 doubles. |x| < 0.625: Cephes rational x + x z P(z)/Q(z), z = x^2 (relative error
// ~1e-17); otherwise (e - 1)/(e + 1) with e = exp(2|x|) (no cancellation since e > 3.4). Both
// branches are folded into one division; the sign is put back at the end.
AVX2 static inline __m256d tanh4(__m256d x) {
  const __m256d sign_mask = _mm256_set1_pd(-0.0);
  __m256d ax = _mm256_andnot_pd(sign_mask, x);
  __m256d sgn = _mm256_and_pd(sign_mask, x);
  const __m256d one = _mm256_set1_pd(1.0);

  // Small branch.
  __m256d z = _mm256_mul_pd(ax, ax);
  __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(-9.64399179425052238628e-1), z, _mm256_set1_pd(-9.92877231001918586564e1));
  p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-1.61468768441708447952e3));
  p = _mm256_mul_pd(p, z);
  __m256d q = _mm256_add_pd(z, _mm256_set1_pd(1.12811678491632931402e2));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(2.23548839060100448583e3));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(4.84406305325125486048e3));
  __m256d num_s = _mm256_fmadd_pd(ax, p, _mm256_mul_pd(ax, q));  // ax*q + ax*p  -> (ax*Q + ax*z*P')/Q
  __m256d den_s = q;

  // Large branch: e = exp(y), y = 2|x| clamped to [0, 40] (tanh(20) rounds to 1).
  __m256d y = _mm256_min_pd(_mm256_add_pd(ax, ax), _mm256_set1_pd(40.0));
  __m256d nd = _mm256_round_pd(_mm256_mul_pd(y, _mm256_set1_pd(1.4426950408889634074)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(6.93147180369123816490e-1), y);
  r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(1.90821492927058770002e-10), r);
  // exp(r), |r| <= 0.347: Taylor polynomial of degree 12 (truncation error < 2e-16).
  __m256d e = _mm256_set1_pd(1.0 / 479001600.0);
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 39916800.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 3628800.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 362880.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 40320.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 5040.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 720.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 120.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 24.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 6.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(0.5));
  e = _mm256_fmadd_pd(e, r, one);
  e = _mm256_fmadd_pd(e, r, one);
  // Scale by 2^n: n in [0, 58], put n + 1023 in the exponent field.
  __m256i ni = _mm256_castpd_si256(_mm256_add_pd(nd, _mm256_set1_pd(6755399441055744.0)));  // 0x1.8p52
  ni = _mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52);
  e = _mm256_mul_pd(e, _mm256_castsi256_pd(ni));
  __m256d num_l = _mm256_sub_pd(e, one);
  __m256d den_l = _mm256_add_pd(e, one);

  __m256d small = _mm256_cmp_pd(ax, _mm256_set1_pd(0.625), _CMP_LT_OQ);
  __m256d num = _mm256_blendv_pd(num_l, num_s, small);
  __m256d den = _mm256_blendv_pd(den_l, den_s, small);
  __m256d t = _mm256_div_pd(num, den);
  // NaN inputs stay NaN (the min above would otherwise turn them into tanh(20)).
  __m256d isnan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  t = _mm256_blendv_pd(t, x, isnan);
  return _mm256_or_pd(t, sgn);
}

AVX2 static void vtanh_avx2(const double *x, double *y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, tanh4(_mm256_loadu_pd(x + i)));
  if (i < n) {
    double bx[4] = {0, 0, 0, 0}, by[4];
    for (size_t k = i; k < n; k++) bx[k - i] = x[k];
    _mm256_storeu_pd(by, tanh4(_mm256_loadu_pd(bx)));
    for (size_t k = i; k < n; k++) y[k] = by[k - i];
  }
}

AVX2 static inline double hsum4(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

// Gathers measured slower than scalar loads here (Zen 3), so x is assembled from scalar loads; the
// values come in as vectors and the products accumulate in two vector registers.
AVX2 static void csr_matvec_avx2(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                 const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    int k = rs[i], end = rs[i + 1];
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    for (; k + 8 <= end; k += 8) {
      __m128d l0 = _mm_loadh_pd(_mm_load_sd(x + ci[k]), x + ci[k + 1]);
      __m128d h0 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 2]), x + ci[k + 3]);
      __m128d l1 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 4]), x + ci[k + 5]);
      __m128d h1 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 6]), x + ci[k + 7]);
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k), _mm256_set_m128d(h0, l0), a0);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k + 4), _mm256_set_m128d(h1, l1), a1);
    }
    double s = hsum4(_mm256_add_pd(a0, a1));
    for (; k < end; k++) s += v[k] * x[ci[k]];
    y[i] = s;
  }
}
#endif

// MARK: - Vector tanh and sparse products

void recur_vtanh_f64(const double *x, double *y, size_t n) {
#if RECUR_RES_X86
  if (res_path() == 1) { vtanh_avx2(x, y, n); return; }
#endif
  vtanh_portable(x, y, n);
}

void recur_csr_matvec_f64(int rows, const int32_t *row_start, const int32_t *col_index,
                          const double *values, const double *x, double *y) {
#if RECUR_RES_X86
  if (res_path() == 1) { csr_matvec_avx2(rows, row_start, col_index, values, x, y); return; }
#endif
  csr_matvec_portable(rows, row_start, col_index, values, x, y);
}

// MARK: - Reservoir run

void recur_esn_run_f64(int units, int inputs, int steps,
                       const int32_t *row_start, const int32_t *col_index, const double *values,
                       const double *w_in, const double *bias, double leak,
                       const double *u, int ldu, const double *x0, double *states, double *work) {
  const int avx = res_path() == 1;
  const double keep = 1.0 - leak;
  for (int t = 0; t < steps; t++) {
    const double *prev = t == 0 ? x0 : states + (size_t)(t - 1) * units;
    double *cur = states + (size_t)t * units;
    const double *ut = u + (size_t)t * ldu;
    // work = W prev
#if RECUR_RES_X86
    if (avx) csr_matvec_avx2(units, row_start, col_index, values, prev, work);
    else
#endif
      csr_matvec_portable(units, row_start, col_index, values, prev, work);
    // work += W_in u_t + bias
    if (inputs == 1) {
      const double u0 = ut[0];
      for (int i = 0; i < units; i++) work[i] += w_in[i] * u0;
    } else {
      for (int i = 0; i < units; i++) {
        const double *wr = w_in + (size_t)i * inputs;
        double s = 0;
        for (int f = 0; f < inputs; f++) s += wr[f] * ut[f];
        work[i] += s;
      }
    }
    if (bias) for (int i = 0; i < units; i++) work[i] += bias[i];
#if RECUR_RES_X86
    if (avx) vtanh_avx2(work, work, (size_t)units);
    else
#endif
      vtanh_portable(work, work, (size_t)units);
    for (int i = 0; i < units; i++) cur[i] = keep * prev[i] + leak * work[i];
  }
}

// MARK: - Gram matrix

// The rows are processed in blocks of GRAM_TB; each block is packed (centred) into panels of 8
// columns, [panel][t][8], so that the micro-kernel streams contiguous memory. Only the blocks on and
// below the diagonal of C are computed; the upper triangle is mirrored at the end.
#define GRAM_TB 128
#define GRAM_NR 8

static void gram_pack(int tb, int cols, const double *X, int ldx, const double *mean, double *P) {
  int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  for (int p = 0; p < panels; p++) {
    double *dst = P + (size_t)p * tb * GRAM_NR;
    int c0 = p * GRAM_NR, w = cols - c0 < GRAM_NR ? cols - c0 : GRAM_NR;
    for (int t = 0; t < tb; t++) {
      const double *src = X + (size_t)t * ldx + c0;
      double *d = dst + (size_t)t * GRAM_NR;
      int c = 0;
      if (mean) for (; c < w; c++) d[c] = src[c] - mean[c0 + c];
      else for (; c < w; c++) d[c] = src[c];
      for (; c < GRAM_NR; c++) d[c] = 0;
    }
  }
}

// acc[8][8] += A^T B over tb rows, A and B panels [tb][8].
static void gram_kernel_portable(int tb, const double *A, const double *B, double *acc) {
  for (int t = 0; t < tb; t++) {
    const double *a = A + (size_t)t * GRAM_NR, *b = B + (size_t)t * GRAM_NR;
    for (int r = 0; r < GRAM_NR; r++) {
      double ar = a[r];
      for (int c = 0; c < GRAM_NR; c++) acc[r * GRAM_NR + c] += ar * b[c];
    }
  }
}

#if RECUR_RES_X86
AVX2 static void gram_kernel_avx2(int tb, const double *A, const double *B, double *acc) {
  // Two passes of a 4x8 register tile (8 accumulators each).
  for (int half = 0; half < 2; half++) {
    const double *Ah = A + half * 4;
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    for (int t = 0; t < tb; t++) {
      const double *a = Ah + (size_t)t * GRAM_NR, *b = B + (size_t)t * GRAM_NR;
      __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
      __m256d a0 = _mm256_broadcast_sd(a), a1 = _mm256_broadcast_sd(a + 1);
      c00 = _mm256_fmadd_pd(a0, b0, c00); c01 = _mm256_fmadd_pd(a0, b1, c01);
      c10 = _mm256_fmadd_pd(a1, b0, c10); c11 = _mm256_fmadd_pd(a1, b1, c11);
      __m256d a2 = _mm256_broadcast_sd(a + 2), a3 = _mm256_broadcast_sd(a + 3);
      c20 = _mm256_fmadd_pd(a2, b0, c20); c21 = _mm256_fmadd_pd(a2, b1, c21);
      c30 = _mm256_fmadd_pd(a3, b0, c30); c31 = _mm256_fmadd_pd(a3, b1, c31);
    }
    double *o = acc + half * 4 * GRAM_NR;
    _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), c00));
    _mm256_storeu_pd(o + 4, _mm256_add_pd(_mm256_loadu_pd(o + 4), c01));
    _mm256_storeu_pd(o + 8, _mm256_add_pd(_mm256_loadu_pd(o + 8), c10));
    _mm256_storeu_pd(o + 12, _mm256_add_pd(_mm256_loadu_pd(o + 12), c11));
    _mm256_storeu_pd(o + 16, _mm256_add_pd(_mm256_loadu_pd(o + 16), c20));
    _mm256_storeu_pd(o + 20, _mm256_add_pd(_mm256_loadu_pd(o + 20), c21));
    _mm256_storeu_pd(o + 24, _mm256_add_pd(_mm256_loadu_pd(o + 24), c30));
    _mm256_storeu_pd(o + 28, _mm256_add_pd(_mm256_loadu_pd(o + 28), c31));
  }
}
#endif

void recur_gram_f64(int rows, int cols, const double *X, int ldx, const double *mean,
                    double *C, int ldc) {
  const int avx = res_path() == 1;
  const int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  const size_t npairs = (size_t)panels * (panels + 1) / 2;
  // Accumulators for every lower-triangle panel pair, kept across row blocks (8x8 each).
  double *acc = calloc(npairs * GRAM_NR * GRAM_NR, sizeof(double));
  double *P = malloc((size_t)panels * GRAM_TB * GRAM_NR * sizeof(double));
  if (!acc || !P) { free(acc); free(P); abort(); }
  for (int t0 = 0; t0 < rows; t0 += GRAM_TB) {
    int tb = rows - t0 < GRAM_TB ? rows - t0 : GRAM_TB;
    gram_pack(tb, cols, X + (size_t)t0 * ldx, ldx, mean, P);
    size_t pair = 0;
    for (int pi = 0; pi < panels; pi++) {
      for (int pj = 0; pj <= pi; pj++, pair++) {
        const double *A = P + (size_t)pi * tb * GRAM_NR, *B = P + (size_t)pj * tb * GRAM_NR;
        double *a = acc + pair * GRAM_NR * GRAM_NR;
#if RECUR_RES_X86
        if (avx) gram_kernel_avx2(tb, A, B, a);
        else
#endif
          gram_kernel_portable(tb, A, B, a);
      }
    }
  }
  size_t pair = 0;
  for (int pi = 0; pi < panels; pi++) {
    for (int pj = 0; pj <= pi; pj++, pair++) {
      const double *a = acc + pair * GRAM_NR * GRAM_NR;
      for (int r = 0; r < GRAM_NR; r++) {
        int i = pi * GRAM_NR + r;
        if (i >= cols) break;
        for (int c = 0; c < GRAM_NR; c++) {
          int j = pj * GRAM_NR + c;
          if (j >= cols || j > i) break;
          C[(size_t)i * ldc + j] = a[r * GRAM_NR + c];
          C[(size_t)j * ldc + i] = a[r * GRAM_NR + c];
        }
      }
    }
  }
  free(acc);
  free(P);
}

void recur_cross_f64(int rows, int cols, int outs, const double *X, int ldx, const double *xmean,
                     const double *Y, int ldy, const double *ymean, double *C, int ldc) {
  for (int i = 0; i < cols; i++) memset(C + (size_t)i * ldc, 0, sizeof(double) * outs);
  double *yc = malloc(sizeof(double) * (outs > 0 ? outs : 1));
  if (!yc) abort();
  for (int t = 0; t < rows; t++) {
    const double *x = X + (size_t)t * ldx, *y = Y + (size_t)t * ldy;
    for (int k = 0; k < outs; k++) yc[k] = ymean ? y[k] - ymean[k] : y[k];
    for (int i = 0; i < cols; i++) {
      double xi = xmean ? x[i] - xmean[i] : x[i];
      double *c = C + (size_t)i * ldc;
      for (int k = 0; k < outs; k++) c[k] += xi * yc[k];
    }
  }
  free(yc);
}

// MARK: - Cholesky

static double dot_portable(int n, const double *a, const double *b) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

#if RECUR_RES_X86
AVX2 static double dot_avx2(int n, const double *a, const double *b) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
    s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k + 4), _mm256_loadu_pd(b + k + 4), s1);
  }
  if (k + 4 <= n) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
    k += 4;
  }
  double s = hsum4(_mm256_add_pd(s0, s1));
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}
#endif

double recur_dot_f64(int n, const double *a, const double *b) {
#if RECUR_RES_X86
  if (res_path() == 1) return dot_avx2(n, a, b);
#endif
  return dot_portable(n, a, b);
}

void recur_axpy_f64(int n, double alpha, const double *x, double *y) {
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

int recur_cholesky_f64(int n, double *A, int lda) {
  const int avx = res_path() == 1;
  // Row by row: L[i][j] = (A[i][j] - L[i][:j] . L[j][:j]) / L[j][j]; the dot products run over
  // contiguous row prefixes.
  for (int i = 0; i < n; i++) {
    double *li = A + (size_t)i * lda;
    for (int j = 0; j <= i; j++) {
      const double *lj = A + (size_t)j * lda;
      double d;
#if RECUR_RES_X86
      if (avx) d = dot_avx2(j, li, lj);
      else
#endif
        d = dot_portable(j, li, lj);
      double s = li[j] - d;
      if (j == i) {
        if (!(s > 0)) return i + 1;
        li[i] = sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
  }
  return 0;
}

void recur_cholesky_solve_f64(int n, const double *L, int lda, int nrhs, double *B, int ldb) {
  // Forward: L Z = B (row i of Z depends on rows < i).
  for (int i = 0; i < n; i++) {
    const double *li = L + (size_t)i * lda;
    double *bi = B + (size_t)i * ldb;
    for (int j = 0; j < i; j++) {
      const double l = li[j];
      if (l == 0) continue;
      const double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bi[k] -= l * bj[k];
    }
    const double inv = 1.0 / li[i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
  }
  // Backward: L^T X = Z; row i of X uses rows > i through column i of L.
  for (int i = n - 1; i >= 0; i--) {
    double *bi = B + (size_t)i * ldb;
    const double inv = 1.0 / L[(size_t)i * lda + i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
    for (int j = 0; j < i; j++) {
      const double l = L[(size_t)i * lda + j];
      if (l == 0) continue;
      double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bj[k] -= l * bi[k];
    }
  }
}
