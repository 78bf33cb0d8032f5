/// RMSProp: divides the gradient by a running root-mean-square, optionally centred (by the running
/// mean of the gradient) and with momentum.
///
/// ```
/// g ← ∇θ + weightDecay·θ
/// s ← α·s + (1 − α)·g²
/// ḡ ← lerp(ḡ, g, 1 − α),  d ← √(s − ḡ²) + eps     (centered)     or   d ← √s + eps
/// b ← momentum·b + g/d,  θ ← θ − lr·b             (momentum > 0) or   θ ← θ − lr·g/d
/// ```
///
/// State per parameter (created at its first step): `step`, `square_avg`, plus `grad_avg` when
/// centred and `momentum_buffer` with momentum. The arithmetic follows `torch/optim/rmsprop.py`
/// `_single_tensor_rmsprop` operation by operation.
///
/// Matches `torch.optim.RMSprop(params, lr, alpha, eps, weight_decay, momentum, centered)`.
public final class RMSProp: Optimizer {
  struct State {
    var step: Int
    /// Never shared with other tensors, so updated through their storage in place.
    var squareAvg: Tensor
    var gradAvg: Tensor?
    var momentumBuffer: Tensor?
  }

  /// The parameters updated by ``step()``, in state-dict index order.
  public let parameters: [Parameter]
  /// The step size (`lr`); a schedule may change it between steps.
  public var learningRate: Float
  /// Smoothing constant of the squared-gradient average (`alpha`).
  public let alpha: Float
  /// Added to the denominator (`eps`).
  public let eps: Float
  /// L2 penalty added to the gradient (`weight_decay`).
  public let weightDecay: Float
  /// Momentum factor (`momentum`); 0 means none.
  public let momentum: Float
  /// Whether the gradient is normalised by its estimated variance (`centered`).
  public let centered: Bool
  var states: [State?]

  /// - Parameters:
  ///   - parameters: the parameters to optimise.
  ///   - learningRate: step size (`lr`, default 1e-2).
  ///   - alpha: smoothing constant of the squared-gradient average (default 0.99).
  ///   - eps: added to the denominator (default 1e-8).
  ///   - weightDecay: L2 penalty (default 0).
  ///   - momentum: momentum factor (default 0).
  ///   - centered: normalise by the estimated variance instead of the second moment (default false).
  public init(parameters: [Parameter], learningRate: Float = 1e-2, alpha: Float = 0.99, eps: Float = 1e-8,
              weightDecay: Float = 0, momentum: Float = 0, centered: Bool = false) {
    checkHyperparameter(learningRate >= 0, "RMSProp: invalid learning rate: \(learningRate)")
    checkHyperparameter(eps >= 0, "RMSProp: invalid epsilon value: \(eps)")
    checkHyperparameter(momentum >= 0, "RMSProp: invalid momentum value: \(momentum)")
    checkHyperparameter(weightDecay >= 0, "RMSProp: invalid weightDecay value: \(weightDecay)")
    checkHyperparameter(alpha >= 0, "RMSProp: invalid alpha value: \(alpha)")
    self.parameters = parameters
    self.learningRate = learningRate
    self.alpha = alpha
    self.eps = eps
    self.weightDecay = weightDecay
    self.momentum = momentum
    self.centered = centered
    states = Array(repeating: nil, count: parameters.count)
  }

  /// Updates every parameter that has a gradient; parameters without one are skipped.
  public func step() {
    let lr = Double(learningRate)
    let negLR = Float(-lr), a = alpha, oneMinusAlpha = Float(1 - Double(alpha))
    let wd = weightDecay, m = momentum, epsF = eps
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad else { continue }
      if states[i] == nil {
        states[i] = State(step: 0, squareAvg: .zeros(p.shape), gradAvg: centered ? .zeros(p.shape) : nil,
                          momentumBuffer: momentum > 0 ? .zeros(p.shape) : nil)
      }
      states[i]!.step += 1
      let s = states[i]!
      let g = grad.storage.pointer, sq = s.squareAvg.storage.pointer
      let ga = s.gradAvg?.storage.pointer, buf = s.momentumBuffer?.storage.pointer
      let decay = weightDecay != 0
      p.update { theta in
        for j in 0..<theta.count {
          var gj = g[j]
          if decay { gj = gj + wd * theta[j] }
          sq[j] = sq[j] * a + (oneMinusAlpha * gj) * gj
          var avg: Float
          if let ga {
            ga[j] = lerp(ga[j], gj, oneMinusAlpha)
            avg = (sq[j] + (-1 * ga[j]) * ga[j]).squareRoot()
          } else {
            avg = sq[j].squareRoot()
          }
          avg = avg + epsF
          if let buf {
            buf[j] = buf[j] * m + (1 * gj) / avg
            theta[j] = theta[j] + negLR * buf[j]
          } else {
            theta[j] = theta[j] + (negLR * gj) / avg
          }
        }
      }
    }
  }

  /// The averages, momentum buffers, step counts and learning rate, named as in `torch.optim.RMSprop`.
  public func stateDict() -> OptimizerState {
    var state = OptimizerState()
    for (i, s) in states.enumerated() {
      guard let s else { continue }
      state.tensors.append(("state.\(i).square_avg", s.squareAvg.copied()))
      if let b = s.momentumBuffer { state.tensors.append(("state.\(i).momentum_buffer", b.copied())) }
      if let ga = s.gradAvg { state.tensors.append(("state.\(i).grad_avg", ga.copied())) }
      state.scalars.append(("state.\(i).step", Double(s.step)))
    }
    state.scalars.append(("param_groups.0.lr", Double(learningRate)))
    return state
  }

  /// Restores the state written by ``stateDict()``; throws if a buffer is missing, extra or of the wrong shape.
  public func loadStateDict(_ state: OptimizerState) throws {
    var reader = try OptimizerStateReader(state, kind: "RMSProp", parameters: parameters)
    let lr = try reader.learningRate()
    var loaded: [State?] = []
    for i in parameters.indices {
      guard let step = try reader.step(i) else { loaded.append(nil); continue }
      loaded.append(State(step: step, squareAvg: try reader.requiredBuffer(i, "square_avg"),
                          gradAvg: centered ? try reader.requiredBuffer(i, "grad_avg") : nil,
                          momentumBuffer: momentum > 0 ? try reader.requiredBuffer(i, "momentum_buffer") : nil))
    }
    try reader.checkAllUsed()
    learningRate = lr
    states = loaded
  }
}
