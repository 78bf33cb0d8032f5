/// Adam with optional L2 weight decay (added to the gradient) and AMSGrad.
///
/// ```
/// g ← ∇θ + weightDecay·θ
/// m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   v̂ ← max(v̂, v) (amsgrad)
/// θ ← θ − lr·(m/(1 − β1ᵗ)) / (√(v or v̂)/√(1 − β2ᵗ) + eps)
/// ```
///
/// State per parameter (created at its first step): `step`, `exp_avg`, `exp_avg_sq`, and
/// `max_exp_avg_sq` with AMSGrad. The arithmetic follows `torch/optim/adam.py`
/// `_single_tensor_adam` operation by operation.
///
/// Matches `torch.optim.Adam(params, lr, betas, eps, weight_decay, amsgrad)`; for decoupled
/// weight decay use `AdamW`.
public final class Adam: AdamOptimizer {
  /// - Parameters:
  ///   - parameters: the parameters to optimise.
  ///   - learningRate: step size (`lr`, default 1e-3).
  ///   - betas: decay rates of the first and second moment averages (default (0.9, 0.999)).
  ///   - eps: added to the denominator (default 1e-8).
  ///   - weightDecay: L2 penalty added to the gradient (default 0).
  ///   - amsgrad: use the running maximum of the second moment (default false).
  public init(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
              eps: Float = 1e-8, weightDecay: Float = 0, amsgrad: Bool = false) {
    super.init(core: AdamCore(kind: "Adam", parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                    weightDecay: weightDecay, amsgrad: amsgrad, decoupled: false))
  }
}
