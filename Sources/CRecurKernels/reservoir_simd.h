// The SIMD reservoir kernels (double precision), written once and instantiated per ISA by
// reservoir_avx2.c and reservoir_avx512.c, which define before including this file:
//
//   RT_SUFFIX              token appended to every function name (avx2, avx512)
//   RT_ISA                 the enum recur_isa value of the table
//   RT_ATTR                the function attribute selecting the ISA (target(...))
//   RT_VL                  doubles per vector (4, 8); RT_VEC the vector type, RT_MASK a lane mask
//   RT_ZERO() RT_SET1(x) RT_LOADU(p) RT_STOREU(p, v) RT_ADD RT_SUB RT_MUL RT_DIV RT_MIN
//   RT_FMA(a, b, c)        a * b + c;  RT_FNMA(a, b, c): c - a * b
//   RT_AND RT_ANDNOT(a, b) RT_OR   bitwise (ANDNOT: ~a & b)
//   RT_ROUND(x)            round to the nearest integer
//   RT_POW2(n)             2^n for integral n in [0, 58]
//   RT_LT(a, b) RT_ISNAN(a)  lane masks;  RT_SELECT(m, a, b): m ? a : b
//   RT_HSUM(v)             the sum of the lanes
//   RT_GATHER(x, ci)       x[ci[0]], ..., x[ci[VL-1]] (ci: int32_t *)
//   RT_GATHER16(x, ci)     the same with uint16_t *ci
//   RT_CSR_FROM            optional: the suffix of another ISA whose sparse products to use
//                          (instead of RT_GATHER, RT_GATHER16 and instantiating them here)
//   RT_LOAD_PART(p, n) RT_STORE_PART(p, v, n)   the first n < VL lanes (the others read as 0)
//
// Every kernel sums in the same order whatever RT_VL, except where a horizontal sum is taken
// (dot products, CSR rows), so the AVX2 and AVX-512 paths agree bit for bit on tanh, the Gram
// and cross products and the multi-output read-out, and to rounding elsewhere.
#ifndef RT_SUFFIX
#error "define RT_SUFFIX and the other RT_ macros before including reservoir_simd.h"
#endif

#include <string.h>

#include "reservoir_internal.h"

#define RT_CAT2(a, b) a##_##b
#define RT_CAT(a, b) RT_CAT2(a, b)
#define RT_FN(name) RT_CAT(name, RT_SUFFIX)

#if defined(__clang__)
#define RT_UNROLL _Pragma("unroll")
#else
#define RT_UNROLL _Pragma("GCC unroll 16")
#endif

// tanh of VL doubles. |x| < 0.625: Cephes rational x + x z P(z)/Q(z), z = x^2 (relative error
// ~1e-17); otherwise (e - 1)/(e + 1) with e = exp(2|x|) (no cancellation since e > 3.4). Both
// branches are folded into one division; the sign is put back at the end.
static inline __attribute__((always_inline)) RT_ATTR RT_VEC RT_FN(tanh_f64)(RT_VEC x) {
  const RT_VEC sign_mask = RT_SET1(-0.0);
  RT_VEC ax = RT_ANDNOT(sign_mask, x);
  RT_VEC sgn = RT_AND(sign_mask, x);
  const RT_VEC one = RT_SET1(1.0);

  // Small branch.
  RT_VEC z = RT_MUL(ax, ax);
  RT_VEC p = RT_FMA(RT_SET1(-9.64399179425052238628e-1), z, RT_SET1(-9.92877231001918586564e1));
  p = RT_FMA(p, z, RT_SET1(-1.61468768441708447952e3));
  p = RT_MUL(p, z);
  RT_VEC q = RT_ADD(z, RT_SET1(1.12811678491632931402e2));
  q = RT_FMA(q, z, RT_SET1(2.23548839060100448583e3));
  q = RT_FMA(q, z, RT_SET1(4.84406305325125486048e3));
  RT_VEC num_s = RT_FMA(ax, p, RT_MUL(ax, q));  // (ax*Q + ax*z*P')/Q
  RT_VEC den_s = q;

  // Large branch: e = exp(y), y = 2|x| clamped to [0, 40] (tanh(20) rounds to 1).
  RT_VEC y = RT_MIN(RT_ADD(ax, ax), RT_SET1(40.0));
  RT_VEC nd = RT_ROUND(RT_MUL(y, RT_SET1(1.4426950408889634074)));
  RT_VEC r = RT_FNMA(nd, RT_SET1(6.93147180369123816490e-1), y);
  r = RT_FNMA(nd, RT_SET1(1.90821492927058770002e-10), r);
  // exp(r), |r| <= 0.347: Taylor polynomial of degree 12 (truncation error < 2e-16).
  RT_VEC e = RT_SET1(1.0 / 479001600.0);
  e = RT_FMA(e, r, RT_SET1(1.0 / 39916800.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 3628800.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 362880.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 40320.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 5040.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 720.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 120.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 24.0));
  e = RT_FMA(e, r, RT_SET1(1.0 / 6.0));
  e = RT_FMA(e, r, RT_SET1(0.5));
  e = RT_FMA(e, r, one);
  e = RT_FMA(e, r, one);
  e = RT_MUL(e, RT_POW2(nd));
  RT_VEC num_l = RT_SUB(e, one);
  RT_VEC den_l = RT_ADD(e, one);

  RT_MASK small = RT_LT(ax, RT_SET1(0.625));
  RT_VEC t = RT_DIV(RT_SELECT(small, num_s, num_l), RT_SELECT(small, den_s, den_l));
  // NaN inputs stay NaN (the min above would otherwise turn them into tanh(20)).
  t = RT_SELECT(RT_ISNAN(x), x, t);
  return RT_OR(t, sgn);
}

