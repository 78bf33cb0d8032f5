// Portable scalar exp, sigmoid, tanh: the same algorithms and constants as vecmath_avx2.h /
// vecmath_avx512.h, in plain C (loops over them auto-vectorise on any target).
//
// For other C files of this target: recur_exp_scalar(x), recur_sigmoid_scalar(x),
// recur_tanh_scalar(x). Accuracy as documented in vecmath_avx2.h.
#ifndef RECUR_VECMATH_PORTABLE_H
#define RECUR_VECMATH_PORTABLE_H

#include <stdint.h>
#include <string.h>

#include "vecmath_constants.h"

static inline float recur_bits_to_float(uint32_t u) {
  float f;
  memcpy(&f, &u, sizeof f);
  return f;
}

static inline uint32_t recur_float_to_bits(float f) {
  uint32_t u;
  memcpy(&u, &f, sizeof u);
  return u;
}

/// 2^n for integer n in [-126, 127].
static inline float recur_pow2i_scalar(int32_t n) {
  return recur_bits_to_float((uint32_t)(n + 127) << 23);
}

static inline float recur_exp_scalar(float x) {
  if (x != x) return x;
  float xc = x < RECUR_EXP_LO ? RECUR_EXP_LO : x > RECUR_EXP_HI ? RECUR_EXP_HI : x;
  // Round to nearest (ties to even) with the 1.5 * 2^23 trick: |xc * log2e| < 2^22.
  const float magic = 12582912.0f;
  float n = (xc * RECUR_LOG2E + magic) - magic;
  float r = xc - n * RECUR_LN2_C1;  // exact
  r = r - n * RECUR_LN2_C2;
  float p = RECUR_EXP_P0;
  p = p * r + RECUR_EXP_P1;
  p = p * r + RECUR_EXP_P2;
  p = p * r + RECUR_EXP_P3;
  p = p * r + RECUR_EXP_P4;
  p = p * r + RECUR_EXP_P5;
  p = p * (r * r) + (r + 1.0f);
  int32_t ni = (int32_t)n;
  int32_t n1 = ni >> 1;  // floor(n / 2): both factors below are normal floats
  int32_t n2 = ni - n1;
  return (p * recur_pow2i_scalar(n1)) * recur_pow2i_scalar(n2);
}

static inline float recur_sigmoid_scalar(float x) {
  float ax = x < 0 ? -x : x;
  float t = recur_exp_scalar(-ax);
  float r = 1.0f / (1.0f + t);
  return (recur_float_to_bits(x) >> 31) ? t * r : r;
}

static inline float recur_tanh_scalar(float x) {
  float ax = x < 0 ? -x : x;
  float y;
  if (ax < RECUR_TANH_SMALL) {
    float z = x * x;
    float p = RECUR_TANH_P0;
    p = p * z + RECUR_TANH_P1;
    p = p * z + RECUR_TANH_P2;
    p = p * z + RECUR_TANH_P3;
    p = p * z + RECUR_TANH_P4;
    y = (p * z) * ax + ax;
  } else {
    float t = recur_exp_scalar(-2.0f * ax);
    y = (1.0f - t) / (1.0f + t);
  }
  // the sign of x, also for -0
  return recur_bits_to_float(recur_float_to_bits(y) | (recur_float_to_bits(x) & 0x80000000u));
}

#endif
