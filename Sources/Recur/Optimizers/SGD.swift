/// Stochastic gradient descent with optional momentum (heavy-ball or Nesterov) and L2 weight decay.
///
/// ```
/// g ← ∇θ + weightDecay·θ
/// b ← g                                   (first step)
/// b ← momentum·b + (1 − dampening)·g      (later steps)
/// g ← g + momentum·b  (nesterov)   or   g ← b
/// θ ← θ − learningRate·g
/// ```
///
/// State per parameter: `momentum_buffer` (only with momentum, created at the parameter's first
/// step). The arithmetic follows `torch/optim/sgd.py` `_single_tensor_sgd` operation by operation.
///
/// Matches `torch.optim.SGD(params, lr, momentum, dampening, weight_decay, nesterov)`
/// (`maximize`, `foreach`, `fused` are not offered).
public final class SGD: Optimizer {
  /// The parameters updated by ``step()``, in state-dict index order.
  public let parameters: [Parameter]
  /// The step size (`lr`); a schedule may change it between steps.
  public var learningRate: Float
  /// Momentum factor (`momentum`); 0 means plain SGD.
  public let momentum: Float
  /// Dampening of the momentum (`dampening`).
  public let dampening: Float
  /// L2 penalty added to the gradient (`weight_decay`).
  public let weightDecay: Float
  /// Whether Nesterov momentum is used (`nesterov`).
  public let nesterov: Bool
  /// `momentum_buffer` per parameter (nil before its first step, or without momentum).
  /// Never shared with other tensors, so it is updated through its storage in place.
  var momentumBuffers: [Tensor?]

  /// - Parameters:
  ///   - parameters: the parameters to optimise.
  ///   - learningRate: step size (`lr`, default 1e-3 as in torch ≥ 2.2).
  ///   - momentum: momentum factor (default 0).
  ///   - dampening: dampening of the momentum (default 0).
  ///   - weightDecay: L2 penalty (default 0).
  ///   - nesterov: Nesterov momentum (needs momentum > 0 and dampening == 0).
  public init(parameters: [Parameter], learningRate: Float = 1e-3, momentum: Float = 0, dampening: Float = 0,
              weightDecay: Float = 0, nesterov: Bool = false) {
    checkHyperparameter(learningRate >= 0, "SGD: invalid learning rate: \(learningRate)")
    checkHyperparameter(momentum >= 0, "SGD: invalid momentum value: \(momentum)")
    checkHyperparameter(weightDecay >= 0, "SGD: invalid weightDecay value: \(weightDecay)")
    checkHyperparameter(!nesterov || (momentum > 0 && dampening == 0),
                        "SGD: Nesterov momentum requires a momentum and zero dampening")
    self.parameters = parameters
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    momentumBuffers = Array(repeating: nil, count: parameters.count)
  }

  /// Updates every parameter that has a gradient; parameters without one are skipped.
  public func step() {
    // Scalars as torch forms them: Python floats (Double) rounded to float32 by the kernels.
    let lr = Double(learningRate)
    let wd = weightDecay, m = momentum
    let oneMinusDampening = Float(1 - Double(dampening)), negLR = Float(-lr)
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad else { continue }
      let g = grad.storage.pointer
      let first = momentumBuffers[i] == nil
      if momentum != 0 && first { momentumBuffers[i] = Tensor(uninitializedShape: p.shape) }
      let b = momentumBuffers[i]?.storage.pointer
      p.update { buffer in
        guard let theta = buffer.baseAddress else { return }
        let n = buffer.count
        switch (b, first, nesterov, weightDecay != 0) {
        case (nil, _, _, false):
          for j in 0..<n { theta[j] = theta[j] + negLR * g[j] }
        case let (b?, false, false, false):
          // Heavy-ball momentum without weight decay: the common case, branch-free.
          for j in 0..<n {
            let bj = b[j] * m + oneMinusDampening * g[j]
            b[j] = bj
            theta[j] = theta[j] + negLR * bj
          }
        default:
          for j in 0..<n {
            var d = g[j]
            if weightDecay != 0 { d = d + wd * theta[j] }
            if let b {
              b[j] = first ? d : b[j] * m + oneMinusDampening * d
              d = nesterov ? d + m * b[j] : b[j]
            }
            theta[j] = theta[j] + negLR * d
          }
        }
      }
    }
  }

  /// The momentum buffers and learning rate, named as in `torch.optim.SGD`.
  public func stateDict() -> OptimizerState {
    var state = OptimizerState()
    for (i, b) in momentumBuffers.enumerated() {
      if let b { state.tensors.append(("state.\(i).momentum_buffer", b.copied())) }
    }
    state.scalars.append(("param_groups.0.lr", Double(learningRate)))
    return state
  }

  /// Restores the state written by ``stateDict()``; throws if an entry is unexpected or has the wrong shape.
  public func loadStateDict(_ state: OptimizerState) throws {
    var reader = try OptimizerStateReader(state, kind: "SGD", parameters: parameters)
    let lr = try reader.learningRate()
    var buffers: [Tensor?] = []
    for i in parameters.indices { buffers.append(try reader.buffer(i, "momentum_buffer")) }
    try reader.checkAllUsed()
    learningRate = lr
    momentumBuffers = buffers
  }
}
