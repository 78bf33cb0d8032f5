import Foundation

/// The training state a checkpoint's `recur.training` field holds (tensors go beside it:
/// `optimizer.*` and `data.*`).
struct TrainingRecord: Codable {
  var options: TrainerOptions
  var step: Int
  var totalSteps: Int?
  var itemsSeen: Int
  var trainingSeconds: Double
  var bestStep: Int?
  var bestLoss: Double?
  /// The best evaluation's validation loss when a metric selects (breaks the metric's ties).
  var bestValidationLoss: Double?
  var evaluationsWithoutImprovement: Int
  /// Updates of the weight average (when the run averages).
  var averageUpdates: Int?
  /// The trainer's random stream, as decimal strings (exact for 64-bit words).
  var generator: [String]
  /// Optimiser scalars (step counts, learning rate) as exact decimal strings, in order.
  var optimizerScalars: [[String]]
  /// The task's data position, JSON text.
  var data: String
}

extension Trainer {
  /// Everything needed to resume this run or to use the model: weights under PyTorch names (the
  /// averaged ones when the run averages, the trained ones then beside them under
  /// `ModelArchive.trainingWeightsPrefix`), the task's configuration, the optimiser state, the
  /// data position and every random stream.
  public func archive() throws -> ModelArchive {
    var archive = ModelArchive(task: Task.name, configuration: try task.archiveConfiguration(), producer: producer)
    archive.add(withEvaluatedWeights { task.model.stateDict() })
    if average != nil { archive.add(task.model.stateDict(), prefix: ModelArchive.trainingWeightsPrefix) }
    let optimizerState = optimizer.stateDict()
    archive.add(optimizerState.tensors, prefix: ModelArchive.optimizerPrefix)
    let data = try task.dataState()
    archive.add(data.tensors, prefix: ModelArchive.dataPrefix)
    let record = TrainingRecord(
      options: options, step: step, totalSteps: totalSteps, itemsSeen: itemsSeen, trainingSeconds: trainingSeconds,
      bestStep: best?.step, bestLoss: best?.loss, bestValidationLoss: bestValidationLoss, evaluationsWithoutImprovement: evaluationsWithoutImprovement,
      averageUpdates: average?.updates, generator: context.generator.stateWords.map { String($0) },
      optimizerScalars: optimizerState.scalars.map { [$0.name, "\($0.value)"] }, data: data.json)
    archive.training = try ModelArchive.json(record)
    return archive
  }

