import Foundation

/// Sequence tagging as a `TrainingTask`: a ``SequenceTagger`` learns one tag per token from
/// in-memory sentences, in mini-batches of `batchSize` sentences shuffled each epoch (the shuffle
/// of an epoch is a pure function of the seed and the epoch, so the data state is the batch
/// position alone). The loss is the token cross-entropy, or the CRF negative log-likelihood per
/// token when the model has a CRF. Validation reports that loss and the token accuracy.
public final class TaggingTask: TrainingTask {
  /// The name in archives.
  public static let name = "tagging"

  /// What an archive of this task stores as its configuration.
  public struct StoredConfiguration: Sendable, Codable, Equatable {
    /// The model's shape.
    public var model: SequenceTagger.Configuration
    /// Words, characters and tags.
    public var vocabulary: TaggingVocabulary
    /// Sentences per step.
    public var batchSize: Int
    /// The seed of the initial weights and of the shuffles.
    public var seed: UInt64
    /// Where the sentences came from, to find them again on resume.
    public var data: DataSource
  }

  /// Where a run's sentences came from (stored in archives, for resume).
  public struct DataSource: Sendable, Codable, Equatable {
    /// The training file.
    public var train: String
    /// The validation file, or nil when validation was held out of the training file.
    public var validation: String?
    /// The fraction of training sentences held out when there is no validation file.
    public var validationFraction: Double
    /// The 1-based column of the tags.
    public var tagColumn: Int
    /// The fraction of the (remaining) training sentences used, a seeded subset — for learning
    /// curves; nil: all of them.
    public var trainFraction: Double?

    /// A description of the data of a run.
    public init(train: String, validation: String?, validationFraction: Double, tagColumn: Int, trainFraction: Double? = nil) {
      self.train = train
      self.validation = validation
      self.validationFraction = validationFraction
      self.tagColumn = tagColumn
      self.trainFraction = trainFraction
    }
  }

  /// The model being trained.
  public let model: SequenceTagger
  /// The vocabularies the sentences were encoded with.
  public let vocabulary: TaggingVocabulary
  /// The training sentences.
  public let train: [TaggingExample]
  /// The validation sentences (may be empty).
  public let validation: [TaggingExample]
  /// Sentences per step.
  public let batchSize: Int
  /// The seed of the weights and of the per-epoch shuffles.
  public let seed: UInt64
  /// Where the sentences came from (stored in archives).
  public var source = DataSource(train: "", validation: nil, validationFraction: 0, tagColumn: 2)
  /// Steps taken so far.
  public private(set) var position = 0
  private var order: [Int] = []
  /// Word ids seen exactly once in the training sentences.
  let singletons: Set<Int>

  /// A task over encoded sentences (each with one tag per word). Throws
  /// `TrainingError.invalidSetting` for a batch size below 1 and `TaggingDataError.noSentences`
  /// without training sentences.
  public init(model: SequenceTagger, vocabulary: TaggingVocabulary, train: [TaggingExample], validation: [TaggingExample],
              batchSize: Int, seed: UInt64) throws {
    try TrainingError.require(batchSize >= 1, "batchSize", batchSize, "a positive integer")
    guard !train.isEmpty else { throw TaggingDataError.noSentences(what: "the training data") }
    self.model = model
    self.vocabulary = vocabulary
    self.train = train
    self.validation = validation
    self.batchSize = batchSize
    self.seed = seed
    var counts: [Int: Int] = [:]
    for example in train { for id in example.words where id > 1 { counts[id, default: 0] += 1 } }
    singletons = Set(counts.compactMap { $0.value == 1 ? $0.key : nil })
  }

  /// The model stored in `archive` (weights, vocabularies, batch size and seed), continuing on
  /// sentences encoded with its vocabulary (`archive.configuration`'s).
  public convenience init(archive: ModelArchive, train: [TaggingExample], validation: [TaggingExample]) throws {
    let (model, stored) = try Self.loadModel(from: archive)
    try self.init(model: model, vocabulary: stored.vocabulary, train: train, validation: validation, batchSize: stored.batchSize,
                  seed: stored.seed)
    source = stored.data
  }

