// A software model of the AVX-512 intrinsics that kernels_avx512.c and vecmath_avx512.h use,
// written from Intel's pseudo-code, so the logic of the AVX-512 path (tiles, packing, masks,
// vector math) can be checked on a CPU without AVX-512.
//
// Not part of the build. Tests/RecurTests/KernelTests.swift (avx512PathAgainstSoftwareModel)
// compiles kernels_avx512.c with `-I avx512_model -DRECUR_AVX512_MODEL -DRECUR_TARGET_AVX512=`
// (this file then stands in for <immintrin.h>, the functions lose their target attribute and the
// dispatcher reports AVX-512 as available), links it with the other kernel sources and compares
// the forced "avx512" path against double-precision references. Aligned loads check alignment
// as the hardware would (it faults); an intrinsic or immediate that is not modelled stops the run.
#ifndef RECUR_AVX512_MODEL_H
#define RECUR_AVX512_MODEL_H
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
typedef struct { float f[16]; } __m512;
typedef struct { int32_t i[16]; } __m512i;
typedef uint16_t __mmask16;
#define _MM_FROUND_TO_NEAREST_INT 0x00
#define _MM_FROUND_NO_EXC 0x08
#define _CMP_LT_OQ 0x11
#define _CMP_UNORD_Q 0x03
#define EMU static inline
#define L for (int l = 0; l < 16; l++)
EMU __m512 _mm512_setzero_ps(void) { __m512 r; L r.f[l] = 0.0f; return r; }
EMU __m512 _mm512_set1_ps(float x) { __m512 r; L r.f[l] = x; return r; }
EMU __m512i _mm512_set1_epi32(int x) { __m512i r; L r.i[l] = x; return r; }
EMU __m512 _mm512_load_ps(const void *p) {
  if (((uintptr_t)p & 63) != 0) { fprintf(stderr, "avx512 model: misaligned _mm512_load_ps %p\n", p); abort(); }
  __m512 r; memcpy(r.f, p, 64); return r; }
EMU __m512 _mm512_loadu_ps(const void *p) { __m512 r; memcpy(r.f, p, 64); return r; }
EMU void _mm512_storeu_ps(void *p, __m512 v) { memcpy(p, v.f, 64); }
EMU __m512 _mm512_maskz_loadu_ps(__mmask16 k, const void *p) { __m512 r; const float *q = p; L r.f[l] = (k >> l) & 1 ? q[l] : 0.0f; return r; }
EMU void _mm512_mask_storeu_ps(void *p, __mmask16 k, __m512 v) { float *q = p; L if ((k >> l) & 1) q[l] = v.f[l]; }
EMU __m512 _mm512_fmadd_ps(__m512 a, __m512 b, __m512 c) { __m512 r; L r.f[l] = fmaf(a.f[l], b.f[l], c.f[l]); return r; }
EMU __m512 _mm512_fnmadd_ps(__m512 a, __m512 b, __m512 c) { __m512 r; L r.f[l] = fmaf(-a.f[l], b.f[l], c.f[l]); return r; }
EMU __m512 _mm512_mul_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] * b.f[l]; return r; }
EMU __m512 _mm512_add_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] + b.f[l]; return r; }
EMU __m512 _mm512_sub_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] - b.f[l]; return r; }
EMU __m512 _mm512_div_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] / b.f[l]; return r; }
// MINPS/MAXPS: if either is NaN (or both zero) the second operand is returned
EMU __m512 _mm512_min_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] < b.f[l] ? a.f[l] : b.f[l]; return r; }
EMU __m512 _mm512_max_ps(__m512 a, __m512 b) { __m512 r; L r.f[l] = a.f[l] > b.f[l] ? a.f[l] : b.f[l]; return r; }
EMU __m512 _mm512_roundscale_ps(__m512 a, int imm) {
  if ((imm & 0xF7) != _MM_FROUND_TO_NEAREST_INT) { fprintf(stderr, "avx512 model: roundscale imm %d not modelled\n", imm); abort(); }
  __m512 r; L r.f[l] = rintf(a.f[l]); return r; }
// VSCALEFPS: a * 2^floor(b) (finite b; one rounding, gradual underflow)
EMU __m512 _mm512_scalef_ps(__m512 a, __m512 b) { __m512 r; L {
  if (isnan(a.f[l]) || isnan(b.f[l])) { r.f[l] = NAN; continue; }
  if (isinf(b.f[l])) { fprintf(stderr, "avx512 model: scalef inf exponent not modelled\n"); abort(); }
  r.f[l] = ldexpf(a.f[l], (int)floorf(b.f[l])); } return r; }
EMU __mmask16 _mm512_cmp_ps_mask(__m512 a, __m512 b, int imm) { __mmask16 k = 0; L {
  int bit;
  switch (imm) {
    case _CMP_UNORD_Q: bit = isnan(a.f[l]) || isnan(b.f[l]); break;
    case _CMP_LT_OQ: bit = a.f[l] < b.f[l]; break;
    default: fprintf(stderr, "avx512 model: cmp imm %d not modelled\n", imm); abort();
  }
  k |= (__mmask16)(bit << l); } return k; }
EMU __m512 _mm512_mask_blend_ps(__mmask16 k, __m512 a, __m512 b) { __m512 r; L r.f[l] = (k >> l) & 1 ? b.f[l] : a.f[l]; return r; }
EMU __m512 _mm512_castsi512_ps(__m512i a) { __m512 r; memcpy(&r, &a, 64); return r; }
EMU __m512i _mm512_castps_si512(__m512 a) { __m512i r; memcpy(&r, &a, 64); return r; }
EMU __m512i _mm512_and_si512(__m512i a, __m512i b) { __m512i r; L r.i[l] = a.i[l] & b.i[l]; return r; }
EMU __m512i _mm512_or_si512(__m512i a, __m512i b) { __m512i r; L r.i[l] = a.i[l] | b.i[l]; return r; }
EMU __mmask16 _mm512_movepi32_mask(__m512i a) { __mmask16 k = 0; L k |= (__mmask16)(((uint32_t)a.i[l] >> 31) << l); return k; }
EMU float _mm512_cvtss_f32(__m512 a) { return a.f[0]; }
#undef L
#endif
