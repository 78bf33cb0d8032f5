import Foundation

/// The one training loop: runs any `TrainingTask` with an optimiser and schedule, gradient
/// clipping, matmul precision, evaluations, best and last checkpoints (atomic), bit-identical
/// resume, step/epoch/time budgets, early stopping, a NaN guard and stop requests.
///
///     let trainer = try Trainer(task: task, options: options, outputDirectory: runs)
///     let outcome = try trainer.run()
///
/// One step: the task's loss on its next batch (training mode, the trainer's random stream),
/// backward, clip, learning rate from the schedule at this step, optimiser update. A NaN or
/// infinite loss or gradient norm throws `TrainingError.nonFinite` before the weights change; the
/// files on disk stay those of the last good evaluation.
///
/// A time budget becomes a step budget when the run starts (a few steps and an evaluation are
/// timed, without changing anything): the schedule is then a function of the step, the budget is
/// stored in checkpoints, and a resumed run is bit-identical to an uninterrupted one.
public final class Trainer<Task: TrainingTask> {
  /// The task being trained.
  public let task: Task
  /// The settings of the run.
  public private(set) var options: TrainerOptions
  /// The optimiser over the model's parameters.
  public let optimizer: any Optimizer
  /// Where `best.safetensors`, `last.safetensors` and `metrics.jsonl` go (nil: nowhere).
  public var outputDirectory: URL?
  /// Told of every step, evaluation and the end of the run.
  public var observers: [any TrainingObserver] = []
  /// Polled before every step; return true to stop (the last finished step is saved).
  public var stopRequested: () -> Bool = { false }
  /// Who writes the archives: the command line that started the run, for their `producer`.
  public var producer = "Recur \(RecurVersion.current)"
  /// The evaluations so far.
  public internal(set) var log = MetricsLog()

  /// Optimiser steps done.
  public internal(set) var step = 0
  /// The step budget, fixed when the run starts (nil before).
  public internal(set) var totalSteps: Int?
  /// Training items processed.
  public internal(set) var itemsSeen = 0
  /// Wall time of the run so far (steps, evaluations, checkpoints), carried over by resumes.
  public internal(set) var trainingSeconds = 0.0
  /// The best evaluation so far: its step and selection score (the validation loss, or minus
  /// `options.selectionMetric`; lower is better).
  public internal(set) var best: (step: Int, loss: Double)?
  /// The validation loss of the best evaluation: when a metric selects, an equal metric with a
  /// lower validation loss is better (small validation sets tie often).
  var bestValidationLoss: Double?
  /// Evaluations in a row without a new best.
  public internal(set) var evaluationsWithoutImprovement = 0
  /// The mode and random stream of the forward passes.
  public internal(set) var context: ForwardContext
  /// The best weights, kept in memory when `options.restoreBest` is set.
  var bestWeights: [(name: String, tensor: Tensor)]?
  /// The processes of a data-parallel run (`.single` for one process).
  public let processGroup: ProcessGroup
  /// Averages the gradients over the processes (nil for one process).
  let synchronizer: GradientSynchronizer?
  /// The moving average of the weights that evaluations and checkpoints use (`options.averageDecay`).
  public internal(set) var average: ParameterAverage?

  /// A fresh run of `task`. Throws `TrainingError` for invalid options.
  ///
  /// Data parallelism: with a `processGroup` of several processes (by default the MPI world when an
  /// MPI launcher started this process, see `ProcessGroup.world()`), every process runs the same
  /// trainer on its own copy of the task. The weights start as rank 0's; each step, each process
  /// takes its part (`ForwardContext.shard`) of the global batch, the gradients are averaged over
  /// the processes, and every process takes the same optimiser step. Each evaluation is split the
  /// same way: each process evaluates its part of the validation examples and their sums are
  /// added (`TrainingTask.evaluate(across:)`). Random draws come from a
  /// stream per process and step, derived from the trainer's stream. Only rank 0 writes files and
  /// tells the observers. Throws `ProcessGroupError` when the processes cannot talk.
  public init(task: Task, options: TrainerOptions, outputDirectory: URL? = nil, processGroup: ProcessGroup? = nil) throws {
    try options.validate()
    let group = try processGroup ?? ProcessGroup.world()
    self.task = task
    self.options = options
    self.outputDirectory = outputDirectory
    self.processGroup = group
    optimizer = options.optimizer.makeOptimizer(parameters: task.model.parameters)
    context = ForwardContext(training: true, seed: options.seed)
    context.shard = DataShard(index: group.rank, count: group.size)
    context.processGroup = group
    if group.size > 1 {
      synchronizer = GradientSynchronizer(group: group, parameters: optimizer.parameters)
      try broadcastWeights()
    } else {
      synchronizer = nil
    }
    average = options.averageDecay.map { ParameterAverage(decay: $0, parameters: task.model.parameters) }
  }

