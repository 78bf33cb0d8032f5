/// Every training choice the `Trainer` owns (stored in checkpoints, so a run resumes with the
/// settings it started with).
public struct TrainerOptions: Sendable, Codable, Equatable {
  /// The optimiser.
  public var optimizer: OptimizerSettings
  /// The learning-rate schedule.
  public var schedule = ScheduleSettings()
  /// Clip the global gradient norm to this (0 disables).
  public var gradClip: Float = 0
  /// Budget: stop after this many optimiser steps.
  public var steps: Int?
  /// Budget: stop after this many passes over the training data.
  public var epochs: Double?
  /// Budget: this much wall time, seconds, evaluations included. Turned into a step budget when
  /// training starts (by timing a few steps and an evaluation), so the schedule is a function of
  /// the step and a resumed run is bit-identical.
  public var timeLimit: Double?
  /// Evaluate (validation, checkpoints, metrics) every this many steps (nil: once per epoch).
  public var evalEvery: Int?
  /// Stop when this many evaluations in a row did not improve on the best validation loss (nil: never).
  public var patience: Int?
  /// The `Evaluation.metrics` entry (higher is better, e.g. `"accuracy"`) that selects the best
  /// checkpoint and drives early stopping, ties broken by the lower validation loss; nil: the
  /// lowest validation loss.
  public var selectionMetric: String?
  /// At the end, load the weights of the best evaluation into the model.
  public var restoreBest = false
  /// Evaluate and save an exponential moving average of the weights with this decay, in (0, 1)
  /// (`ParameterAverage`; e.g. 0.999 averages over about the last 1,000 steps); nil: the weights
  /// as trained. Checkpoints then hold the averaged weights as the model and the trained ones
  /// under `ModelArchive.trainingWeightsPrefix`, for resuming.
  public var averageDecay: Float?
  /// The precision of the matrix products in training steps (evaluations run at `.highest`).
  public var matmulPrecision: Kernels.MatmulPrecision = .highest
  /// Seed of the trainer's random stream (dropout masks and every other draw of the forward pass).
  public var seed: UInt64 = 0

  /// Options for `optimizer`; everything else at its default.
  public init(optimizer: OptimizerSettings) { self.optimizer = optimizer }

  /// The largest step budget (2^40): step and item counters stay far from overflow.
  public static let maximumSteps = 1 << 40
  /// The longest time limit, in seconds: a year.
  public static let maximumTimeLimit = 365 * 24 * 3600.0

  /// Throws `TrainingError` for the first invalid or out-of-range value, or a missing budget.
  public func validate() throws {
    try optimizer.validate()
    try schedule.validate()
    try TrainingError.require(gradClip >= 0 && gradClip.isFinite, "gradClip", gradClip, "≥ 0 (0 disables clipping)")
    let maxSteps = Self.maximumSteps
    if let steps { try TrainingError.require(steps >= 1 && steps <= maxSteps, "steps", steps, "a positive integer ≤ \(maxSteps)") }
    if let epochs {
      try TrainingError.require(epochs > 0 && epochs <= Double(maxSteps), "epochs", epochs, "a positive number ≤ \(maxSteps)")
    }
    if let timeLimit {
      try TrainingError.require(timeLimit > 0 && timeLimit <= Self.maximumTimeLimit, "timeLimit", timeLimit,
                                "a positive duration of at most \(Int(Self.maximumTimeLimit)) seconds (a year)")
    }
    if let evalEvery { try TrainingError.require(evalEvery >= 1, "evalEvery", evalEvery, "a positive integer") }
    if let averageDecay {
      try TrainingError.require(averageDecay > 0 && averageDecay < 1, "averageDecay", averageDecay, "in (0, 1), e.g. 0.999")
    }
    if let patience { try TrainingError.require(patience >= 1, "patience", patience, "a positive integer") }
    if steps == nil && epochs == nil && timeLimit == nil { throw TrainingError.noBudget }
  }
}
