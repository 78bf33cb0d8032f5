// Constants shared by the exp / sigmoid / tanh implementations of every ISA
// (vecmath_portable.h, vecmath_avx2.h, vecmath_avx512.h), so all paths compute the same thing.
#ifndef RECUR_VECMATH_CONSTANTS_H
#define RECUR_VECMATH_CONSTANTS_H

// exp: inputs are clamped to [LO, HI]; exp(LO) rounds to 0 and exp(HI) overflows to +inf.
#define RECUR_EXP_LO (-104.0f)
#define RECUR_EXP_HI (89.0f)
#define RECUR_LOG2E 1.44269504088896341f
// ln 2 = C1 + C2 with C1 = 355/512 exact in 9 bits, so n * C1 is exact for |n| <= 2^15
// and x - n*C1 is exact (Cody-Waite reduction, as in Cephes expf).
#define RECUR_LN2_C1 0.693359375f
#define RECUR_LN2_C2 (-2.12194440e-4f)
// e^r = 1 + r + r^2 (((((P0 r + P1) r + P2) r + P3) r + P4) r + P5) on |r| <= ln2/2 (Cephes expf,
// relative error 1.7e-7).
#define RECUR_EXP_P0 1.9875691500e-4f
#define RECUR_EXP_P1 1.3981999507e-3f
#define RECUR_EXP_P2 8.3334519073e-3f
#define RECUR_EXP_P3 4.1665795894e-2f
#define RECUR_EXP_P4 1.6666665459e-1f
#define RECUR_EXP_P5 5.0000001201e-1f

// tanh(x) = x + x^3 ((((P0 z + P1) z + P2) z + P3) z + P4), z = x^2, for |x| < SMALL (Cephes
// tanhf, relative error 1.3e-7); (1 - e^{-2|x|}) / (1 + e^{-2|x|}) with the sign of x above.
#define RECUR_TANH_SMALL 0.625f
#define RECUR_TANH_P0 (-5.70498872745e-3f)
#define RECUR_TANH_P1 2.06390887954e-2f
#define RECUR_TANH_P2 (-5.37397155531e-2f)
#define RECUR_TANH_P3 1.33314422036e-1f
#define RECUR_TANH_P4 (-3.33332819422e-1f)

#endif
