import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The settings of one long-memory training run.
public struct LongMemoryRunSettings: Codable, Sendable, Equatable {
  /// The problem, cell and size.
  public var configuration: LongMemoryTask.Configuration
  /// Fresh sequences per step.
  public var batchSize = 50
  /// Adam's learning rate (constant).
  public var learningRate: Float = 1e-3
  /// Clip the global gradient norm to this (0 disables).
  public var gradClip: Float = 1
  /// Seed of the weights and of the data streams.
  public var seed: UInt64 = 1
  /// Budget: wall seconds (turned into steps when the run starts), and/or a number of steps.
  public var timeLimit: Double?
  /// Budget: optimiser steps.
  public var steps: Int?
  /// Steps between evaluations on the validation set.
  public var evalEvery = 100
  /// Validation sequences (fixed for the run).
  public var validationCount = 512
  /// Fresh test sequences scored at the end.
  public var testCount = 2560
  /// The run stops once this fraction of the validation sequences is right.
  public var solvedAccuracy = 0.99
  /// Gradient-norm snapshots over the budget (beside the first step).
  public var gradientSnapshots = 24
  /// Time steps each snapshot keeps.
  public var gradientTimePoints = 100

  /// Settings for `configuration`, everything else at its default.
  public init(configuration: LongMemoryTask.Configuration) { self.configuration = configuration }
}

/// One point of a run's learning curve (one evaluation).
public struct LongMemoryCurvePoint: Codable, Sendable, Equatable {
  /// Optimiser steps done.
  public var step: Int
  /// Training sequences seen.
  public var sequences: Int
  /// Mean training loss since the previous point.
  public var trainLoss: Double
  /// Validation loss.
  public var validationLoss: Double
  /// Fraction of validation sequences right.
  public var validationAccuracy: Double
  /// Training wall time so far, seconds.
  public var elapsed: Double
}

/// What one run gave.
public struct LongMemoryRunResult: Codable, Sendable, Equatable {
  /// Its settings.
  public var settings: LongMemoryRunSettings
  /// Parameters of the network.
  public var parameterCount: Int
  /// The learning curve.
  public var curve: [LongMemoryCurvePoint]
  /// How it ended: "solved", "budget" (not solved in the budget) or "stopped" (interrupted).
  public var outcome: String
  /// The step of the first evaluation with ``LongMemoryRunSettings/solvedAccuracy`` reached.
  public var solvedAtStep: Int?
  /// Training sequences seen until then.
  public var sequencesToSolve: Int?
  /// Training wall time until then, seconds.
  public var secondsToSolve: Double?
  /// The step of the first evaluation below the memoryless baseline loss.
  public var belowBaselineAtStep: Int?
  /// The memoryless baseline loss of the problem.
  public var baselineLoss: Double
  /// Optimiser steps done.
  public var steps: Int
  /// Training sequences seen.
  public var sequencesSeen: Int
  /// The score on ``LongMemoryRunSettings/testCount`` fresh sequences.
  public var test: LongMemoryScore
  /// Wall time of the whole run (training, evaluations, checkpoints, test), seconds.
  public var wallSeconds: Double
  /// CPU time of the process over the run (all threads), seconds.
  public var cpuSeconds: Double
  /// Per-step gradient norms at a few points of training.
  public var gradientFlow: GradientFlowRecorder.Record

  /// Whether the run reached the solved accuracy.
  public var solved: Bool { solvedAtStep != nil }
}

