import Foundation

/// How to train a `CharLM`: the model's shape plus every training choice. Stored in checkpoints
/// (`recur.config`), so a run resumes with exactly the settings it started with.
public struct CharLMTrainingConfiguration: Sendable, Codable, Equatable {
  public enum OptimizerKind: String, Sendable, Codable, CaseIterable { case adam, adamw, sgd, rmsprop }
  public enum ScheduleKind: String, Sendable, Codable, CaseIterable {
    /// The learning rate throughout (after warm-up).
    case constant
    /// Cosine annealing (`CosineAnnealingLR`) from the learning rate to `minLearningRateFactor` × it
    /// at the end of the budget.
    case cosine
    /// Multiply by `decayFactor` every `decayEvery` steps (`StepLR`, char-rnn's
    /// `learning_rate_decay`).
    case step
  }

  /// Model shape; `vocabularySize` is set from the corpus.
  public var model: CharLM.Configuration
  /// T, the window of truncated BPTT.
  public var seqLength: Int = 100
  /// B, the parallel streams.
  public var batchSize: Int = 32
  public var optimizer: OptimizerKind = .adam
  public var learningRate: Float = 2e-3
  /// L2 (Adam, SGD, RMSProp) or decoupled (AdamW) weight decay.
  public var weightDecay: Float = 0
  /// SGD and RMSProp momentum.
  public var momentum: Float = 0
  public var schedule: ScheduleKind = .cosine
  /// Steps of linear warm-up from 0 (0 disables).
  public var warmupSteps: Int = 0
  /// The learning rate at the end of the cosine schedule, as a fraction of `learningRate`.
  public var minLearningRateFactor: Float = 0.05
  /// `step` schedule: steps between decays, and the factor of each decay.
  public var decayEvery: Int = 1000
  public var decayFactor: Float = 0.5
  /// Clip the global gradient norm to this (0 disables).
  public var gradClip: Float = 5
  /// Fraction of the corpus (its end) held out for validation; 0 for none.
  public var validationFraction: Double = 0.1
  /// Budget: stop after this many steps (nil: from `epochs` or `timeLimit`).
  public var steps: Int?
  /// Budget: stop after this many passes over the training text.
  public var epochs: Double?
  /// Budget: stop after this much wall time, seconds (evaluations included).
  public var timeLimit: Double?
  /// Evaluate (validation loss, checkpoints, metrics) every this many steps.
  public var evalEvery: Int = 200
  /// Parallel streams of the validation text (fewer when the text is short).
  public var evalBatchSize: Int = 128
  /// Seed of the initial weights, the dropout masks and the training samples.
  public var seed: UInt64 = 42
  /// The precision of the matrix products in training steps (nil: `.highest`, as in checkpoints
  /// written before the setting existed); evaluations always use `.highest`.
  public var matmulPrecision: Kernels.MatmulPrecision?
  /// Where the corpus came from (a path or "bundled:NAME"), to find it again on resume.
  public var corpus: String = ""

  public init(model: CharLM.Configuration) { self.model = model }

  /// Describes the first invalid value (in the words of the command-line flags), or nil.
  public var problem: String? {
    if let p = model.problem { return p }
    if seqLength < 1 { return "--seq-length must be a positive integer, got \(seqLength)" }
    if batchSize < 1 { return "--batch-size must be a positive integer, got \(batchSize)" }
    if !(learningRate > 0 && learningRate.isFinite) { return "--learning-rate must be a positive number, got \(learningRate)" }
    if !(weightDecay >= 0 && weightDecay.isFinite) { return "--weight-decay must be ≥ 0, got \(weightDecay)" }
    if !(momentum >= 0 && momentum < 1) { return "--momentum must be in [0, 1), got \(momentum)" }
    if warmupSteps < 0 { return "--warmup-steps must be ≥ 0, got \(warmupSteps)" }
    if !(minLearningRateFactor >= 0 && minLearningRateFactor <= 1) { return "--min-lr-factor must be in [0, 1], got \(minLearningRateFactor)" }
    if decayEvery < 1 { return "--lr-decay-every must be a positive integer, got \(decayEvery)" }
    if !(decayFactor > 0 && decayFactor <= 1) { return "--lr-decay must be in (0, 1], got \(decayFactor)" }
    if !(gradClip >= 0 && gradClip.isFinite) { return "--grad-clip must be ≥ 0 (0 disables clipping), got \(gradClip)" }
    if !(validationFraction >= 0 && validationFraction < 1) { return "--val-fraction must be in [0, 1), got \(validationFraction)" }
    if let steps, steps < 1 { return "--steps must be a positive integer, got \(steps)" }
    if let epochs, !(epochs > 0 && epochs.isFinite) { return "--epochs must be a positive number, got \(epochs)" }
    if let timeLimit, !(timeLimit > 0 && timeLimit.isFinite) { return "--time-limit must be a positive duration, got \(timeLimit) s" }
    if steps == nil && epochs == nil && timeLimit == nil { return "give a budget: --steps, --epochs or --time-limit" }
    if evalEvery < 1 { return "--eval-every must be a positive integer, got \(evalEvery)" }
    if evalBatchSize < 1 { return "--eval-batch-size must be a positive integer, got \(evalBatchSize)" }
    return nil
  }
}