  /// Mini-batches in one pass over the training sentences.
  public var stepsPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

  /// The mean per-token loss of the next mini-batch, in this epoch's shuffled order.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let index = position % stepsPerEpoch
    if index == 0 || order.isEmpty { order = EpochShuffle.permutation(train.count, epoch: position / stepsPerEpoch, seed: seed) }
    var batch = context.shard.part(of: order[(index * batchSize)..<Swift.min(order.count, (index + 1) * batchSize)]).map { train[$0] }
    position += 1
    if let rate = model.configuration.singletonUnknownRate, rate > 0, !singletons.isEmpty {
      // Lample et al. 2016: a word seen once is read as unknown half the time, so the unknown
      // word's embedding learns from rare words, which resemble the unseen ones.
      for b in batch.indices {
        for t in batch[b].words.indices where singletons.contains(batch[b].words[t]) && context.generator.nextUniform() < rate {
          batch[b].words[t] = 1
        }
      }
    }
    return try model.loss(batch, context: &context)
  }

  /// The validation sentences.
  public var validationCount: Int { validation.count }

  /// Over the validation sentences `examples`, 64 at a time: the summed per-token loss (`loss`),
  /// the tokens and the tokens tagged right (`correct`).
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    var total = 0.0, tokens = 0, correct = 0
    var context = ForwardContext.inference
    try withoutGradients {
      for start in stride(from: examples.lowerBound, to: examples.upperBound, by: 64) {
        let part = Array(validation[start..<Swift.min(examples.upperBound, start + 64)])
        let loss = try model.loss(part, context: &context)
        total += Double(loss.loss.item) * Double(loss.count)
        tokens += loss.count
        for (sentence, tags) in zip(part, try model.predict(part)) { correct += zip(sentence.tags, tags).filter { $0 == $1 }.count }
      }
    }
    return EvaluationSums(examples: examples.count, ["loss": total, "tokens": Double(tokens), "correct": Double(correct)])
  }

  /// The per-token validation loss and `accuracy` (token accuracy).
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    Evaluation(loss: sums["loss"] / sums["tokens"], metrics: ["accuracy": sums["correct"] / sums["tokens"]])
  }

  /// The number of batches taken, as JSON (each epoch's shuffle follows from it).
  public func dataState() throws -> TaskDataState {
    try TaskDataState(position: position)
  }

  /// Goes back to a saved batch position. Throws `TrainingError.inconsistentCheckpoint` for a damaged one.
  public func restoreDataState(_ state: TaskDataState) throws {
    position = try state.position(what: "sentence")
    order = []
  }

  /// The model's shape, the vocabularies, the batch size and the seed (a ``StoredConfiguration``).
  public func archiveConfiguration() throws -> String {
    try ModelArchive.json(StoredConfiguration(model: model.configuration, vocabulary: vocabulary, batchSize: batchSize, seed: seed, data: source))
  }

  /// The model and configuration stored in an archive of this task.
  public static func loadModel(from archive: ModelArchive) throws -> (model: SequenceTagger, configuration: StoredConfiguration) {
    guard archive.task == name else { throw TrainingError.wrongTask(expected: name, found: archive.task) }
    let stored = try archive.decodeConfiguration(StoredConfiguration.self)
    guard stored.vocabulary.tags.count == stored.model.tagCount, stored.vocabulary.words.count == stored.model.wordVocabularySize,
          stored.vocabulary.characters.count == stored.model.characterVocabularySize else {
      throw TrainingError.inconsistentCheckpoint("its vocabularies do not match the model's sizes")
    }
    do {
      try archive.requireStoredParameters(stored.model.parameterCount)
      let model = try SequenceTagger(stored.model, seed: stored.seed)
      try model.loadStateDict(try archive.stateDict)
      return (model, stored)
    } catch let error as TrainingError {
      throw TrainingError.inconsistentCheckpoint("its model configuration is invalid: \(error.description)")
    } catch let error as StateDictError {
      throw TrainingError.inconsistentCheckpoint(error.description)
    } catch let error as IOError {
      throw TrainingError.inconsistentCheckpoint(error.problem)
    }
  }
}
