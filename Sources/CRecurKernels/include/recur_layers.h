#ifndef RECUR_LAYERS_H
#define RECUR_LAYERS_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// The pointwise layers of the residual blocks around minGRU / minLSTM (LayerNorm, the tanh form
/// of GELU), vectorised per instruction set and split over the pool. The results do not depend on
/// the number of threads.

/// LayerNorm forward over `rows` rows of `d`: y = (x − mean)·rstd·w + b with the biased variance,
/// rstd = 1/√(var + eps); w and b may be NULL (1 and 0). Writes y [rows, d], mean [rows], rstd [rows].
void recur_layer_norm_forward(int rows, int d, float eps, const float *x, const float *w, const float *b,
                              float *y, float *mean, float *rstd);

/// LayerNorm backward from the forward's x, mean and rstd and the output gradient g [rows, d]:
/// dx = rstd·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with x̂ = (x − mean)·rstd and ĝ = g·w (w NULL: 1);
/// dw = Σ_rows g·x̂ and db = Σ_rows g (overwritten, summed in row order). Any of dx, dw, db may
/// be NULL (not wanted).
void recur_layer_norm_backward(int rows, int d, const float *x, const float *mean, const float *rstd,
                               const float *w, const float *g, float *dx, float *dw, float *db);

/// GELU, tanh form, as x·σ(2u), u = √(2/π)·(x + 0.044715·x³): writes y [n] and the sigmoids s [n]
/// that the backward needs.
void recur_gelu_tanh_forward(size_t n, const float *x, float *s, float *y);

/// Backward of recur_gelu_tanh_forward: dx = g·(s + x·s·(1 − s)·2u′), u′ = √(2/π)·(1 + 3·0.044715·x²).
void recur_gelu_tanh_backward(size_t n, const float *x, const float *s, const float *g, float *dx);

#ifdef __cplusplus
}
#endif
#endif
