import Foundation
import Testing
@testable import Recur

/// The Trainer on the language-model task: learning, bit-identical resume (step and time
/// budgets), precision, the NaN guard, stop requests, schedules.
@Suite("Trainer: language model")
struct LanguageModelTrainerTests {
  static let corpus = TextCorpus(text: String(repeating: "the cat sat on the mat. a rat ate the hat! ", count: 40), source: "test")

  static func task(cell: SequenceLayerKind = .lstm) throws -> LanguageModelTask {
    var data = LanguageModelTask.DataSettings()
    data.seqLength = 16
    data.batchSize = 4
    return try LanguageModelTask(corpus: corpus, model: .init(cell: cell, vocabularySize: 0, embeddingSize: 8, hiddenSize: 24, numLayers: 2,
                                                              dropout: 0.1), settings: data, seed: 7)
  }

  static func options(steps: Int?) -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-2))
    o.schedule.kind = .cosine
    o.gradClip = 5
    o.steps = steps
    o.evalEvery = 10
    o.seed = 7
    return o
  }

  static func temporaryDirectory() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-trainer-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }

  @Test(arguments: [SequenceLayerKind.lstm, .gru, .rnnTanh])
  func lossDrops(cell: SequenceLayerKind) throws {
    let trainer = try Trainer(task: Self.task(cell: cell), options: Self.options(steps: 60))
    let before = try #require(try trainer.evaluate()).loss
    #expect(try trainer.run() == .finished)
    let after = try #require(try trainer.evaluate()).loss
    #expect(trainer.step == 60)
    #expect(trainer.log.records.map(\.step) == [10, 20, 30, 40, 50, 60])
    // ln(14 characters) ≈ 2.64 nats at the start; this text is very predictable.
    #expect(before > 2.4)
    #expect(after < 1.5, "validation loss \(before) → \(after)")
  }

  /// The parallel-scan layers learn too, more slowly per step at this width (their gates never see
  /// the state): 200 steps instead of 60.
  @Test(arguments: [SequenceLayerKind.minGRU, .minLSTM])
  func parallelScanLayersLearn(cell: SequenceLayerKind) throws {
    let trainer = try Trainer(task: Self.task(cell: cell), options: Self.options(steps: 200))
    let before = try #require(try trainer.evaluate()).loss
    #expect(try trainer.run() == .finished)
    let after = try #require(try trainer.evaluate()).loss
    #expect(before > 2.4)
    #expect(after < 1.5, "\(cell): validation loss \(before) → \(after)")
  }

  /// All the state a resumed run must reproduce: weights, optimiser buffers, the random stream, the carried state.
  static func snapshot<T: TrainingTask>(_ t: Trainer<T>) throws -> [String: [UInt32]] {
    var s: [String: [UInt32]] = [:]
    for (name, tensor) in t.task.model.stateDict() { s[name] = tensor.scalars.map(\.bitPattern) }
    for (name, tensor) in t.optimizer.stateDict().tensors { s["optimizer." + name] = tensor.scalars.map(\.bitPattern) }
    for (name, tensor) in try t.task.dataState().tensors { s["data." + name] = tensor.scalars.map(\.bitPattern) }
    s["generator"] = t.context.generator.stateWords.flatMap { [UInt32(truncatingIfNeeded: $0), UInt32($0 >> 32)] }
    return s
  }

  static func expectSameBits<T: TrainingTask>(_ straight: Trainer<T>, _ resumed: Trainer<T>) throws {
    let a = try snapshot(straight), b = try snapshot(resumed)
    #expect(a.keys.sorted() == b.keys.sorted())
    for key in a.keys.sorted() { #expect(a[key] == b[key], "\(key) differs after resume") }
    #expect(straight.itemsSeen == resumed.itemsSeen)
  }

  /// `trainer` written to an archive file and read back into a fresh task and trainer.
  static func savedAndReloaded(_ trainer: Trainer<LanguageModelTask>) throws -> Trainer<LanguageModelTask> {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-lm-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try trainer.archive().write(to: url)
    let archive = try ModelArchive.read(from: url)
    return try Trainer(resuming: archive, task: LanguageModelTask(archive: archive, corpus: corpus))
  }

  @Test func resumeIsBitIdentical() throws {
    // 30 steps straight vs 15, save, load into fresh objects, 15 more. The text has 25 windows
    // per pass, so the run crosses a pass boundary (state reset) after the resume.
    let straight = try Trainer(task: Self.task(), options: Self.options(steps: 30))
    #expect(straight.task.stepsPerEpoch < 30 && straight.task.stepsPerEpoch > 15)
    try straight.run()

    let first = try Trainer(task: Self.task(), options: Self.options(steps: 30))
    first.stopRequested = { first.step == 15 }
    #expect(try first.run() == .stopped)
    let resumed = try Self.savedAndReloaded(first)
    #expect(resumed.step == 15 && resumed.totalSteps == 30)
    #expect(try resumed.run() == .finished)
    try Self.expectSameBits(straight, resumed)
  }

  @Test func timeBudgetBecomesAStepBudgetAndResumesBitIdentically() throws {
    // A time budget is fixed as steps when the run starts; interrupting and resuming from the
    // output directory lands on the same bits as a run given that step budget outright.
    let out = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    var options = Self.options(steps: nil)
    options.timeLimit = 1.5
    let first = try Trainer(task: Self.task(), options: options, outputDirectory: out)
    first.stopRequested = { first.step == 7 }
    #expect(try first.run() == .stopped)
    let budget = try #require(first.totalSteps)
    #expect(budget > 7)
    let archive = try ModelArchive.read(from: out.appendingPathComponent(TrainingOutputFile.last))
    let resumed = try Trainer(resuming: archive, task: LanguageModelTask(archive: archive, corpus: Self.corpus), outputDirectory: out)
    #expect(resumed.step == 7 && resumed.totalSteps == budget)
    #expect(try resumed.run() == .finished)
    #expect(resumed.step == budget)

    let straight = try Trainer(task: Self.task(), options: Self.options(steps: budget))
    try straight.run()
    try Self.expectSameBits(straight, resumed)
    let metrics = try String(contentsOf: out.appendingPathComponent(TrainingOutputFile.metrics), encoding: .utf8)
    #expect(metrics.split(separator: "\n").count == budget / 10 + (budget % 10 == 0 ? 0 : 1))
  }

  @Test func sameSeedSameBitsOnOneOrTwoThreads() throws {
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var runs: [[String: [UInt32]]] = []
    for threads in [1, 2] {
      Kernels.numThreads = threads
      let trainer = try Trainer(task: Self.task(), options: Self.options(steps: 12))
      try trainer.run()
      runs.append(try Self.snapshot(trainer))
    }
    #expect(runs[0] == runs[1], "training differs between 1 and 2 threads")
  }

  @Test func mediumPrecisionIsSavedAndResumesBitIdentically() throws {
    var options = Self.options(steps: 20)
    options.matmulPrecision = .medium
    let straight = try Trainer(task: Self.task(), options: options)
    try straight.run()
    #expect(Kernels.matmulPrecision == .highest, "a training step leaves the process-wide setting as it was")
    let first = try Trainer(task: Self.task(), options: options)
    for _ in 0..<10 { try first.trainStep() }
    first.totalSteps = 20
    let resumed = try Self.savedAndReloaded(first)
    #expect(resumed.options.matmulPrecision == .medium)
    try resumed.run()
    try Self.expectSameBits(straight, resumed)
    // and a float32 run differs where bfloat16 runs
    let exact = try Trainer(task: Self.task(), options: Self.options(steps: 20))
    try exact.run()
    let same = try Self.snapshot(exact)["decoder.weight"]! == Self.snapshot(straight)["decoder.weight"]!
    #expect(same == !Kernels.bfloat16Available)
  }

  @Test func divergenceStopsBeforeTheWeightsChangeAndKeepsTheLastGoodCheckpoint() throws {
    let out = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    var options = Self.options(steps: 50)
    options.optimizer = OptimizerSettings(kind: .sgd, learningRate: 1)
    options.gradClip = 0
    options.schedule.kind = .constant
    options.evalEvery = 1
    let trainer = try Trainer(task: Self.task(cell: .rnnTanh), options: options, outputDirectory: out)
    // Good for three steps, then a learning rate that makes the logits overflow.
    var before: [String: [UInt32]] = [:]
    for _ in 0..<3 { try trainer.trainStep() }
    trainer.totalSteps = 50
    try trainer.archive().write(to: out.appendingPathComponent(TrainingOutputFile.last))
    let goodFile = try Data(contentsOf: out.appendingPathComponent(TrainingOutputFile.last))
    let poisoned = try Trainer(resuming: ModelArchive(file: SafeTensorsFile(bytes: Array(goodFile))), task: Self.task(cell: .rnnTanh),
                               outputDirectory: out) { $0.optimizer.learningRate = 3e38 }
    var caught: TrainingError?
    for _ in 0..<10 {
      before = try Self.snapshot(poisoned)
      do { try poisoned.trainStep() } catch let error as TrainingError { caught = error; break }
    }
    let error = try #require(caught)
    guard case .nonFinite = error else { Issue.record("expected nonFinite, got \(error)"); return }
    #expect(error.description.contains("diverged"))
    let after = try Self.snapshot(poisoned)
    for (name, values) in before where !name.hasPrefix("data.") && name != "generator" {
      #expect(after[name] == values, "\(name) changed in the failed step")
    }
    #expect(throws: TrainingError.self) { try poisoned.run() }
    // The last good checkpoint is what was on disk (a diverged model never replaces it).
    let onDisk = try ModelArchive.read(from: out.appendingPathComponent(TrainingOutputFile.last))
    #expect((try onDisk.stateDict).values.allSatisfy { $0.isFinite })
  }

  @Test func stopRequestSavesTheLastFinishedStep() throws {
    let out = try Self.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: out) }
    let trainer = try Trainer(task: Self.task(), options: Self.options(steps: 40), outputDirectory: out)
    trainer.stopRequested = { trainer.step == 13 }
    #expect(try trainer.run() == .stopped)
    let archive = try ModelArchive.read(from: out.appendingPathComponent(TrainingOutputFile.last))
    let resumed = try Trainer(resuming: archive, task: LanguageModelTask(archive: archive, corpus: Self.corpus))
    #expect(resumed.step == 13)
    #expect(archive.task == LanguageModelTask.name && archive.producer.hasPrefix("Recur "))
  }

  @Test func archiveOfAnotherTaskIsRejected() throws {
    let other = ModelArchive(task: "forecasting", configuration: "{}")
    #expect(throws: TrainingError.wrongTask(expected: "language-model", found: "forecasting")) {
      try LanguageModelTask.loadModel(from: other)
    }
  }

  @Test func scheduleWarmsUpAndDecays() throws {
    var options = Self.options(steps: 40)
    options.schedule.warmupSteps = 4
    options.schedule.minLearningRateFactor = 0.1
    let trainer = try Trainer(task: Self.task(), options: options)
    var rates: [Float] = []
    final class Rates: TrainingObserver {
      var rates: [Float] = []
      func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
        if case .stepped(let r) = event { rates.append(r.learningRate) }
      }
    }
    let observer = Rates()
    trainer.observers = [observer]
    try trainer.run()
    rates = observer.rates
    #expect(abs(rates[0] - 2.5e-3) < 1e-7 && abs(rates[3] - 8.125e-3) < 1e-7)  // LinearLR from 1/4
    #expect(abs(rates[4] - 1e-2) < 1e-7)
    #expect(zip(rates[4...], rates[5...]).allSatisfy { $0 >= $1 })
    #expect(rates[39] < 1.1e-3 && rates[39] >= 1e-3)
  }

  @Test func invalidOptionsNameTheSetting() throws {
    var options = Self.options(steps: 10)
    options.optimizer.learningRate = -1
    #expect(throws: TrainingError.invalidSetting(InvalidParameter(name: "learningRate", value: "-1.0", expected: "a positive number"))) {
      try Trainer(task: Self.task(), options: options)
    }
    options = Self.options(steps: nil)
    #expect(throws: TrainingError.noBudget) { try Trainer(task: Self.task(), options: options) }
  }
}