RT_ATTR static void RT_FN(vtanh_f64)(const double *x, double *y, size_t n) {
  size_t i = 0;
  for (; i + RT_VL <= n; i += RT_VL) RT_STOREU(y + i, RT_FN(tanh_f64)(RT_LOADU(x + i)));
  if (i < n) RT_STORE_PART(y + i, RT_FN(tanh_f64)(RT_LOAD_PART(x + i, (int)(n - i))), (int)(n - i));
}

RT_ATTR static double RT_FN(dot_f64)(int n, const double *a, const double *b) {
  RT_VEC s0 = RT_ZERO(), s1 = RT_ZERO();
  int k = 0;
  for (; k + 2 * RT_VL <= n; k += 2 * RT_VL) {
    s0 = RT_FMA(RT_LOADU(a + k), RT_LOADU(b + k), s0);
    s1 = RT_FMA(RT_LOADU(a + k + RT_VL), RT_LOADU(b + k + RT_VL), s1);
  }
  if (k + RT_VL <= n) {
    s0 = RT_FMA(RT_LOADU(a + k), RT_LOADU(b + k), s0);
    k += RT_VL;
  }
  double s = RT_HSUM(RT_ADD(s0, s1));
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}

#ifndef RT_CSR_FROM
// x is assembled from scalar loads (gathers measured slower here); the values come in as vectors
// and the products accumulate in two vector registers. RT_CSR_ROWS is the loop over the rows,
// with the gather (index type) as its parameter.
#define RT_CSR_ROWS(GATHER)                                              \
  for (int i = 0; i < rows; i++) {                                       \
    int k = rs[i], end = rs[i + 1];                                      \
    RT_VEC a0 = RT_ZERO(), a1 = RT_ZERO();                               \
    for (; k + 2 * RT_VL <= end; k += 2 * RT_VL) {                       \
      a0 = RT_FMA(RT_LOADU(v + k), GATHER(x, ci + k), a0);               \
      a1 = RT_FMA(RT_LOADU(v + k + RT_VL), GATHER(x, ci + k + RT_VL), a1); \
    }                                                                    \
    double s = RT_HSUM(RT_ADD(a0, a1));                                  \
    for (; k < end; k++) s += v[k] * x[ci[k]];                           \
    y[i] = s;                                                            \
  }

RT_ATTR void RT_FN(recur_res_csr_matvec)(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                         const double *x, double *y) {
  RT_CSR_ROWS(RT_GATHER)
}

// 16-bit column indices leave more load slots for x (about 5 % faster on Zen 3).
RT_ATTR void RT_FN(recur_res_csr_matvec_u16)(int rows, const int32_t *rs, const uint16_t *ci, const double *v,
                                             const double *x, double *y) {
  RT_CSR_ROWS(RT_GATHER16)
}
#define RT_CSR_FROM RT_SUFFIX
#endif

// After the sparse product: cur = keep * prev + leak * tanh(work + W_in u + b), one pass (with
// several inputs, W_in u is added to work first).
RT_ATTR static void RT_FN(esn_finish)(const recur_esn_step_job *j, int begin, int end) {
  double *work = j->work;
  if (j->inputs != 1) {
    for (int i = begin; i < end; i++) {
      const double *wr = j->w_in + (size_t)i * j->inputs;
      double a = work[i];
      for (int f = 0; f < j->inputs; f++) a += wr[f] * j->ut[f];
      work[i] = a;
    }
  }
  const RT_VEC keep = RT_SET1(j->keep), leak = RT_SET1(j->leak);
  const RT_VEC u0 = RT_SET1(j->inputs == 1 ? j->ut[0] : 0.0);
  const double *w_in = j->inputs == 1 ? j->w_in : NULL;
  for (int i = begin; i < end; i += RT_VL) {
    const int n = end - i < RT_VL ? end - i : RT_VL;
    RT_VEC a, prev;
    if (n == RT_VL) {
      a = RT_LOADU(work + i);
      if (w_in) a = RT_FMA(RT_LOADU(w_in + i), u0, a);
      if (j->bias) a = RT_ADD(a, RT_LOADU(j->bias + i));
      prev = RT_LOADU(j->prev + i);
    } else {
      a = RT_LOAD_PART(work + i, n);
      if (w_in) a = RT_FMA(RT_LOAD_PART(w_in + i, n), u0, a);
      if (j->bias) a = RT_ADD(a, RT_LOAD_PART(j->bias + i, n));
      prev = RT_LOAD_PART(j->prev + i, n);
    }
    RT_VEC x = RT_FMA(leak, RT_FN(tanh_f64)(a), RT_MUL(keep, prev));
    if (n == RT_VL) RT_STOREU(j->cur + i, x);
    else RT_STORE_PART(j->cur + i, x, n);
  }
}

