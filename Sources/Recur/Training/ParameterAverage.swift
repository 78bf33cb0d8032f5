/// An exponential moving average of a model's parameters (Polyak averaging), what
/// `torch.optim.swa_utils.AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(decay))` keeps.
/// After optimiser step n (1-based) every averaged value moves towards its parameter:
///
///     a ← a + (1 − dₙ)(θ − a),   dₙ = min(decay, (1 + n) / (10 + n))
///
/// The warm-up dₙ is that of TensorFlow's `ExponentialMovingAverage(num_updates:)`: early on
/// the average follows the weights closely, so in a short run it is not dominated by the
/// initial weights. The average starts as the parameters' values when it is made.
///
/// The noise of the last steps of stochastic gradient descent averages out: the averaged weights
/// usually evaluate better than the last iterate, at the cost of one pass over the parameters per step.
/// A class: the averaged values are written in place, so two holders must share them.
public final class ParameterAverage {
  /// The decay d of the average, in (0, 1): the average spans about 1 / (1 − d) steps.
  public let decay: Float
  /// Updates so far (n above).
  public internal(set) var updates: Int
  /// The averaged parameters, in the order of `parameters`.
  var values: [Tensor]
  /// The parameters averaged.
  let parameters: [Parameter]

  /// An average of `parameters` that starts at their current values, `updates` updates in.
  public init(decay: Float, parameters: [Parameter], updates: Int = 0) {
    precondition(decay > 0 && decay < 1, "ParameterAverage: decay \(decay) is not in (0, 1)")
    self.decay = decay
    self.updates = updates
    self.parameters = parameters
    values = parameters.map { $0.data.copied() }
  }

  /// The decay of update `n` (1-based), warm-up included.
  public func decay(ofUpdate n: Int) -> Float {
    Swift.min(decay, Float(1 + n) / Float(10 + n))
  }

  /// Moves the average towards the parameters' current values (call after each optimiser step).
  public func update() {
    updates += 1
    let weight = 1 - decay(ofUpdate: updates)
    for (p, a) in zip(parameters, values) {
      let average = a.storage.pointer, theta = p.data.storage.pointer
      for i in 0..<p.count { average[i] += weight * (theta[i] - average[i]) }
    }
  }

  /// Exchanges the parameters' values with the averaged ones (twice restores both). Bumps the
  /// parameters' versions, so derived forms (packed weights) are rebuilt.
  public func exchange() {
    for (p, a) in zip(parameters, values) {
      let average = a.storage.pointer
      p.update { theta in
        for i in 0..<theta.count { swap(&theta[i], &average[i]) }
      }
    }
  }

  /// Runs `body` with the averaged values in the parameters, then puts the parameters' own back.
  public func withAveragedValues<R>(_ body: () throws -> R) rethrows -> R {
    exchange()
    defer { exchange() }
    return try body()
  }
}
