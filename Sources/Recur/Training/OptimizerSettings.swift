/// Which optimiser a `Trainer` uses and its hyper-parameters (stored in checkpoints).
public struct OptimizerSettings: Sendable, Codable, Equatable {
  /// The update rule.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    case adam, adamw, sgd, rmsprop, adagrad
  }

  /// The update rule.
  public var kind: Kind
  /// The base learning rate (before warm-up and schedule).
  public var learningRate: Float
  /// L2 (Adam, SGD, RMSProp, Adagrad) or decoupled (AdamW) weight decay.
  public var weightDecay: Float = 0
  /// SGD and RMSProp momentum.
  public var momentum: Float = 0

  /// Settings for `kind` at `learningRate`.
  public init(kind: Kind = .adam, learningRate: Float, weightDecay: Float = 0, momentum: Float = 0) {
    self.kind = kind
    self.learningRate = learningRate
    self.weightDecay = weightDecay
    self.momentum = momentum
  }

  /// The first invalid value, or nil.
  public func validate() throws {
    try TrainingError.require(learningRate > 0 && learningRate.isFinite, "learningRate", learningRate, "a positive number")
    try TrainingError.require(weightDecay >= 0 && weightDecay.isFinite, "weightDecay", weightDecay, "≥ 0")
    try TrainingError.require(momentum >= 0 && momentum < 1, "momentum", momentum, "in [0, 1)")
  }

  /// A fresh optimiser over `parameters`.
  public func makeOptimizer(parameters: [Parameter]) -> any Optimizer {
    switch kind {
    case .adam: Adam(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
    case .adamw: AdamW(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
    case .sgd: SGD(parameters: parameters, learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    case .rmsprop: RMSProp(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay, momentum: momentum)
    case .adagrad: Adagrad(parameters: parameters, learningRate: learningRate, weightDecay: weightDecay)
    }
  }
}

/// How the learning rate changes over a run: linear warm-up, then a schedule over the step budget.
public struct ScheduleSettings: Sendable, Codable, Equatable {
  /// The shape after warm-up.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// The base rate throughout.
    case constant
    /// Cosine annealing (`CosineAnnealingLR`) to `minLearningRateFactor` × the base rate at the end of the budget.
    case cosine
    /// Multiply by `decayFactor` every `decayEvery` steps (`StepLR`).
    case step
  }

  /// The shape after warm-up.
  public var kind: Kind = .constant
  /// Steps of linear warm-up from 0 (0 disables).
  public var warmupSteps = 0
  /// The cosine schedule's final rate as a fraction of the base rate.
  public var minLearningRateFactor: Float = 0.05
  /// `step` schedule: steps between decays.
  public var decayEvery = 1000
  /// `step` schedule: the factor of each decay.
  public var decayFactor: Float = 0.5

  /// A schedule of `kind`.
  public init(kind: Kind = .constant, warmupSteps: Int = 0) {
    self.kind = kind
    self.warmupSteps = warmupSteps
  }

  /// Throws `TrainingError.invalidSetting` for the first invalid value.
  public func validate() throws {
    try TrainingError.require(warmupSteps >= 0, "warmupSteps", warmupSteps, "≥ 0")
    try TrainingError.require(minLearningRateFactor >= 0 && minLearningRateFactor <= 1, "minLearningRateFactor", minLearningRateFactor, "in [0, 1]")
    try TrainingError.require(decayEvery >= 1, "decayEvery", decayEvery, "a positive integer")
    try TrainingError.require(decayFactor > 0 && decayFactor <= 1, "decayFactor", decayFactor, "in (0, 1]")
  }

  /// The learning rate before optimiser step `step` (0-based) of a run of `totalSteps`: a pure
  /// function of the step, so a resumed run lands on the same rate.
  public func learningRate(at step: Int, totalSteps: Int, base: Float) -> Float {
    if warmupSteps > 0 && step < warmupSteps {
      return LinearWarmup(warmupSteps: warmupSteps).learningRate(at: step, base: base)
    }
    let after = step - warmupSteps
    switch kind {
    case .constant:
      return base
    case .step:
      return StepLR(stepSize: decayEvery, gamma: decayFactor).learningRate(at: after, base: base)
    case .cosine:
      let span = Swift.max(1, totalSteps - warmupSteps)
      return CosineAnnealingLR(tMax: span, etaMin: base * minLearningRateFactor).learningRate(at: Swift.min(after, span), base: base)
    }
  }
}