/// Why training stopped early or could not go on.
public enum CharLMTrainingError: Error, CustomStringConvertible, Equatable {
  /// The loss or the gradient norm became NaN or infinite at `step`; the weights were not updated.
  case nonFinite(what: String, step: Int, value: Float)
  /// A checkpoint that does not hold a `CharLM` training run.
  case notACharLMCheckpoint(String)
  /// A checkpoint whose parts do not fit together.
  case inconsistentCheckpoint(String)

  public var description: String {
    switch self {
    case let .nonFinite(what, step, value):
      let kept = what == "training loss" || what == "gradient norm" ? "the weights were not updated" : "nothing was saved from it"
      let became = what == "weights" ? "became NaN or infinite" : "became \(value)"
      return "the \(what) \(became) at step \(step + 1) (training diverged); \(kept). "
        + "Lower --learning-rate or set --grad-clip, then resume from the last checkpoint"
    case let .notACharLMCheckpoint(detail):
      return "not a character language model checkpoint: \(detail); pass a checkpoint written by `recur train`"
    case let .inconsistentCheckpoint(detail):
      return "the checkpoint is inconsistent: \(detail); it is corrupt or was edited — use another checkpoint"
    }
  }
}

/// Trains a `CharLM` on a text with truncated BPTT and keeps everything a bit-identical resume
/// needs.
///
/// One step takes the next window of `TextBatches` (B streams × T steps), runs the model from the
/// state the previous window ended in (zeros at the start of each pass over the text), computes
/// the cross-entropy of all T·B predictions in one call, back-propagates, clips the gradient norm,
/// sets the learning rate from the schedule and updates the weights; the final state is detached
/// and carried to the next window.
///
/// The loss and the gradient norm are checked before the update: if either is NaN or infinite the
/// step throws `CharLMTrainingError.nonFinite` and the weights stay as they were.
///
/// A checkpoint holds the weights, the optimiser state, the carried state, the step, both dropout
/// generators (the model's and the recurrent layer's), the training time, the vocabulary and the
/// configuration. Training N steps straight or N/2, saving, loading in a fresh process and N/2 more
/// gives the same weights bit for bit (on the same machine and thread count).
public final class CharLMTrainer {
  public let configuration: CharLMTrainingConfiguration
  public let vocabulary: CharVocabulary
  public let model: CharLM
  public let optimizer: any Optimizer
  public let trainBatches: TextBatches
  public let validationBatches: TextBatches?
  /// Optimiser steps done.
  public private(set) var step = 0
  /// Training target tokens processed.
  public private(set) var tokensSeen = 0
  /// Wall time of the run so far, seconds — steps, evaluations, checkpoints and whatever the
  /// event hooks do — advanced by `train(outputDirectory:log:events:)` and carried over by
  /// checkpoints, so `timeLimit` bounds the run as a clock on the wall would.
  public var trainingSeconds: Double = 0
  /// How long the last evaluation took: the time budget keeps this much in reserve for the
  /// final evaluation, so a run with a time limit ends within it.
  public private(set) var lastEvaluationSeconds: Double = 0
  /// The lowest validation loss seen, for choosing the best checkpoint.
  public var bestValidationLoss: Double?
  /// The state at the end of the previous window (nil at the start of a pass).
  var carried: CharLM.State?