/// A task whose validation gets worse as training goes on: y = 2x to learn, y = −2x to validate.
final class OpposedTask: TrainingTask {
  static let name = "opposed"
  let model: Linear
  var position = 0
  /// The slope the validation loss measures against (−2 opposes training; 2 agrees with it).
  let validationSlope: Float
  init(validationSlope: Float = -2) {
    self.validationSlope = validationSlope
    var g = RandomGenerator(seed: 1)
    model = Linear(inputSize: 1, outputSize: 1, bias: false, generator: &g)
    model.weight.assign(Tensor(shape: [1, 1], scalars: [0]))
  }
  var stepsPerEpoch: Int { 1 }
  let x = Tensor(shape: [4, 1], scalars: [1, 2, 3, 4])
  func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    position += 1
    return BatchLoss(loss: mseLoss(model(x), x * 2), count: 4)
  }
  /// One validation example: the four points.
  var validationCount: Int { 1 }
  func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    EvaluationSums(examples: examples.count, ["loss": examples.isEmpty ? 0 : Double(mseLoss(model(x), x * validationSlope).item)])
  }
  func evaluation(from sums: EvaluationSums) -> Evaluation {
    Evaluation(loss: sums["loss"], metrics: ["weight": Double(model.weight.data.scalars[0]), "constant": 1])
  }
  func dataState() throws -> TaskDataState { TaskDataState(json: "{\"position\":\(position)}") }
  func restoreDataState(_ state: TaskDataState) throws {}
  func archiveConfiguration() throws -> String { "{}" }
}

