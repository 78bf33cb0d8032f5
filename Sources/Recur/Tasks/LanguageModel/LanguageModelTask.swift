import Foundation

/// Character-level language modelling as a `TrainingTask`: a `CharLM` learns to predict the next
/// character of a text, by truncated backpropagation through time.
///
/// The text is read as `batchSize` parallel streams (`TextBatches`); each step takes the next
/// window of `seqLength` characters from every stream and starts from the state the previous
/// window ended in (detached), zeros at the start of each pass. The loss is the mean
/// cross-entropy of all predictions of the window. Validation runs over the held-out end of the
/// text, read as parallel streams (the examples the evaluation is split over), each from a zero
/// state carried across its windows.
public final class LanguageModelTask: TrainingTask {
  /// The name in archives.
  public static let name = "language-model"

  /// How the text is cut into batches (stored in archives).
  public struct DataSettings: Sendable, Codable, Equatable {
    /// T, the window of truncated BPTT.
    public var seqLength = 100
    /// B, the parallel streams.
    public var batchSize = 32
    /// Fraction of the text (its end) held out for validation; 0 for none.
    public var validationFraction = 0.1
    /// Parallel streams of the validation text (fewer when the text is short).
    public var evalBatchSize = 128
    /// Where the text came from (a path or "bundled:NAME"), to find it again on resume.
    public var corpus = ""
    /// Start every stream at the head of a document (text after a blank line, such as a tune of an
    /// ABC collection), so each pass reads documents from their first character on (`TextBatches`).
    public var alignToDocuments = false