  /// Runs `body` with the averaged weights in the model when the run averages them.
  func withEvaluatedWeights<R>(_ body: () throws -> R) rethrows -> R {
    guard let average else { return try body() }
    return try average.withAveragedValues(body)
  }

  /// Makes every process's weights rank 0's.
  func broadcastWeights() throws {
    let parameters = task.model.parameters
    var flat = [Float]()
    flat.reserveCapacity(parameters.reduce(0) { $0 + $1.count })
    for p in parameters { p.data.withUnsafeBufferPointer { flat.append(contentsOf: $0) } }
    try processGroup.broadcast(&flat)
    var offset = 0
    for p in parameters {
      p.update { v in for i in 0..<v.count { v[i] = flat[offset + i] } }
      offset += p.count
    }
  }

  /// Steps between evaluations.
  public var evalEvery: Int { options.evalEvery ?? task.stepsPerEpoch }

  /// A snapshot for observers.
  public var status: TrainingStatus {
    TrainingStatus(step: step, totalSteps: totalSteps ?? 0, itemsSeen: itemsSeen, trainingSeconds: trainingSeconds, best: best)
  }

  /// The learning rate of step `step` (0-based) under the fixed budget.
  public func learningRate(at step: Int) -> Float {
    options.schedule.learningRate(at: step, totalSteps: totalSteps ?? options.steps ?? 1, base: options.optimizer.learningRate)
  }

  // MARK: - One step

  /// Trains on the task's next batch. Throws `TrainingError.nonFinite` (weights untouched) when
  /// the loss or the gradient norm is NaN or infinite.
  @discardableResult
  public func trainStep() throws -> StepReport {
    let start = DispatchTime.now().uptimeNanoseconds
    return try Kernels.withMatmulPrecision(options.matmulPrecision) {
      context.isTraining = true
      var lossValue: Float, items: Int
      if let synchronizer {
        // This process's own stream for this step, derived from the shared one (which all
        // processes advance alike, and checkpoints keep).
        var local = context
        local.generator = RandomGenerator(seed: context.generator.next() &+ UInt64(processGroup.rank) &* 0x9E37_79B9_7F4A_7C15)
        let batch = try task.trainingLoss(context: &local)
        batch.loss.backward()
        (lossValue, items) = try synchronizer.average(loss: batch.loss.item, items: batch.count)
      } else {
        let batch = try task.trainingLoss(context: &context)
        (lossValue, items) = (batch.loss.item, batch.count)
        if lossValue.isFinite { batch.loss.backward() }
      }
      guard lossValue.isFinite else {
        optimizer.zeroGrad()
        throw TrainingError.nonFinite(what: "training loss", step: step + 1, value: lossValue)
      }
      let maxNorm = options.gradClip > 0 ? options.gradClip : .greatestFiniteMagnitude
      let norm = clipGradNorm(optimizer.parameters, maxNorm: maxNorm)
      guard norm.isFinite else {
        optimizer.zeroGrad()
        throw TrainingError.nonFinite(what: "gradient norm", step: step + 1, value: norm)
      }
      let lr = learningRate(at: step)
      optimizer.learningRate = lr
      withoutGradients { optimizer.step() }
      average?.update()
      optimizer.zeroGrad()
      step += 1
      itemsSeen += items
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      return StepReport(loss: lossValue, gradientNorm: norm, learningRate: lr, items: items, seconds: seconds)
    }
  }

  /// The task's validation result in float32 (whatever the training precision) with the averaged
  /// weights when the run averages them, or nil.
  public func evaluate() throws -> Evaluation? {
    try withEvaluatedWeights {
      try Kernels.withMatmulPrecision(.highest) { try withoutGradients { try task.evaluate(across: processGroup) } }
    }
  }

  /// Whether every weight is finite (checked before saving: a diverged model never replaces a
  /// good checkpoint).
  public var weightsAreFinite: Bool { task.model.parameters.allSatisfy { $0.data.isFinite } }

  // MARK: - The loop