  /// Metadata keys this trainer adds to a `Checkpoint`.
  public enum MetadataKey {
    public static let kind = "charlm.kind"
    public static let rnnRNG = "charlm.rnn_rng"
    public static let tokensSeen = "charlm.tokens_seen"
    public static let trainingSeconds = "charlm.training_seconds"
    public static let bestValidationLoss = "charlm.best_val_loss"
    public static let optimizerScalars = "charlm.optimizer_scalars"
  }
  /// The value of `MetadataKey.kind`.
  public static let checkpointKind = "char-lm"
  /// Names of the carried-state tensors in a checkpoint.
  static let carriedH = "trainer.carried_h", carriedC = "trainer.carried_c"

  /// A fresh run on `corpus`. Throws `TextCorpusError` when the text is too short for the
  /// configuration; preconditions check the configuration (validate it with `problem` first).
  public convenience init(configuration: CharLMTrainingConfiguration, corpus: TextCorpus) throws {
    let vocabulary = CharVocabulary(text: corpus.text)
    var config = configuration
    config.model.vocabularySize = vocabulary.count
    config.corpus = corpus.source
    let model = CharLM(config.model, seed: config.seed)
    try self.init(configuration: config, vocabulary: vocabulary, model: model, corpus: corpus)
  }

  init(configuration: CharLMTrainingConfiguration, vocabulary: CharVocabulary, model: CharLM, corpus: TextCorpus) throws {
    if let problem = configuration.problem { preconditionFailure("CharLMTrainer: \(problem)") }
    try corpus.checkLength(seqLength: configuration.seqLength)
    let ids: [Int]
    do {
      ids = try vocabulary.encode(corpus.text)
    } catch let error as CharVocabularyError {
      throw TextCorpusError("corpus \(corpus.source) does not fit the checkpoint's vocabulary: \(error.description); resume on the text the run was trained on")
    }
    let (train, validation) = TextCorpus.split(ids, validationFraction: configuration.validationFraction)
    self.configuration = configuration
    self.vocabulary = vocabulary
    self.model = model
    trainBatches = try TextBatches(ids: train, batchSize: configuration.batchSize, seqLength: configuration.seqLength, what: "training")
    if configuration.validationFraction > 0 {
      // Evaluation runs without gradients, so it takes more streams than training (fewer sequential
      // steps, larger GEMMs), as many as the text allows at one window each.
      let streams = Swift.min(configuration.evalBatchSize, Swift.max(1, validation.count / (configuration.seqLength + 1)))
      validationBatches = try TextBatches(ids: validation, batchSize: streams,
                                          seqLength: configuration.seqLength, what: "validation (--val-fraction)")
    } else {
      validationBatches = nil
    }
    optimizer = Self.makeOptimizer(configuration, parameters: model.parameters)
  }

