#ifndef RECUR_OPTIM_H
#define RECUR_OPTIM_H

// Element-wise optimiser updates over float32 tensors.

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// One Adam/AdamW step of one tensor, in place (torch.optim's update, scalars precomputed):
///   θ ← θ·decay                          if decoupled_decay (AdamW)
///   g ← g + weight_decay·θ                if l2_decay (Adam's weight_decay)
///   m ← lerp(m, g, lerp_weight)            (torch.lerp: a + w(b − a) for |w| < 0.5, else b − (b − a)(1 − w))
///   v ← beta2·v + (one_minus_beta2·g)·g
///   v̂ ← max(v̂, v)                         if max_exp_avg_sq (amsgrad)
///   θ ← θ + (neg_step_size·m) / (√v̂ / bias_correction2_sqrt + eps)
typedef struct {
  size_t n;
  float *theta, *exp_avg, *exp_avg_sq;
  float *max_exp_avg_sq;  // NULL without amsgrad
  const float *grad;
  float lerp_weight, beta2, one_minus_beta2, neg_step_size, bias_correction2_sqrt, eps;
  int decoupled_decay, l2_decay;
  float decay, weight_decay;
} recur_adam_args;

void recur_adam_update(const recur_adam_args *args);

#ifdef __cplusplus
}
#endif
#endif
