// Element-wise optimiser updates, split over the thread pool (see recur_optim.h). Every element
// is updated by the same operations whatever the split, and expressions are not contracted into
// fused multiply-adds, so the results are those of the scalar Swift reference it replaces
// (torch/optim/adam.py, _single_tensor_adam).
#include "recur_optim.h"
#include "recur_kernels.h"
#include <math.h>
#include <stddef.h>

#pragma STDC FP_CONTRACT OFF

enum { ADAM_CHUNK = 4096 };  // elements per parallel-for index

static void adam_chunks(void *p, int c0, int c1) {
  const recur_adam_args *a = p;
  size_t j0 = (size_t)c0 * ADAM_CHUNK, j1 = (size_t)c1 * ADAM_CHUNK;
  if (j1 > a->n) j1 = a->n;
  float *restrict theta = a->theta, *restrict m = a->exp_avg, *restrict v = a->exp_avg_sq;
  float *restrict vmax = a->max_exp_avg_sq;
  const float *restrict g = a->grad;
  const float w = a->lerp_weight, b2 = a->beta2, omb2 = a->one_minus_beta2;
  const float neg_step = a->neg_step_size, bc2 = a->bias_correction2_sqrt, eps = a->eps;
  const float decay = a->decay, wd = a->weight_decay;
  if (!a->decoupled_decay && !a->l2_decay && vmax == NULL && fabsf(w) < 0.5f) {
    // the common case, branch-free so that it vectorises
    for (size_t j = j0; j < j1; j++) {
      float gj = g[j];
      float mj = m[j] + w * (gj - m[j]);
      float vj = v[j] * b2 + (omb2 * gj) * gj;
      m[j] = mj;
      v[j] = vj;
      theta[j] = theta[j] + (neg_step * mj) / (sqrtf(vj) / bc2 + eps);
    }
    return;
  }
  for (size_t j = j0; j < j1; j++) {
    if (a->decoupled_decay) theta[j] = theta[j] * decay;
    float gj = g[j];
    if (a->l2_decay) gj = gj + wd * theta[j];
    m[j] = fabsf(w) < 0.5f ? m[j] + w * (gj - m[j]) : gj - (gj - m[j]) * (1.0f - w);
    v[j] = v[j] * b2 + (omb2 * gj) * gj;
    float second = v[j];
    if (vmax != NULL) {
      vmax[j] = vmax[j] > v[j] ? vmax[j] : v[j];
      second = vmax[j];
    }
    theta[j] = theta[j] + (neg_step * m[j]) / (sqrtf(second) / bc2 + eps);
  }
}

void recur_adam_update(const recur_adam_args *args) {
  if (args->n == 0) return;
  size_t chunks = (args->n + ADAM_CHUNK - 1) / ADAM_CHUNK;
  if (chunks > 0x7fffffff) chunks = 0x7fffffff;  // never for real tensors; keeps the int range
  recur_parallel_for_grain((int)chunks, 16, adam_chunks, (void *)args);
}