  /// Trains until the budget is spent, a stop is requested, or early stopping; evaluates every
  /// `evalEvery` steps and at the end, writing checkpoints and metrics after each evaluation.
  @discardableResult
  public func run() throws -> TrainingOutcome {
    let loopStart = DispatchTime.now().uptimeNanoseconds, secondsBefore = trainingSeconds
    func tick() { trainingSeconds = secondsBefore + Double(DispatchTime.now().uptimeNanoseconds - loopStart) / 1e9 }
    if totalSteps == nil {
      // Every process takes rank 0's budget (a time limit is measured on each).
      var budget = [UInt64(try budgetInSteps(startingAt: secondsBefore))]
      try processGroup.broadcast(&budget)
      totalSteps = Int(budget[0])
    }
    tick()
    try notify(.started)
    var meter = LossMeter(lastLearningRate: Double(learningRate(at: step)))
    var evaluatedAt = step > 0 ? step : -1

    func evaluateAndSave() throws -> Bool {
      guard evaluatedAt != step else { return false }
      evaluatedAt = step
      defer { tick() }
      guard weightsAreFinite else { throw TrainingError.nonFinite(what: "weights", step: step, value: .nan) }
      let evaluation = try evaluate()
      if let evaluation, !evaluation.loss.isFinite {
        throw TrainingError.nonFinite(what: "validation loss", step: step, value: Float(evaluation.loss))
      }
      tick()
      let record = meter.record(step: step, items: itemsSeen, evaluation: evaluation, elapsed: trainingSeconds, previous: log.records.last)
      let score = evaluation.map { e in options.selectionMetric.map { -(e.metrics[$0] ?? -.infinity) } ?? e.loss }
      let isBest = score.map { s in
        best.map { s < $0.loss || (s == $0.loss && evaluation!.loss < (bestValidationLoss ?? .infinity)) } ?? true
      } ?? true
      if isBest {
        if let score { best = (step, score) }
        bestValidationLoss = evaluation?.loss
        evaluationsWithoutImprovement = 0
        if options.restoreBest { bestWeights = withEvaluatedWeights { task.model.stateDict() } }
      } else {
        evaluationsWithoutImprovement += 1
      }
      if record.trainLoss.isFinite { log.append(record) }
      try writeFiles(isBest: isBest)
      try notify(.evaluated(record, isBest: isBest))
      return options.patience.map { evaluationsWithoutImprovement >= $0 } ?? false
    }

    let total = totalSteps!
    while step < total {
      if try processGroup.any(stopRequested()) {
        if let outputDirectory, processGroup.isRoot, weightsAreFinite, step > 0 { try archive().write(to: outputDirectory.appendingPathComponent(TrainingOutputFile.last)) }
        tick()
        try notify(.ended(.stopped))
        return .stopped
      }
      let report = try trainStep()
      tick()
      meter.add(report)
      try notify(.stepped(report))
      if step % evalEvery == 0, try evaluateAndSave() {
        try finish()
        try notify(.ended(.earlyStopped))
        return .earlyStopped
      }
    }
    _ = try evaluateAndSave()
    try finish()
    try notify(.ended(.finished))
    return .finished
  }

  /// Loads the best weights (averaged, when the run averages) when asked to.
  private func finish() throws {
    if options.restoreBest, let bestWeights {
      try task.model.loadStateDict(Dictionary(bestWeights.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
    }
  }


  private func notify(_ event: TrainingEvent) throws {
    guard processGroup.isRoot else { return }
    let status = self.status
    for observer in observers { try observer.trainer(event, status: status, log: log) }
  }

  private func writeFiles(isBest: Bool) throws {
    guard let outputDirectory, processGroup.isRoot else { return }
    let archive = try archive()
    // best before last: a crash between the two leaves a last no newer than best.
    if isBest { try archive.write(to: outputDirectory.appendingPathComponent(TrainingOutputFile.best)) }
    try archive.write(to: outputDirectory.appendingPathComponent(TrainingOutputFile.last))
    try log.write(to: outputDirectory.appendingPathComponent(TrainingOutputFile.metrics))
  }
}

/// Training loss and throughput between two evaluations.
struct LossMeter {
  var lossSum = 0.0, lossCount = 0, items = 0, seconds = 0.0
  var lastLearningRate: Double

  mutating func add(_ report: StepReport) {
    lossSum += Double(report.loss)
    lossCount += 1
    items += report.items
    seconds += report.seconds
    lastLearningRate = Double(report.learningRate)
  }

  /// The record of an evaluation at `step`; resets the meter.
  mutating func record(step: Int, items seen: Int, evaluation: Evaluation?, elapsed: Double, previous: MetricsRecord?) -> MetricsRecord {
    defer { lossSum = 0; lossCount = 0; items = 0; seconds = 0 }
    return MetricsRecord(
      step: step, tokens: seen, trainLoss: lossCount > 0 ? lossSum / Double(lossCount) : (previous?.trainLoss ?? .nan),
      validationLoss: evaluation?.loss, learningRate: lastLearningRate, elapsed: elapsed,
      tokensPerSecond: seconds > 0 ? Double(items) / seconds : (previous?.tokensPerSecond ?? 0),
      metrics: evaluation?.metrics ?? [:], validationExamples: evaluation?.examplesPerProcess)
  }
}

/// File names a `Trainer` writes in its output directory.
public enum TrainingOutputFile {
  /// The checkpoint with the lowest validation loss.
  public static let best = "best.safetensors"
  /// The latest checkpoint.
  public static let last = "last.safetensors"
  /// One JSON line per evaluation.
  public static let metrics = "metrics.jsonl"
}
