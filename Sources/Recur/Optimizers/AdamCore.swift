import CRecurKernels
import Foundation

/// The update shared by `Adam` and `AdamW` (torch ≥ 2.6 implements AdamW as Adam with decoupled
/// weight decay), written after `torch/optim/adam.py` `_single_tensor_adam` (non-capturable path):
///
/// ```
/// t ← t + 1
/// θ ← θ·(1 − lr·λ)               (decoupled)    or    g ← g + λ·θ   (L2)
/// m ← lerp(m, g, 1 − β1)
/// v ← β2·v + (1 − β2)·g·g
/// v̂ ← max(v̂, v)                 (amsgrad; the denominator uses v̂)
/// θ ← θ − (lr/(1 − β1^t))·m / (√v / √(1 − β2^t) + eps)
/// ```
/// Scalars are formed in Double (Python floats) and rounded to Float where torch's kernels do.
struct AdamCore {
  struct State {
    var step: Int
    /// Never shared with other tensors, so updated through their storage in place.
    var expAvg: Tensor
    var expAvgSq: Tensor
    var maxExpAvgSq: Tensor?
  }

  let kind: String
  let parameters: [Parameter]
  var learningRate: Float
  let betas: (Float, Float)
  let eps: Float
  let weightDecay: Float
  let amsgrad: Bool
  let decoupled: Bool
  var states: [State?]

  init(kind: String, parameters: [Parameter], learningRate: Float, betas: (Float, Float), eps: Float,
       weightDecay: Float, amsgrad: Bool, decoupled: Bool) {
    checkHyperparameter(learningRate >= 0, "\(kind): invalid learning rate: \(learningRate)")
    checkHyperparameter(eps >= 0, "\(kind): invalid epsilon value: \(eps)")
    checkHyperparameter(betas.0 >= 0 && betas.0 < 1, "\(kind): invalid beta parameter at index 0: \(betas.0)")
    checkHyperparameter(betas.1 >= 0 && betas.1 < 1, "\(kind): invalid beta parameter at index 1: \(betas.1)")
    checkHyperparameter(weightDecay >= 0, "\(kind): invalid weightDecay value: \(weightDecay)")
    self.kind = kind
    self.parameters = parameters
    self.learningRate = learningRate
    self.betas = betas
    self.eps = eps
    self.weightDecay = weightDecay
    self.amsgrad = amsgrad
    self.decoupled = decoupled
    states = Array(repeating: nil, count: parameters.count)
  }

  mutating func step() {
    let lr = Double(learningRate), beta1 = Double(betas.0), beta2 = Double(betas.1)
    let wd = weightDecay
    let decay = Float(1 - lr * Double(weightDecay))
    let lerpWeight = Float(1 - beta1), b2 = betas.1, oneMinusB2 = Float(1 - beta2), epsF = eps
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad else { continue }
      if states[i] == nil {
        states[i] = State(step: 0, expAvg: .zeros(p.shape), expAvgSq: .zeros(p.shape),
                          maxExpAvgSq: amsgrad ? .zeros(p.shape) : nil)
      }
      states[i]!.step += 1
      let s = states[i]!
      let t = Double(s.step)
      let stepSize = lr / (1 - Foundation.pow(beta1, t))
      let bc2Sqrt = Float((1 - Foundation.pow(beta2, t)).squareRoot())
      let negStepSize = Float(-stepSize)
      let g = grad.storage.pointer, m = s.expAvg.storage.pointer, v = s.expAvgSq.storage.pointer
      let vMax = s.maxExpAvgSq?.storage.pointer
      let l2 = !decoupled && weightDecay != 0, shrink = decoupled && weightDecay != 0
      p.update { buffer in
        guard let theta = buffer.baseAddress else { return }
        var args = recur_adam_args(
          n: buffer.count, theta: theta, exp_avg: m, exp_avg_sq: v, max_exp_avg_sq: vMax, grad: g,
          lerp_weight: lerpWeight, beta2: b2, one_minus_beta2: oneMinusB2, neg_step_size: negStepSize,
          bias_correction2_sqrt: bc2Sqrt, eps: epsF, decoupled_decay: shrink ? 1 : 0, l2_decay: l2 ? 1 : 0,
          decay: decay, weight_decay: wd)
        recur_adam_update(&args)
      }
    }
  }

  func stateDict() -> OptimizerState {
    var state = OptimizerState()
    for (i, s) in states.enumerated() {
      guard let s else { continue }
      state.tensors.append(("state.\(i).exp_avg", s.expAvg.copied()))
      state.tensors.append(("state.\(i).exp_avg_sq", s.expAvgSq.copied()))
      if let vMax = s.maxExpAvgSq { state.tensors.append(("state.\(i).max_exp_avg_sq", vMax.copied())) }
      state.scalars.append(("state.\(i).step", Double(s.step)))
    }
    state.scalars.append(("param_groups.0.lr", Double(learningRate)))
    return state
  }

  mutating func loadStateDict(_ state: OptimizerState) throws {
    var reader = try OptimizerStateReader(state, kind: kind, parameters: parameters)
    let lr = try reader.learningRate()
    var loaded: [State?] = []
    for i in parameters.indices {
      guard let step = try reader.step(i) else { loaded.append(nil); continue }
      loaded.append(State(step: step, expAvg: try reader.requiredBuffer(i, "exp_avg"),
                          expAvgSq: try reader.requiredBuffer(i, "exp_avg_sq"),
                          maxExpAvgSq: amsgrad ? try reader.requiredBuffer(i, "max_exp_avg_sq") : nil))
    }
    try reader.checkAllUsed()
    learningRate = lr
    states = loaded
  }
}

/// `torch.lerp` for float: `a + w·(b − a)` when |w| < 0.5, else `b − (b − a)·(1 − w)`.
@inline(__always)
func lerp(_ a: Float, _ b: Float, _ w: Float) -> Float {
  Swift.abs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w)
}