/// Runs one long-memory configuration through the `Trainer`: Adam at a constant rate, clipping,
/// an evaluation every `evalEvery` steps, stopping as soon as the validation accuracy reaches
/// `solvedAccuracy`, then a test on fresh sequences.
public enum LongMemoryExperiment {
  /// Trains and tests one configuration; `outputDirectory` (nil: none) receives the trainer's
  /// checkpoints and `metrics.jsonl`. `observers` see the run (a progress line); `stopRequested`
  /// is polled before every step. Throws `TrainingError` for invalid settings.
  public static func run(_ settings: LongMemoryRunSettings, outputDirectory: URL? = nil,
                         observers: [any TrainingObserver] = [], stopRequested: @escaping () -> Bool = { false }) throws
    -> LongMemoryRunResult {
    let wallStart = DispatchTime.now().uptimeNanoseconds, cpuStart = processCPUSeconds()
    try TrainingError.require(settings.testCount >= 1 && settings.testCount <= 1 << 20, "testCount", settings.testCount,
                              "an integer in 1…\(1 << 20)")
    try TrainingError.require(settings.solvedAccuracy > 0 && settings.solvedAccuracy <= 1, "solvedAccuracy",
                              settings.solvedAccuracy, "in (0, 1]")
    try TrainingError.requirePositive(["gradientSnapshots": settings.gradientSnapshots])
    try TrainingError.require(settings.gradientTimePoints >= 2, "gradientTimePoints", settings.gradientTimePoints, "at least 2")
    let task = try LongMemoryTask(configuration: settings.configuration, batchSize: settings.batchSize,
                                  validationCount: settings.validationCount, seed: settings.seed)
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: settings.learningRate))
    options.gradClip = settings.gradClip
    options.timeLimit = settings.timeLimit
    options.steps = settings.steps
    options.evalEvery = settings.evalEvery
    options.seed = settings.seed
    let problem = settings.configuration.problem
    let trainer = try Trainer(task: task, options: options, outputDirectory: outputDirectory)
    // The parallel-scan layers record no per-step norms: their record stays empty.
    let recorder = GradientFlowRecorder(flow: task.model.gradientFlow ?? GradientFlow(), length: problem.commonSteps,
                                        timePoints: settings.gradientTimePoints, snapshotCount: settings.gradientSnapshots)
    let watcher = SolveWatcher(accuracy: settings.solvedAccuracy, baseline: problem.baselineLoss)
    trainer.observers = [recorder, watcher] + observers
    trainer.stopRequested = { watcher.solvedAt != nil || stopRequested() }
    trainer.producer = "Recur \(RecurVersion.current) long-memory experiment"
    let outcome = try trainer.run()
    let test = try task.test(count: settings.testCount, seed: settings.seed)
    let curve = trainer.log.records.map { r in
      LongMemoryCurvePoint(step: r.step, sequences: r.tokens, trainLoss: r.trainLoss, validationLoss: r.validationLoss ?? .nan,
                           validationAccuracy: r.metrics["accuracy"] ?? .nan, elapsed: r.elapsed)
    }
    return LongMemoryRunResult(
      settings: settings, parameterCount: task.model.parameterCount, curve: curve,
      outcome: watcher.solvedAt != nil ? "solved" : (outcome == .stopped ? "stopped" : "budget"),
      solvedAtStep: watcher.solvedAt?.step, sequencesToSolve: watcher.solvedAt?.sequences, secondsToSolve: watcher.solvedAt?.seconds,
      belowBaselineAtStep: watcher.belowBaselineAt, baselineLoss: problem.baselineLoss, steps: trainer.step,
      sequencesSeen: trainer.itemsSeen, test: test,
      wallSeconds: Double(DispatchTime.now().uptimeNanoseconds - wallStart) / 1e9, cpuSeconds: processCPUSeconds() - cpuStart,
      gradientFlow: recorder.record)
  }

  /// CPU time of this process so far (all threads), seconds.
  static func processCPUSeconds() -> Double {
    var t = timespec()
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
    return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
  }
}

/// Notes the first evaluation that reaches the solved accuracy and the first below the baseline.
final class SolveWatcher: TrainingObserver {
  let accuracy: Double, baseline: Double
  private(set) var solvedAt: (step: Int, sequences: Int, seconds: Double)?
  private(set) var belowBaselineAt: Int?

  init(accuracy: Double, baseline: Double) {
    self.accuracy = accuracy
    self.baseline = baseline
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    guard case let .evaluated(record, _) = event else { return }
    if belowBaselineAt == nil, let loss = record.validationLoss, loss < baseline { belowBaselineAt = record.step }
    if solvedAt == nil, (record.metrics["accuracy"] ?? 0) >= accuracy {
      solvedAt = (record.step, record.tokens, record.elapsed)
    }
  }
}

extension LongMemoryTask {
  /// The score on `count` fresh sequences from the test stream of `seed` (never seen in training
  /// or validation), drawn and scored 256 at a time.
  public func test(count: Int, seed: UInt64) throws -> LongMemoryScore {
    var generator = RandomGenerator(seed: LongMemoryStreams.seed(seed, stream: LongMemoryStreams.test))
    var total = LongMemoryScore(sequences: 0, loss: 0, accuracy: 0, symbolAccuracy: model.readsEveryStep ? 0 : nil)
    for start in stride(from: 0, to: count, by: 256) {
      total.add(try score(configuration.problem.sample(count: Swift.min(256, count - start), generator: &generator)))
    }
    return total
  }
}