  static func makeOptimizer(_ c: CharLMTrainingConfiguration, parameters: [Parameter]) -> any Optimizer {
    switch c.optimizer {
    case .adam: return Adam(parameters: parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
    case .adamw: return AdamW(parameters: parameters, learningRate: c.learningRate, weightDecay: c.weightDecay)
    case .sgd: return SGD(parameters: parameters, learningRate: c.learningRate, momentum: c.momentum, weightDecay: c.weightDecay)
    case .rmsprop: return RMSProp(parameters: parameters, learningRate: c.learningRate, weightDecay: c.weightDecay, momentum: c.momentum)
    }
  }

  // MARK: - Budget and schedule

  /// The step budget, when it is known in steps (from `steps` or `epochs`).
  public var totalSteps: Int? {
    let fromEpochs = configuration.epochs.map { Swift.max(1, Int(($0 * Double(trainBatches.windowCount)).rounded())) }
    switch (configuration.steps, fromEpochs) {
    case let (s?, e?): return Swift.min(s, e)
    case let (s?, nil): return s
    case let (nil, e?): return e
    case (nil, nil): return nil
    }
  }

  /// Whether the budget is spent.
  public var isFinished: Bool {
    if let total = totalSteps, step >= total { return true }
    if let limit = configuration.timeLimit, trainingSeconds + lastEvaluationSeconds >= limit { return true }
    return false
  }

  /// How far through the budget the run is, in [0, 1]: by steps when the budget has a step
  /// count, otherwise by training time.
  public var progress: Double {
    if let total = totalSteps { return Swift.min(1, Double(step) / Double(total)) }
    if let limit = configuration.timeLimit { return Swift.min(1, trainingSeconds / limit) }
    return 0
  }

  /// The learning rate for the next step: linear warm-up (`LinearWarmup`) over `warmupSteps`,
  /// then the schedule. A cosine over a step budget is `CosineAnnealingLR(tMax: steps − warm-up)`;
  /// over a time budget it runs on the fraction of the time used, as 10⁶ virtual steps.
  public var currentLearningRate: Float {
    let c = configuration
    if c.warmupSteps > 0 && step < c.warmupSteps {
      return LinearWarmup(warmupSteps: c.warmupSteps).learningRate(at: step, base: c.learningRate)
    }
    let after = step - c.warmupSteps
    switch c.schedule {
    case .constant:
      return c.learningRate
    case .step:
      return StepLR(stepSize: c.decayEvery, gamma: c.decayFactor).learningRate(at: after, base: c.learningRate)
    case .cosine:
      let etaMin = c.learningRate * c.minLearningRateFactor
      if let total = totalSteps {
        let span = Swift.max(1, total - c.warmupSteps)
        return CosineAnnealingLR(tMax: span, etaMin: etaMin).learningRate(at: Swift.min(after, span), base: c.learningRate)
      }
      let virtualSteps = 1_000_000
      return CosineAnnealingLR(tMax: virtualSteps, etaMin: etaMin)
        .learningRate(at: Int(progress * Double(virtualSteps)), base: c.learningRate)
    }
  }

  // MARK: - Training

  /// What one step did.
  public struct StepReport: Sendable {
    /// Mean cross-entropy of the window, nats/token.
    public var loss: Float
    /// Global gradient norm before clipping.
    public var gradientNorm: Float
    public var learningRate: Float
    /// Target tokens in the window.
    public var tokens: Int
    /// Wall time of the step, seconds.
    public var seconds: Double
  }

  /// Trains on the next window. Throws `CharLMTrainingError.nonFinite` (weights untouched) when
  /// the loss or gradient norm is NaN or infinite.
  @discardableResult
  public func trainStep() throws -> StepReport {
    try Kernels.withMatmulPrecision(configuration.matmulPrecision ?? .highest) { try stepAtConfiguredPrecision() }
  }

  private func stepAtConfiguredPrecision() throws -> StepReport {
    let start = DispatchTime.now().uptimeNanoseconds
    let index = step % trainBatches.windowCount
    if index == 0 { carried = nil }
    let window = trainBatches.window(index)
    model.train()
    let (logits, state) = try model(window.inputs, steps: window.steps, batchSize: trainBatches.batchSize, state: carried)
    let loss = crossEntropy(logits: logits, targets: window.targets)
    let lossValue = loss.item
    guard lossValue.isFinite else {
      throw CharLMTrainingError.nonFinite(what: "training loss", step: step, value: lossValue)
    }
    loss.backward()
    let parameters = optimizer.parameters
    let norm = configuration.gradClip > 0 ? clipGradNorm(parameters, maxNorm: configuration.gradClip)
                                          : clipGradNorm(parameters, maxNorm: .greatestFiniteMagnitude)
    guard norm.isFinite else {
      optimizer.zeroGrad()
      throw CharLMTrainingError.nonFinite(what: "gradient norm", step: step, value: norm)
    }
    let lr = currentLearningRate
    optimizer.learningRate = lr
    withoutGradients { optimizer.step() }
    optimizer.zeroGrad()
    carried = state.detached()
    step += 1
    tokensSeen += window.targets.count
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return StepReport(loss: lossValue, gradientNorm: norm, learningRate: lr, tokens: window.targets.count, seconds: seconds)
  }

  /// Mean cross-entropy (nats/token) of the model on `batches` (default: the validation text),
  /// in evaluation mode, from a zero state carried across windows. The training state (carried
  /// state, generators, mode) is left as it was.
  public func evaluate(_ batches: TextBatches? = nil) throws -> Double? {
    guard let batches = batches ?? validationBatches else { return nil }
    return try Self.evaluate(model: model, batches: batches)
  }

  /// Mean cross-entropy (nats/token) of `model` on `batches`, with float32 matrix products
  /// whatever the training precision, so losses compare across runs and with PyTorch.
  public static func evaluate(model: CharLM, batches: TextBatches) throws -> Double {
    let wasTraining = model.isTraining
    model.eval()
    defer { model.setTraining(wasTraining) }
    return try Kernels.withMatmulPrecision(.highest) { try withoutGradients {
      var state: CharLM.State? = nil
      var total = 0.0
      var count = 0
      for w in 0..<batches.windowCount {
        let window = batches.window(w)
        let (logits, next) = try model(window.inputs, steps: window.steps, batchSize: batches.batchSize, state: state)
        total += Double(crossEntropy(logits: logits, targets: window.targets, reduction: .sum).item)
        count += window.targets.count
        state = next
      }
      return total / Double(count)
    } }
  }

  /// A sample of `length` characters after `prompt`, from a generator seeded by `seed` (the
  /// training generators are not touched).
  public func sample(prompt: String, length: Int, temperature: Float = 0.8, seed: UInt64) throws -> String {
    let ids = try vocabulary.encode(prompt)
    var sampler = Sampler(temperature: temperature, seed: seed)
    return vocabulary.decode(try model.generate(prompt: ids, length: length, sampler: &sampler))
  }

  // MARK: - Checkpoints

  /// Whether every weight is finite (checked before saving, so a diverged model never replaces a
  /// good checkpoint).
  public var weightsAreFinite: Bool { model.parameters.allSatisfy { $0.data.isFinite } }

  /// Everything needed to resume this run, or to sample from the model.
  public func checkpoint() throws -> Checkpoint {
    let optimizerState = optimizer.stateDict()
    var tensors = model.stateDict()
    if let carried {
      tensors.append((Self.carriedH, carried.h.detached()))
      if let c = carried.c { tensors.append((Self.carriedC, c.detached())) }
    }
    var checkpoint = Checkpoint(model: tensors, optimizer: optimizerState.tensors, step: step, rng: model.dropoutGenerator)
    try checkpoint.setConfig(configuration)
    try checkpoint.setVocabulary(vocabulary.codePoints)
    checkpoint.metadata[MetadataKey.kind] = Self.checkpointKind
    checkpoint.metadata[MetadataKey.rnnRNG] = "[" + model.rnn.generator.stateWords.map(String.init).joined(separator: ",") + "]"
    checkpoint.metadata[MetadataKey.tokensSeen] = String(tokensSeen)
    checkpoint.metadata[MetadataKey.trainingSeconds] = "\(trainingSeconds)"
    if let bestValidationLoss { checkpoint.metadata[MetadataKey.bestValidationLoss] = "\(bestValidationLoss)" }
    // Scalars as exact decimal strings ("\(Double)" round-trips).
    checkpoint.metadata[MetadataKey.optimizerScalars] =
      "{" + optimizerState.scalars.map { "\"\($0.name)\":\"\($0.value)\"" }.joined(separator: ",") + "}"
    return checkpoint
  }

  /// Saves `checkpoint()` atomically to `url`.
  public func save(to url: URL) throws { try checkpoint().save(to: url) }

  /// The model, vocabulary and configuration stored in a checkpoint (for sampling and
  /// evaluation). Throws `CharLMTrainingError.notACharLMCheckpoint` for other kinds of checkpoint.
  public static func loadModel(from checkpoint: Checkpoint) throws -> (model: CharLM, vocabulary: CharVocabulary, configuration: CharLMTrainingConfiguration) {
    guard let kind = checkpoint.metadata[MetadataKey.kind] else {
      throw CharLMTrainingError.notACharLMCheckpoint("it has no \(MetadataKey.kind) entry (written by another kind of model?)")
    }
    guard kind == checkpointKind else {
      throw CharLMTrainingError.notACharLMCheckpoint("it holds a \"\(kind.prefix(40))\" model")
    }
    let configuration: CharLMTrainingConfiguration
    do {
      guard let c = try checkpoint.decodeConfig(CharLMTrainingConfiguration.self) else {
        throw CharLMTrainingError.inconsistentCheckpoint("it has no configuration")
      }
      configuration = c
    } catch let error as IOError {
      throw CharLMTrainingError.inconsistentCheckpoint("its configuration does not decode (\(error.problem))")
    }
    if let problem = configuration.model.problem { throw CharLMTrainingError.inconsistentCheckpoint("its model configuration is invalid: \(problem)") }
    let vocabulary: CharVocabulary
    do {
      guard let codePoints = try checkpoint.decodeVocabulary([UInt32].self) else {
        throw CharLMTrainingError.inconsistentCheckpoint("it has no vocabulary")
      }
      vocabulary = try CharVocabulary(codePoints: codePoints)
    } catch let error as IOError {
      throw CharLMTrainingError.inconsistentCheckpoint("its vocabulary does not decode (\(error.problem))")
    } catch let error as CharVocabularyError {
      throw CharLMTrainingError.inconsistentCheckpoint(error.description)
    }
    guard vocabulary.count == configuration.model.vocabularySize else {
      throw CharLMTrainingError.inconsistentCheckpoint("vocabulary of \(vocabulary.count) characters but a model for \(configuration.model.vocabularySize)")
    }
    let model = CharLM(configuration.model, seed: configuration.seed)
    var weights = checkpoint.modelStateDict
    weights[carriedH] = nil
    weights[carriedC] = nil
    do {
      try model.loadStateDict(weights)
    } catch let error as StateDictError {
      throw CharLMTrainingError.inconsistentCheckpoint(error.description)
    }
    if let rng = checkpoint.rng { model.dropoutGenerator = rng }
    if let words = checkpoint.metadata[MetadataKey.rnnRNG].flatMap(parseWords) { model.rnn.generator = RandomGenerator(state: words) }
    return (model, vocabulary, configuration)
  }

  /// Continues the run saved in `checkpoint` on `corpus` (the text it was trained on).
  /// `override` may change the budget and evaluation settings (not the model or the data layout).
  public convenience init(resumingFrom checkpoint: Checkpoint, corpus: TextCorpus,
                          override: ((inout CharLMTrainingConfiguration) -> Void)? = nil) throws {
    let (model, vocabulary, saved) = try Self.loadModel(from: checkpoint)
    var configuration = saved
    override?(&configuration)
    try self.init(configuration: configuration, vocabulary: vocabulary, model: model, corpus: corpus)
    // Optimiser state: tensors from the file, scalars from the metadata.
    var scalars: [(name: String, value: Double)] = []
    if let text = checkpoint.metadata[MetadataKey.optimizerScalars] {
      guard case .object(let members)? = try? JSONParser.parse(text) else {
        throw CharLMTrainingError.inconsistentCheckpoint("\(MetadataKey.optimizerScalars) is not a JSON object")
      }
      for (name, value) in members {
        guard case .string(let s) = value, let v = Double(s) else {
          throw CharLMTrainingError.inconsistentCheckpoint("optimiser scalar \(name) is not a number")
        }
        scalars.append((name, v))
      }
    }
    do {
      try optimizer.loadStateDict(OptimizerState(tensors: checkpoint.optimizer, scalars: scalars))
    } catch let error as OptimizerStateError {
      throw CharLMTrainingError.inconsistentCheckpoint(error.description)
    }
    step = checkpoint.step
    tokensSeen = Int(checkpoint.metadata[MetadataKey.tokensSeen] ?? "") ?? step * configuration.batchSize * configuration.seqLength
    trainingSeconds = Double(checkpoint.metadata[MetadataKey.trainingSeconds] ?? "") ?? 0
    bestValidationLoss = checkpoint.metadata[MetadataKey.bestValidationLoss].flatMap(Double.init)
    let tensors = checkpoint.modelStateDict
    if let h = tensors[Self.carriedH] {
      let expected = [configuration.model.numLayers, configuration.batchSize, configuration.model.hiddenSize]
      guard h.shape == expected, tensors[Self.carriedC].map({ $0.shape == expected }) ?? (configuration.model.cell != .lstm) else {
        throw CharLMTrainingError.inconsistentCheckpoint("carried state of shape \(h.shape) for a model with state \(expected)")
      }
      carried = CharLM.State(h: h, c: tensors[Self.carriedC])
    }
  }
}

private func parseWords(_ text: String) -> [UInt64]? {
  guard case .array(let items)? = try? JSONParser.parse(text), items.count == 4 else { return nil }
  let words = items.compactMap(\.uint64)
  return words.count == 4 ? words : nil
}

// MARK: - The loop

extension CharLMTrainer {
  /// File names in the output directory.
  public enum OutputFile {
    public static let best = "best.safetensors"
    public static let last = "last.safetensors"
    public static let metrics = "metrics.jsonl"
  }

