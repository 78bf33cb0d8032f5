import Foundation

/// Decays the learning rate by `gamma` every `stepSize` steps: `base · gamma^⌊step / stepSize⌋`.
///
/// Matches `torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)`.
public struct StepLR: LearningRateSchedule {
  /// Steps between decays (`step_size`).
  public let stepSize: Int
  /// Multiplicative factor per decay (`gamma`).
  public let gamma: Float

  /// - Parameters:
  ///   - stepSize: steps between decays (> 0).
  ///   - gamma: multiplicative factor (default 0.1).
  public init(stepSize: Int, gamma: Float = 0.1) {
    precondition(stepSize > 0, "StepLR: stepSize must be positive, got \(stepSize)")
    self.stepSize = stepSize
    self.gamma = gamma
  }

  /// `base · gamma^⌊step / stepSize⌋`.
  public func learningRate(at step: Int, base: Float) -> Float {
    precondition(step >= 0, "StepLR: step must be non-negative, got \(step)")
    return Float(Double(base) * Foundation.pow(Double(gamma), Double(step / stepSize)))
  }
}