@Suite("Trainer: stopping rules and forecasting")
struct TrainerStoppingTests {
  @Test func earlyStoppingRestoresTheBestWeights() throws {
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01))
    options.steps = 100
    options.evalEvery = 1
    options.patience = 3
    options.restoreBest = true
    let task = OpposedTask()
    let trainer = try Trainer(task: task, options: options)
    #expect(try trainer.run() == .earlyStopped)
    // Evaluation 1 (after step 1) is the best; three worse ones stop the run after step 4.
    #expect(trainer.step == 4)
    #expect(trainer.best?.step == 1)
    let w = task.model.weight.data.scalars[0]
    #expect(w > 0 && w < 0.5, "the weights of step 1 are back (w = \(w))")
    #expect(trainer.log.records.count == 4)
  }

  @Test func aSelectionMetricChoosesTheBestAndDrivesEarlyStopping() throws {
    // The validation loss rises every step but the metric "weight" rises too: selected by the
    // metric, every evaluation is a new best and the run is not stopped early.
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01))
    options.steps = 10
    options.evalEvery = 1
    options.patience = 3
    options.selectionMetric = "weight"
    let trainer = try Trainer(task: OpposedTask(), options: options)
    #expect(try trainer.run() == .finished)
    #expect(trainer.best?.step == 10)
  }

  @Test func aTiedMetricIsBrokenByTheLowerValidationLoss() throws {
    // The metric never changes: a falling validation loss makes each evaluation the new best, a
    // rising one keeps the first and stops the run after `patience` evaluations.
    for (slope, expectedBest, outcome) in [(Float(2), 10, TrainingOutcome.finished), (-2, 1, .earlyStopped)] {
      var options = TrainerOptions(optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01))
      options.steps = 10
      options.evalEvery = 1
      options.patience = 3
      options.selectionMetric = "constant"
      let trainer = try Trainer(task: OpposedTask(validationSlope: slope), options: options)
      #expect(try trainer.run() == outcome)
      #expect(trainer.best?.step == expectedBest)
    }
  }

  static func forecastTask() throws -> (RecurrentForecaster, ForecastingTask) {
    var c = RecurrentForecaster.Configuration(cell: .gru)
    c.hiddenSize = 8
    c.batchSize = 8
    c.dropout = 0.2
    c.numLayers = 2
    c.seed = 3
    let forecaster = try RecurrentForecaster(configuration: c, lookback: 6, horizon: 2)
    var series = DoubleMatrix(rows: 0, columns: 1)
    for t in 0..<120 { series.append(row: [sin(Double(t) * 0.3) + 0.1 * cos(Double(t) * 1.7)]) }
    let split = try ForecastSplit(count: 120, lookback: 6, horizon: 2, testFraction: 0.2, validationFraction: 0.2)
    return (forecaster, try forecaster.makeTask(series: series, split: split).task)
  }

  @Test func forecasterResumesBitIdentically() throws {
    let (forecaster, task) = try Self.forecastTask()
    var options = forecaster.trainerOptions
    options.epochs = 6
    options.patience = nil
    let straight = try Trainer(task: task, options: options)
    try straight.run()

    let (_, task2) = try Self.forecastTask()
    let first = try Trainer(task: task2, options: options)
    let stopAt = task2.stepsPerEpoch * 2 + 3  // mid-epoch, so the shuffle must be restored
    first.stopRequested = { first.step == stopAt }
    #expect(try first.run() == .stopped)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-fc-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try first.archive().write(to: url)
    let archive = try ModelArchive.read(from: url)
    let (_, task3) = try Self.forecastTask()
    try task3.model.loadStateDict((try archive.stateDict))
    let resumed = try Trainer(resuming: archive, task: task3)
    #expect(try resumed.run() == .finished)
    try LanguageModelTrainerTests.expectSameBits(straight, resumed)
  }
}
