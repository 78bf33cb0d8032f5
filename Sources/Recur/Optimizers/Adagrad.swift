/// Adagrad: divides the gradient by the root of the accumulated squared gradients, with a
/// learning rate that can decay with the step count.
///
/// ```
/// g ← ∇θ + weightDecay·θ
/// lr_t ← lr / (1 + (t − 1)·lrDecay)
/// s ← s + g²
/// θ ← θ − lr_t·g / (√s + eps)
/// ```
///
/// State per parameter (created at construction, as in PyTorch): `step` and `sum`, which starts at
/// `initialAccumulatorValue`. The arithmetic follows `torch/optim/adagrad.py`
/// `_single_tensor_adagrad` operation by operation.
///
/// Matches `torch.optim.Adagrad(params, lr, lr_decay, weight_decay, initial_accumulator_value, eps)`.
public final class Adagrad: Optimizer {
  /// The parameters updated by ``step()``, in state-dict index order.
  public let parameters: [Parameter]
  /// The base step size (`lr`); a schedule may change it between steps.
  public var learningRate: Float
  /// Learning-rate decay per step (`lr_decay`).
  public let lrDecay: Float
  /// L2 penalty added to the gradient (`weight_decay`).
  public let weightDecay: Float
  /// Starting value of the squared-gradient sums (`initial_accumulator_value`).
  public let initialAccumulatorValue: Float
  /// Added to the denominator (`eps`).
  public let eps: Float
  var steps: [Int]
  /// `sum` per parameter; never shared with other tensors, so updated through its storage in place.
  var sums: [Tensor]

  /// - Parameters:
  ///   - parameters: the parameters to optimise.
  ///   - learningRate: step size (`lr`, default 1e-2).
  ///   - lrDecay: learning-rate decay per step (default 0).
  ///   - weightDecay: L2 penalty (default 0).
  ///   - initialAccumulatorValue: starting value of the squared-gradient sums (default 0).
  ///   - eps: added to the denominator (default 1e-10).
  public init(parameters: [Parameter], learningRate: Float = 1e-2, lrDecay: Float = 0, weightDecay: Float = 0,
              initialAccumulatorValue: Float = 0, eps: Float = 1e-10) {
    checkHyperparameter(learningRate >= 0, "Adagrad: invalid learning rate: \(learningRate)")
    checkHyperparameter(lrDecay >= 0, "Adagrad: invalid lrDecay value: \(lrDecay)")
    checkHyperparameter(weightDecay >= 0, "Adagrad: invalid weightDecay value: \(weightDecay)")
    checkHyperparameter(initialAccumulatorValue >= 0,
                        "Adagrad: invalid initialAccumulatorValue value: \(initialAccumulatorValue)")
    checkHyperparameter(eps >= 0, "Adagrad: invalid epsilon value: \(eps)")
    self.parameters = parameters
    self.learningRate = learningRate
    self.lrDecay = lrDecay
    self.weightDecay = weightDecay
    self.initialAccumulatorValue = initialAccumulatorValue
    self.eps = eps
    steps = Array(repeating: 0, count: parameters.count)
    sums = parameters.map { Tensor(repeating: initialAccumulatorValue, shape: $0.shape) }
  }

  /// Updates every parameter that has a gradient; parameters without one are skipped.
  public func step() {
    let lr = Double(learningRate), decay = Double(lrDecay)
    let wd = weightDecay, epsF = eps
    for (i, p) in parameters.enumerated() {
      guard let grad = p.grad else { continue }
      steps[i] += 1
      let clr = lr / (1 + Double(steps[i] - 1) * decay)
      let negCLR = Float(-clr)
      let g = grad.storage.pointer, sum = sums[i].storage.pointer
      let l2 = weightDecay != 0
      p.update { theta in
        for j in 0..<theta.count {
          var gj = g[j]
          if l2 { gj = gj + wd * theta[j] }
          sum[j] = sum[j] + (1 * gj) * gj
          let std = sum[j].squareRoot() + epsF
          theta[j] = theta[j] + (negCLR * gj) / std
        }
      }
    }
  }

  /// The `sum` buffers, step counts and learning rate, named as in `torch.optim.Adagrad`.
  public func stateDict() -> OptimizerState {
    var state = OptimizerState()
    for i in parameters.indices {
      state.tensors.append(("state.\(i).sum", sums[i].copied()))
      state.scalars.append(("state.\(i).step", Double(steps[i])))
    }
    state.scalars.append(("param_groups.0.lr", Double(learningRate)))
    return state
  }

  /// Restores the state written by ``stateDict()``; throws if a buffer is missing, extra or of the wrong shape.
  public func loadStateDict(_ state: OptimizerState) throws {
    var reader = try OptimizerStateReader(state, kind: "Adagrad", parameters: parameters)
    let lr = try reader.learningRate()
    var loadedSteps: [Int] = [], loadedSums: [Tensor] = []
    for i in parameters.indices {
      guard let step = try reader.step(i) else { throw OptimizerStateError("Adagrad state: missing \"state.\(i).step\"") }
      loadedSteps.append(step)
      loadedSums.append(try reader.requiredBuffer(i, "sum"))
    }
    try reader.checkAllUsed()
    learningRate = lr
    steps = loadedSteps
    sums = loadedSums
  }
}
