/// Linear warm-up over `warmupSteps` steps from `startFactor·base` to `base`, then an optional
/// schedule that starts afresh (its step 0 is the end of the warm-up).
///
/// ```
/// step < warmupSteps:  base·(startFactor + (1 − startFactor)·step/warmupSteps)
/// afterwards:          then.learningRate(at: step − warmupSteps, base: base)   (or base)
/// ```
///
/// Matches `torch.optim.lr_scheduler.LinearLR(optimizer, start_factor, end_factor=1,
/// total_iters=warmupSteps)`, and with `then:` a `SequentialLR([LinearLR(…), then],
/// milestones=[warmupSteps])`, e.g. warm-up followed by `CosineAnnealingLR`.
public struct LinearWarmup: LearningRateSchedule {
  /// Length of the warm-up in steps.
  public let warmupSteps: Int
  /// Fraction of the base rate at step 0.
  public let startFactor: Float
  /// The schedule after the warm-up, or nil for the constant base rate.
  public let then: (any LearningRateSchedule)?

  /// - Parameters:
  ///   - warmupSteps: length of the warm-up (> 0).
  ///   - startFactor: fraction of the base rate at step 0, in (0, 1] (default 1/warmupSteps).
  ///   - then: the schedule that follows the warm-up (default: constant base rate).
  public init(warmupSteps: Int, startFactor: Float? = nil, then: (any LearningRateSchedule)? = nil) {
    precondition(warmupSteps > 0, "LinearWarmup: warmupSteps must be positive, got \(warmupSteps)")
    let factor = startFactor ?? 1 / Float(warmupSteps)
    precondition(factor > 0 && factor <= 1,
                 "LinearWarmup: startFactor must be greater than 0 and at most 1, got \(factor)")
    self.warmupSteps = warmupSteps
    self.startFactor = factor
    self.then = then
  }

  /// The warm-up rate before `warmupSteps`, then `then`'s rate (or `base`).
  public func learningRate(at step: Int, base: Float) -> Float {
    precondition(step >= 0, "LinearWarmup: step must be non-negative, got \(step)")
    if step < warmupSteps {
      let s = Double(startFactor)
      return Float(Double(base) * (s + (1 - s) * Double(step) / Double(warmupSteps)))
    }
    return then?.learningRate(at: step - warmupSteps, base: base) ?? base
  }
}
