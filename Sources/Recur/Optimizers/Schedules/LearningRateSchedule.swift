/// A learning rate as a function of the number of scheduler steps taken, in closed form.
///
/// `step` counts like PyTorch's `last_epoch`: 0 is the start, and a schedule is advanced once per
/// optimiser step (or per epoch, as the caller decides). Closed forms make a resumed run land on
/// the same rate without replaying history: store the step count, not the rate.
public protocol LearningRateSchedule: Sendable {
  /// The learning rate after `step` scheduler steps, starting from `base` (torch's `base_lrs`).
  func learningRate(at step: Int, base: Float) -> Float
}

extension LearningRateSchedule {
  /// Sets `optimizer.learningRate` to this schedule's rate at `step`.
  public func apply(to optimizer: any Optimizer, step: Int, base: Float) {
    optimizer.learningRate = learningRate(at: step, base: base)
  }
}