RT_ATTR static void RT_FN(readout_rows)(const recur_readout_job *j, int begin, int end) {
  const int n = j->n, K = j->k;
  for (int t = begin; t < end; t++) {
    const double *x = j->X + (size_t)t * j->ldx;
    double *o = j->out + (size_t)t * K;
    if (K == 1) {
      o[0] = j->b[0] + RT_FN(dot_f64)(n, x, j->W);  // W is [n, 1]: contiguous
      continue;
    }
    for (int k = 0; k < K; k++) o[k] = j->b[k];
    for (int i = 0; i < n; i++) {
      const RT_VEC a = RT_SET1(x[i]);
      const double *w = j->W + (size_t)i * K;
      int k = 0;
      for (; k + RT_VL <= K; k += RT_VL) RT_STOREU(o + k, RT_FMA(a, RT_LOADU(w + k), RT_LOADU(o + k)));
      for (; k < K; k++) o[k] += x[i] * w[k];
    }
  }
}

// acc[8][8] += A^T B: passes of a VL x 8 register tile (8 accumulators whatever VL).
RT_ATTR static void RT_FN(gram_kernel)(int tb, const double *A, const double *B, double *acc) {
  enum { R = RT_VL, NV = RECUR_GRAM_NR / RT_VL };
  for (int pass = 0; pass < RECUR_GRAM_NR / R; pass++) {
    const double *Ap = A + pass * R;
    RT_VEC c[R][NV];
    RT_UNROLL for (int r = 0; r < R; r++) {
      RT_UNROLL for (int v = 0; v < NV; v++) c[r][v] = RT_ZERO();
    }
    for (int t = 0; t < tb; t++) {
      const double *a = Ap + (size_t)t * RECUR_GRAM_NR, *b = B + (size_t)t * RECUR_GRAM_NR;
      RT_VEC bv[NV];
      RT_UNROLL for (int v = 0; v < NV; v++) bv[v] = RT_LOADU(b + v * RT_VL);
      RT_UNROLL for (int r = 0; r < R; r++) {
        const RT_VEC ar = RT_SET1(a[r]);
        RT_UNROLL for (int v = 0; v < NV; v++) c[r][v] = RT_FMA(ar, bv[v], c[r][v]);
      }
    }
    double *o = acc + pass * R * RECUR_GRAM_NR;
    RT_UNROLL for (int r = 0; r < R; r++) {
      RT_UNROLL for (int v = 0; v < NV; v++) {
        double *p = o + r * RECUR_GRAM_NR + v * RT_VL;
        RT_STOREU(p, RT_ADD(RT_LOADU(p), c[r][v]));
      }
    }
  }
}

RT_ATTR static void RT_FN(cross_row)(const recur_cross_job *j, int t, int begin, int end) {
  const int K = j->outs;
  const double *x = j->X + (size_t)t * j->ldx, *y = j->Yc + (size_t)t * K;
  for (int i = begin; i < end; i++) {
    const double xi = j->xmean ? x[i] - j->xmean[i] : x[i];
    double *c = j->C + (size_t)i * j->ldc;
    const RT_VEC b = RT_SET1(xi);
    int k = 0;
    for (; k + RT_VL <= K; k += RT_VL) RT_STOREU(c + k, RT_FMA(b, RT_LOADU(y + k), RT_LOADU(c + k)));
    for (; k < K; k++) c[k] += xi * y[k];
  }
}

#define RT_TABLE(sfx, isa, csr, u16) RECUR_RESERVOIR_OPS_TABLE(sfx, isa, csr, u16)  // expands the macros first
const recur_reservoir_ops RT_CAT(recur_reservoir, RT_SUFFIX) =
    RT_TABLE(RT_SUFFIX, RT_ISA, RT_CAT(recur_res_csr_matvec, RT_CSR_FROM), RT_CAT(recur_res_csr_matvec_u16, RT_CSR_FROM));