    /// Default settings.
    public init() {}

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      // 2^30 each: the text must hold batchSize × (seqLength + 1) characters anyway, and the
      // products of the two stay far from overflow.
      let most = 1 << 30
      try TrainingError.require(seqLength >= 1 && seqLength <= most, "seqLength", seqLength, "a positive integer ≤ \(most)")
      try TrainingError.require(batchSize >= 1 && batchSize <= most, "batchSize", batchSize, "a positive integer ≤ \(most)")
      try TrainingError.require(validationFraction >= 0 && validationFraction < 1, "validationFraction", validationFraction, "in [0, 1)")
      try TrainingError.require(evalBatchSize >= 1 && evalBatchSize <= most, "evalBatchSize", evalBatchSize, "a positive integer ≤ \(most)")
    }
  }

  /// Positions of `ids` where a document starts: 0 and every non-newline token after two newlines.
  public static func documentStarts(_ ids: [Int], newline: Int?) -> [Int] {
    guard let newline else { return [0] }
    var starts: [Int] = ids.first == newline ? [] : [0]
    if ids.count > 2 {
      for i in 2..<ids.count where ids[i] != newline && ids[i - 1] == newline && ids[i - 2] == newline { starts.append(i) }
    }
    return starts
  }

  /// What an archive of this task stores as its configuration.
  public struct StoredConfiguration: Sendable, Codable, Equatable {
    /// The model's shape.
    public var model: CharLM.Configuration
    /// The vocabulary as Unicode code points, in id order.
    public var vocabulary: [UInt32]
    /// How the text was batched.
    public var data: DataSettings
    /// The seed of the initial weights.
    public var seed: UInt64
  }

  /// The model being trained.
  public let model: CharLM
  /// The characters the model knows.
  public let vocabulary: CharVocabulary
  /// The batching of the text.
  public let settings: DataSettings
  /// The seed the weights were drawn from.
  public let seed: UInt64
  /// The training streams.
  public let trainBatches: TextBatches
  /// The validation streams (nil without validation text).
  public let validationBatches: TextBatches?
  /// Windows taken so far (the next is `position % windowCount`).
  public private(set) var position = 0
  /// The state after the previous window (nil at the start of a pass).
  var carried: RecurrentState?

  /// A fresh model of shape `model` (its vocabulary size is set from `corpus`) on `corpus`.
  /// Throws `TrainingError` for invalid settings, `TextCorpusError` when the text is too short.
  public convenience init(corpus: TextCorpus, model: CharLM.Configuration, settings: DataSettings, seed: UInt64) throws {
    let vocabulary = CharVocabulary(text: corpus.text)
    var configuration = model
    configuration.vocabularySize = vocabulary.count
    var settings = settings
    settings.corpus = corpus.source
    try self.init(model: try CharLM(configuration, seed: seed), vocabulary: vocabulary, settings: settings, seed: seed, corpus: corpus)
  }

  /// The model stored in `archive`, continuing on `corpus` (the text it was trained on).
  public convenience init(archive: ModelArchive, corpus: TextCorpus) throws {
    let (model, vocabulary, stored) = try Self.loadModel(from: archive)
    try self.init(model: model, vocabulary: vocabulary, settings: stored.data, seed: stored.seed, corpus: corpus)
  }

  init(model: CharLM, vocabulary: CharVocabulary, settings: DataSettings, seed: UInt64, corpus: TextCorpus) throws {
    try settings.validate()
    try corpus.checkLength(seqLength: settings.seqLength)
    let ids: [Int]
    do {
      ids = try vocabulary.encode(corpus.text)
    } catch let error as CharVocabularyError {
      throw TextCorpusError("corpus \(corpus.source) does not fit the model's vocabulary: \(error.description); resume on the text the run was trained on")
    }
    let (train, validation) = TextCorpus.split(ids, validationFraction: settings.validationFraction)
    self.model = model
    self.vocabulary = vocabulary
    self.settings = settings
    self.seed = seed
    let newline = vocabulary.id(of: "\n")
    func starts(_ part: [Int]) -> [Int]? { settings.alignToDocuments ? Self.documentStarts(part, newline: newline) : nil }
    trainBatches = try TextBatches(ids: train, batchSize: settings.batchSize, seqLength: settings.seqLength, what: "training",
                                   documentStarts: starts(train))
    if settings.validationFraction > 0 {
      // Evaluation runs without gradients, so it takes more streams than training (fewer sequential
      // steps, larger GEMMs), as many as the text allows at one window each.
      let streams = Swift.min(settings.evalBatchSize, Swift.max(1, validation.count / (settings.seqLength + 1)))
      validationBatches = try TextBatches(ids: validation, batchSize: streams, seqLength: settings.seqLength, what: "validation",
                                          documentStarts: starts(validation))
    } else {
      validationBatches = nil
    }
  }

  /// The windows in one pass over the training streams.
  public var stepsPerEpoch: Int { trainBatches.windowCount }

  /// The mean cross-entropy of the next training window, from the state the previous window
  /// ended in (zeros at the start of a pass); carries the final state, detached, to the next window.
  ///
  /// In a data-parallel run each process takes its part of the streams (`context.shard`), and the
  /// carried state of all streams is gathered on every process, so checkpoints hold all of it.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let index = position % trainBatches.windowCount
    if index == 0 { carried = nil }
    let B = trainBatches.batchSize, shard = context.shard
    guard B >= shard.count else {
      throw TrainingError.invalidSetting(InvalidParameter(name: "batchSize", value: "\(B)",
        expected: "at least the number of processes (\(shard.count)): each process takes a part of the streams"))
    }
    let columns = shard.range(of: B)
    let window = trainBatches.window(index, columns: columns)
    let start = carried.map { shard.count > 1 ? RecurrentState(h: Self.streams($0.h, columns), c: $0.c.map { Self.streams($0, columns) }) : $0 }
    let (logits, state) = try model(window.inputs, steps: window.steps, batchSize: columns.count, state: start, context: &context)
    if shard.count > 1 {
      let group = context.processGroup
      carried = RecurrentState(h: try group.allGather(state.h.detached(), axis: 1, total: B),
                               c: try state.c.map { try group.allGather($0.detached(), axis: 1, total: B) })
    } else {
      carried = state.detached()
    }
    position += 1
    return BatchLoss(loss: crossEntropy(logits: logits, targets: window.targets), count: window.targets.count)
  }

  /// Streams `columns` of a state `[L, B, H]`.
  private static func streams(_ state: Tensor, _ columns: Range<Int>) -> Tensor {
    state.transposed(0, 1).slice(columns).transposed(0, 1)
  }

  /// The validation streams (each a contiguous piece of the validation text); 0 without validation text.
  public var validationCount: Int { validationBatches?.batchSize ?? 0 }

  /// The summed cross-entropy (`loss`) and the count of predicted characters (`tokens`) of the
  /// validation streams `examples`, each from a zero state carried across its windows.
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    let part = try validationBatches.map { try Self.lossSum(model: model, batches: $0, columns: examples) } ?? (total: 0, count: 0)
    return EvaluationSums(examples: examples.count, ["loss": part.total, "tokens": Double(part.count)])
  }

  /// The mean cross-entropy (nats/character) on the validation text.
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    Evaluation(loss: sums["loss"] / sums["tokens"])
  }

  /// Mean cross-entropy (nats/token) of `model` on `batches`, in evaluation mode, from a zero
  /// state carried across windows.
  public static func meanLoss(model: CharLM, batches: TextBatches) throws -> Double {
    let sum = try lossSum(model: model, batches: batches, columns: 0..<batches.batchSize)
    return sum.total / Double(sum.count)
  }

  /// The summed cross-entropy and the count of targets of streams `columns` of `batches`.
  static func lossSum(model: CharLM, batches: TextBatches, columns: Range<Int>) throws -> (total: Double, count: Int) {
    try withoutGradients {
      var state: RecurrentState? = nil
      var total = 0.0
      var count = 0
      guard !columns.isEmpty else { return (0, 0) }
      for w in 0..<batches.windowCount {
        let window = batches.window(w, columns: columns)
        let (logits, next) = try model(window.inputs, steps: window.steps, batchSize: columns.count, state: state)
        total += Double(crossEntropy(logits: logits, targets: window.targets, reduction: .sum).item)
        count += window.targets.count
        state = next
      }
      return (total, count)
    }
  }

  /// The window position as JSON, and the carried state as tensors `h` (and `c`).
  public func dataState() throws -> TaskDataState {
    try TaskDataState(position: position, tensors: carried.map { s in [("h", s.h)] + (s.c.map { [("c", $0)] } ?? []) } ?? [])
  }

  /// Goes back to a saved window position and carried state. Throws
  /// `TrainingError.inconsistentCheckpoint` when they do not fit the model.
  public func restoreDataState(_ state: TaskDataState) throws {
    let saved = try state.position(what: "text")
    let tensors = Dictionary(state.tensors.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a })
    if let h = tensors["h"] {
      let expected = model.zeroState(batchSize: settings.batchSize)
      guard h.shape == expected.h.shape, tensors["c"]?.shape == expected.c?.shape else {
        throw TrainingError.inconsistentCheckpoint("carried state of shape \(h.shape) for a model with state \(expected.h.shape)")
      }
      carried = RecurrentState(h: h, c: tensors["c"])
    } else {
      carried = nil
    }
    position = saved
  }

  /// The model's shape, the vocabulary, the data settings and the seed, as JSON
  /// (a ``StoredConfiguration``).
  public func archiveConfiguration() throws -> String {
    try ModelArchive.json(StoredConfiguration(model: model.configuration, vocabulary: vocabulary.codePoints, data: settings, seed: seed))
  }

  /// The model, vocabulary and configuration in an archive of this task (for sampling and
  /// evaluation).
  public static func loadModel(from archive: ModelArchive) throws -> (model: CharLM, vocabulary: CharVocabulary, configuration: StoredConfiguration) {
    guard archive.task == name else { throw TrainingError.wrongTask(expected: name, found: archive.task) }
    let stored = try archive.decodeConfiguration(StoredConfiguration.self)
    do {
      try stored.data.validate()
    } catch let error as TrainingError {
      throw TrainingError.inconsistentCheckpoint("its data settings are invalid: \(error.description)")
    }
    let vocabulary: CharVocabulary
    do {
      vocabulary = try CharVocabulary(codePoints: stored.vocabulary)
    } catch let error as CharVocabularyError {
      throw TrainingError.inconsistentCheckpoint(error.description)
    }
    guard vocabulary.count == stored.model.vocabularySize else {
      throw TrainingError.inconsistentCheckpoint("vocabulary of \(vocabulary.count) characters but a model for \(stored.model.vocabularySize)")
    }
    let model: CharLM
    do {
      try archive.requireStoredParameters(stored.model.parameterCount)
      model = try CharLM(stored.model, seed: stored.seed)
      try model.loadStateDict(try archive.stateDict)
    } catch let error as TrainingError {
      throw TrainingError.inconsistentCheckpoint("its model configuration is invalid: \(error.description)")
    } catch let error as StateDictError {
      throw TrainingError.inconsistentCheckpoint(error.description)
    } catch let error as IOError {
      throw TrainingError.inconsistentCheckpoint(error.problem)
    }
    return (model, vocabulary, stored)
  }

  /// A sample of `length` characters after `prompt`, from a generator seeded by `seed` (no
  /// training state is touched).
  public func sample(prompt: String, length: Int, temperature: Float = 0.8, seed: UInt64) throws -> String {
    let ids = try vocabulary.encode(prompt)
    var sampler = Sampler(temperature: temperature, seed: seed)
    return vocabulary.decode(try model.generate(prompt: ids, length: length, sampler: &sampler))
  }
}

extension LanguageModelTask.DataSettings {
  private enum CodingKeys: String, CodingKey {
    case seqLength, batchSize, validationFraction, evalBatchSize, corpus, alignToDocuments
  }

  /// Decodes the settings; archives written before `alignToDocuments` existed read it as false.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    self.init()
    seqLength = try c.decode(Int.self, forKey: .seqLength)
    batchSize = try c.decode(Int.self, forKey: .batchSize)
    validationFraction = try c.decode(Double.self, forKey: .validationFraction)
    evalBatchSize = try c.decode(Int.self, forKey: .evalBatchSize)
    corpus = try c.decode(String.self, forKey: .corpus)
    alignToDocuments = try c.decodeIfPresent(Bool.self, forKey: .alignToDocuments) ?? false
  }
}
