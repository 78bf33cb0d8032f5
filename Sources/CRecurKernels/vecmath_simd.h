// exp, sigmoid and tanh of a float vector, written once and instantiated per ISA by
// vecmath_avx2.h and vecmath_avx512.h, which define before including this file:
//
//   VM_SUFFIX     token appended to every function name (avx2, avx512)
//   VM_FN_ATTR    the function attributes (static inline, always_inline, target(...))
//   VM_VEC        the vector type;  VM_MASK a lane mask
//   VM_SET1(x) VM_ZERO() VM_ADD VM_SUB VM_MUL VM_DIV VM_MIN VM_MAX
//   VM_FMA(a, b, c)   a * b + c;  VM_FNMA(a, b, c): c - a * b
//   VM_ROUND(x)       round to the nearest integer
//   VM_SCALE2N(p, n)  p * 2^n (n integral, in [-150, 128]): +inf on overflow, gradual underflow
//   VM_ABS(x)         |x|;  VM_COPYSIGN(y, x): |y| with the sign of x (y >= 0)
//   VM_LT(a, b) VM_ISNAN(a)  lane masks;  VM_SELECT(m, a, b): m ? a : b
//   VM_SELECT_NEG(x, a, b)   a where the sign bit of x is set, else b
//
// Only these differ between ISAs, so every path computes the same values (see vecmath_avx2.h
// for the accuracy).
#ifndef VM_SUFFIX
#error "define VM_SUFFIX and the other VM_ macros before including vecmath_simd.h"
#endif

#define VM_CAT2(a, b) a##_##b
#define VM_CAT(a, b) VM_CAT2(a, b)
#define VM_FN(name) VM_CAT(name, VM_SUFFIX)

/// exp(x).
VM_FN_ATTR VM_VEC VM_FN(recur_exp)(VM_VEC x) {
  // Clamp: below -104 the result is 0, above 89 it is +inf, and the reduction stays exact.
  VM_VEC xc = VM_MIN(VM_MAX(x, VM_SET1(RECUR_EXP_LO)), VM_SET1(RECUR_EXP_HI));
  // x = n ln2 + r, |r| <= ln2/2 (Cody-Waite: n*C1 is exact).
  VM_VEC n = VM_ROUND(VM_MUL(xc, VM_SET1(RECUR_LOG2E)));
  VM_VEC r = VM_FNMA(n, VM_SET1(RECUR_LN2_C1), xc);
  r = VM_FNMA(n, VM_SET1(RECUR_LN2_C2), r);
  // e^r = 1 + r + r^2 P(r)  (Cephes expf).
  VM_VEC p = VM_SET1(RECUR_EXP_P0);
  p = VM_FMA(p, r, VM_SET1(RECUR_EXP_P1));
  p = VM_FMA(p, r, VM_SET1(RECUR_EXP_P2));
  p = VM_FMA(p, r, VM_SET1(RECUR_EXP_P3));
  p = VM_FMA(p, r, VM_SET1(RECUR_EXP_P4));
  p = VM_FMA(p, r, VM_SET1(RECUR_EXP_P5));
  VM_VEC r2 = VM_MUL(r, r);
  p = VM_FMA(p, r2, VM_ADD(r, VM_SET1(1.0f)));
  VM_VEC y = VM_SCALE2N(p, n);
  // NaN in, NaN out (the clamp above turned it into a number).
  return VM_SELECT(VM_ISNAN(x), x, y);
}

/// sigmoid(x) = 1 / (1 + exp(-x)): with t = exp(-|x|) <= 1, it is 1/(1+t) for x >= 0 and
/// t/(1+t) for x < 0, so nothing overflows and tiny results keep their precision.
VM_FN_ATTR VM_VEC VM_FN(recur_sigmoid)(VM_VEC x) {
  VM_VEC t = VM_FN(recur_exp)(VM_SUB(VM_ZERO(), VM_ABS(x)));
  VM_VEC r = VM_DIV(VM_SET1(1.0f), VM_ADD(VM_SET1(1.0f), t));
  return VM_SELECT_NEG(x, VM_MUL(t, r), r);
}

/// tanh(x): |x| + |x|^3 P(x^2) for |x| < 0.625 (Cephes tanhf), else (1 - t) / (1 + t) with
/// t = exp(-2|x|); then the sign of x (so tanh(-0) = -0).
VM_FN_ATTR VM_VEC VM_FN(recur_tanh)(VM_VEC x) {
  VM_VEC ax = VM_ABS(x);
  VM_VEC z = VM_MUL(x, x);
  VM_VEC p = VM_SET1(RECUR_TANH_P0);
  p = VM_FMA(p, z, VM_SET1(RECUR_TANH_P1));
  p = VM_FMA(p, z, VM_SET1(RECUR_TANH_P2));
  p = VM_FMA(p, z, VM_SET1(RECUR_TANH_P3));
  p = VM_FMA(p, z, VM_SET1(RECUR_TANH_P4));
  VM_VEC small = VM_FMA(VM_MUL(p, z), ax, ax);
  VM_VEC t = VM_FN(recur_exp)(VM_MUL(ax, VM_SET1(-2.0f)));
  VM_VEC one = VM_SET1(1.0f);
  VM_VEC large = VM_DIV(VM_SUB(one, t), VM_ADD(one, t));
  VM_VEC y = VM_SELECT(VM_LT(ax, VM_SET1(RECUR_TANH_SMALL)), small, large);
  return VM_COPYSIGN(y, x);
}

#undef VM_SUFFIX
#undef VM_FN_ATTR
#undef VM_VEC
#undef VM_MASK
#undef VM_SET1
#undef VM_ZERO
#undef VM_ADD
#undef VM_SUB
#undef VM_MUL
#undef VM_DIV
#undef VM_MIN
#undef VM_MAX
#undef VM_FMA
#undef VM_FNMA
#undef VM_ROUND
#undef VM_SCALE2N
#undef VM_ABS
#undef VM_COPYSIGN
#undef VM_LT
#undef VM_ISNAN
#undef VM_SELECT
#undef VM_SELECT_NEG
