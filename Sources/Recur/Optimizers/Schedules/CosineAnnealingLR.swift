import Foundation

/// Cosine annealing from the base rate down to `etaMin` over `tMax` steps:
/// `etaMin + (base − etaMin)·(1 + cos(π·step/tMax))/2`. Past `tMax` the cosine continues, so the
/// rate climbs back up (PyTorch's behaviour); pair it with a step budget of `tMax`.
///
/// Matches `torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max, eta_min)` (its closed form).
public struct CosineAnnealingLR: LearningRateSchedule {
  /// Steps of the half cosine (`T_max`).
  public let tMax: Int
  /// The minimum rate, reached at step `tMax` (`eta_min`).
  public let etaMin: Float

  /// - Parameters:
  ///   - tMax: number of steps of the half cosine (> 0).
  ///   - etaMin: the minimum rate (default 0).
  public init(tMax: Int, etaMin: Float = 0) {
    precondition(tMax > 0, "CosineAnnealingLR: tMax must be positive, got \(tMax)")
    self.tMax = tMax
    self.etaMin = etaMin
  }

  /// `etaMin + (base − etaMin)·(1 + cos(π·step/tMax))/2`.
  public func learningRate(at step: Int, base: Float) -> Float {
    precondition(step >= 0, "CosineAnnealingLR: step must be non-negative, got \(step)")
    let low = Double(etaMin)
    return Float(low + (Double(base) - low) * (1 + Foundation.cos(Double.pi * Double(step) / Double(tMax))) / 2)
  }
}