  /// Hooks into `train(outputDirectory:log:events:)`.
  public struct Events {
    /// Polled before every step; return true to stop (the last finished step is saved).
    public var shouldStop: () -> Bool = { false }
    /// After every step.
    public var didStep: (StepReport) throws -> Void = { _ in }
    /// After every evaluation, once its record is in the log and the checkpoints are written;
    /// receives the record, whether it is the best so far, and the whole log.
    public var didEvaluate: (MetricsRecord, _ isBest: Bool, _ log: MetricsLog) throws -> Void = { _, _, _ in }
    public init() {}
  }

  /// How a call of `train(outputDirectory:log:events:)` ended.
  public enum Outcome: Sendable, Equatable {
    /// The budget is spent.
    case finished
    /// `shouldStop` asked to stop.
    case stopped
  }

  /// Trains until the budget is spent or `events.shouldStop()`, evaluating every `evalEvery`
  /// steps and at the end. Each evaluation appends to `log` and, with an output directory,
  /// atomically rewrites `last.safetensors`, `best.safetensors` (when the validation loss
  /// improved; the last one when there is no validation text) and `metrics.jsonl`.
  ///
  /// A NaN or infinite loss throws `CharLMTrainingError.nonFinite` before the weights change;
  /// the files on disk are those of the last good evaluation. A checkpoint is never written
  /// from non-finite weights.
  public func train(outputDirectory: URL?, log: inout MetricsLog, events: Events = Events()) throws -> Outcome {
    var lossSum = 0.0, lossCount = 0, tokensSinceEval = 0, secondsSinceEval = 0.0
    var lastLearningRate = Double(currentLearningRate)
    var evaluatedAt = -1
    let loopStart = DispatchTime.now().uptimeNanoseconds, secondsBefore = trainingSeconds
    func tick() { trainingSeconds = secondsBefore + Double(DispatchTime.now().uptimeNanoseconds - loopStart) / 1e9 }

    func evaluateAndSave() throws {
      guard evaluatedAt != step else { return }
      evaluatedAt = step
      let evaluationStart = trainingSeconds
      defer { tick(); lastEvaluationSeconds = trainingSeconds - evaluationStart }
      guard weightsAreFinite else {
        throw CharLMTrainingError.nonFinite(what: "weights", step: step - 1, value: .nan)
      }
      let validation = try evaluate()
      if let validation, !validation.isFinite {
        throw CharLMTrainingError.nonFinite(what: "validation loss", step: step - 1, value: Float(validation))
      }
      let record = MetricsRecord(
        step: step, tokens: tokensSeen, trainLoss: lossCount > 0 ? lossSum / Double(lossCount) : (log.records.last?.trainLoss ?? .nan),
        validationLoss: validation, learningRate: lastLearningRate, elapsed: trainingSeconds,
        tokensPerSecond: secondsSinceEval > 0 ? Double(tokensSinceEval) / secondsSinceEval : (log.records.last?.tokensPerSecond ?? 0))
      let isBest: Bool
      if let validation {
        isBest = bestValidationLoss.map { validation < $0 } ?? true
        if isBest { bestValidationLoss = validation }
      } else {
        isBest = true
      }
      if record.trainLoss.isFinite { log.append(record) }
      if let outputDirectory {
        try save(to: outputDirectory.appendingPathComponent(OutputFile.last))
        if isBest { try save(to: outputDirectory.appendingPathComponent(OutputFile.best)) }
        try log.write(to: outputDirectory.appendingPathComponent(OutputFile.metrics))
      }
      lossSum = 0; lossCount = 0; tokensSinceEval = 0; secondsSinceEval = 0
      try events.didEvaluate(record, isBest, log)
    }

    while !isFinished {
      if events.shouldStop() {
        // Save the last finished step without evaluating (quick), so a resume continues here.
        if let outputDirectory, weightsAreFinite, step > 0 {
          try save(to: outputDirectory.appendingPathComponent(OutputFile.last))
        }
        return .stopped
      }
      let report = try trainStep()
      tick()
      lossSum += Double(report.loss); lossCount += 1
      tokensSinceEval += report.tokens; secondsSinceEval += report.seconds
      lastLearningRate = Double(report.learningRate)
      try events.didStep(report)
      tick()
      if step % configuration.evalEvery == 0 { try evaluateAndSave() }
    }
    try evaluateAndSave()
    return .finished
  }
}
