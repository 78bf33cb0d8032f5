/// Where a run stands, as observers see it.
public struct TrainingStatus: Sendable {
  /// Optimiser steps done.
  public var step: Int
  /// The step budget (fixed when the run starts).
  public var totalSteps: Int
  /// Training items (tokens, windows…) processed.
  public var itemsSeen: Int
  /// Wall time of the run so far, seconds (carried over by resumes).
  public var trainingSeconds: Double
  /// The best evaluation so far.
  public var best: (step: Int, loss: Double)?

  /// The fraction of the budget done, in [0, 1].
  public var progress: Double { totalSteps > 0 ? Swift.min(1, Double(step) / Double(totalSteps)) : 0 }
}

/// What happened in a run.
public enum TrainingEvent {
  /// The run starts (or resumes) with its step budget fixed.
  case started
  /// One optimiser step finished.
  case stepped(StepReport)
  /// An evaluation finished: its record is in the log, and the checkpoints are written.
  case evaluated(MetricsRecord, isBest: Bool)
  /// The run ended (budget spent, stopped, or early-stopped).
  case ended(TrainingOutcome)
}

/// Reports a run as it goes: a progress line, samples, plots. Observers may throw to stop the run.
public protocol TrainingObserver: AnyObject {
  /// Called for every event, in order.
  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws
}

/// What one step did.
public struct StepReport: Sendable {
  /// The batch's mean loss.
  public var loss: Float
  /// The global gradient norm before clipping.
  public var gradientNorm: Float
  /// The learning rate of the step.
  public var learningRate: Float
  /// Items (tokens, windows…) in the batch.
  public var items: Int
  /// Wall time of the step, seconds.
  public var seconds: Double
}

/// How `Trainer.run()` ended.
public enum TrainingOutcome: Sendable, Equatable {
  /// The step budget is spent.
  case finished
  /// A stop was requested (e.g. Ctrl-C); the last finished step is saved.
  case stopped
  /// The validation loss stopped improving for `patience` evaluations.
  case earlyStopped
}
