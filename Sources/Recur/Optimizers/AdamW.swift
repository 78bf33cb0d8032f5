/// Adam with decoupled weight decay (Loshchilov & Hutter): the parameters shrink by
/// `1 − lr·weightDecay` before the Adam step instead of having `weightDecay·θ` added to the gradient.
///
/// ```
/// θ ← θ·(1 − lr·weightDecay)
/// m ← β1·m + (1 − β1)·g,   v ← β2·v + (1 − β2)·g²,   v̂ ← max(v̂, v) (amsgrad)
/// θ ← θ − lr·(m/(1 − β1ᵗ)) / (√(v or v̂)/√(1 − β2ᵗ) + eps)
/// ```
///
/// State per parameter: as `Adam` (`step`, `exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`).
///
/// Matches `torch.optim.AdamW(params, lr, betas, eps, weight_decay=0.01, amsgrad)`.
public final class AdamW: AdamOptimizer {
  /// - Parameters:
  ///   - parameters: the parameters to optimise.
  ///   - learningRate: step size (`lr`, default 1e-3).
  ///   - betas: decay rates of the first and second moment averages (default (0.9, 0.999)).
  ///   - eps: added to the denominator (default 1e-8).
  ///   - weightDecay: decoupled decay coefficient (default 0.01).
  ///   - amsgrad: use the running maximum of the second moment (default false).
  public init(parameters: [Parameter], learningRate: Float = 1e-3, betas: (Float, Float) = (0.9, 0.999),
              eps: Float = 1e-8, weightDecay: Float = 0.01, amsgrad: Bool = false) {
    super.init(core: AdamCore(kind: "AdamW", parameters: parameters, learningRate: learningRate, betas: betas, eps: eps,
                    weightDecay: weightDecay, amsgrad: amsgrad, decoupled: true))
  }
}