  /// Continues the run saved in `archive` with `task` (rebuilt by the caller from the archive's
  /// configuration, its weights loaded; when the run averages weights, these are the averaged ones,
  /// and the trained ones are loaded here from `ModelArchive.trainingWeightsPrefix`). `adjust` may change the budget, evaluation cadence and
  /// patience; a changed budget is turned into steps again when the run starts.
  /// In a data-parallel run every process resumes from the same archive (`processGroup` as in
  /// ``init(task:options:outputDirectory:processGroup:)``).
  public convenience init(resuming archive: ModelArchive, task: Task, outputDirectory: URL? = nil, processGroup: ProcessGroup? = nil,
                          adjust: ((inout TrainerOptions) -> Void)? = nil) throws {
    guard archive.task == Task.name else { throw TrainingError.wrongTask(expected: Task.name, found: archive.task) }
    guard let record = try archive.decodeTraining(TrainingRecord.self) else {
      throw TrainingError.inconsistentCheckpoint("it holds a model but no training state, so there is nothing to resume")
    }
    // Every number of the record is checked before the run is rebuilt from it.
    let maxSteps = TrainerOptions.maximumSteps
    guard record.step >= 0, record.step <= maxSteps, record.totalSteps.map({ $0 >= 1 && $0 <= maxSteps }) ?? true,
          record.itemsSeen >= 0, record.trainingSeconds >= 0, record.trainingSeconds.isFinite,
          record.bestStep.map({ $0 >= 0 && $0 <= record.step }) ?? true, record.bestLoss?.isFinite ?? true,
          record.evaluationsWithoutImprovement >= 0 else {
      throw TrainingError.inconsistentCheckpoint("its training record holds a negative, non-finite or out-of-range counter")
    }
    do {
      try record.options.validate()
    } catch let error as TrainingError {
      throw TrainingError.inconsistentCheckpoint("its training options are invalid: \(error.description)")
    }
    var options = record.options
    adjust?(&options)
    let budgetChanged = options.steps != record.options.steps || options.epochs != record.options.epochs
      || options.timeLimit != record.options.timeLimit
    try self.init(task: task, options: options, outputDirectory: outputDirectory, processGroup: processGroup)
    var scalars: [(name: String, value: Double)] = []
    for pair in record.optimizerScalars {
      guard pair.count == 2, let value = Double(pair[1]) else {
        throw TrainingError.inconsistentCheckpoint("an optimiser scalar is not a name and a number")
      }
      scalars.append((pair[0], value))
    }
    let optimizerTensors = archive.tensors(prefix: ModelArchive.optimizerPrefix)
    // A moment that is NaN or infinite (or a float64 value past float32's range) would only make
    // the first step's update non-finite: refuse it here, before anything runs.
    if let bad = optimizerTensors.first(where: { !$0.tensor.isFinite }) {
      throw TrainingError.inconsistentCheckpoint("optimiser state \"\(bad.name.prefix(60))\" holds NaN or infinite values")
    }
    if let bad = scalars.first(where: { !$0.value.isFinite }) {
      throw TrainingError.inconsistentCheckpoint("optimiser scalar \"\(bad.name.prefix(60))\" is not finite")
    }
    do {
      try optimizer.loadStateDict(OptimizerState(tensors: optimizerTensors, scalars: scalars))
    } catch let error as OptimizerStateError {
      throw TrainingError.inconsistentCheckpoint(error.description)
    }
    let words = record.generator.compactMap(UInt64.init)
    guard words.count == 4 else { throw TrainingError.inconsistentCheckpoint("the random stream is not four 64-bit words") }
    context.generator = RandomGenerator(state: words)
    try task.restoreDataState(TaskDataState(json: record.data, tensors: archive.tensors(prefix: ModelArchive.dataPrefix)))
    if let average {
      // The task's model holds the averaged weights (the archive's state dict): they start the
      // average, and the trained weights go back into the model.
      let trained = archive.tensors(prefix: ModelArchive.trainingWeightsPrefix)
      guard let updates = record.averageUpdates, updates >= 0, !trained.isEmpty else {
        throw TrainingError.inconsistentCheckpoint("its run averages the weights but it holds no trained weights or no update count")
      }
      if let bad = trained.first(where: { !$0.tensor.isFinite }) {
        throw TrainingError.inconsistentCheckpoint("trained weight \"\(bad.name.prefix(60))\" holds NaN or infinite values")
      }
      self.average = ParameterAverage(decay: average.decay, parameters: task.model.parameters, updates: updates)
      do {
        try task.model.loadStateDict(Dictionary(trained.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }))
      } catch let error as StateDictError {
        throw TrainingError.inconsistentCheckpoint("its trained weights do not fit the model: \(error)")
      }
    }
    step = record.step
    totalSteps = budgetChanged ? nil : record.totalSteps
    itemsSeen = record.itemsSeen
    trainingSeconds = record.trainingSeconds
    if let s = record.bestStep, let l = record.bestLoss { best = (s, l) }
    bestValidationLoss = record.bestValidationLoss
    evaluationsWithoutImprovement = record.evaluationsWithoutImprovement
    if let outputDirectory {
      log = MetricsLog.read(from: outputDirectory.appendingPathComponent(TrainingOutputFile.metrics))
      log.truncate(after: step)
    }
  }
}
