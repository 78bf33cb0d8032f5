/// Sequence-to-sequence learning as a `TrainingTask`: an ``EncoderDecoder`` learns targets from
/// sources by teacher forcing, in mini-batches of `batchSize` pairs. Each epoch's order is a pure
/// function of the seed and the epoch (so the data state is the batch position alone): the pairs
/// are shuffled, cut into chunks of 64 batches, each chunk sorted by source length (less padding)
/// and its batches shuffled again. The loss is the mean token cross-entropy (label smoothing
/// optional; target padding ignored). Validation reports that loss and, from greedy decoding,
/// `accuracy` (sequences equal to a reference), `wer` and `ter` (``Seq2SeqMetrics``).
public final class Seq2SeqTask: TrainingTask {
  /// The name in archives.
  public static let name = "seq2seq"

  /// What an archive of this task stores as its configuration.
  public struct StoredConfiguration: Sendable, Codable, Equatable {
    /// The model's shape.
    public var model: EncoderDecoder.Configuration
    /// Source and target tokens.
    public var vocabulary: Seq2SeqVocabulary
    /// Pairs per step.
    public var batchSize: Int
    /// ε of the label-smoothed loss.
    public var labelSmoothing: Float
    /// The seed of the initial weights and of the shuffles.
    public var seed: UInt64
    /// The training file.
    public var train: String
    /// The validation file, if any.
    public var validation: String?
  }

  /// The model being trained.
  public let model: EncoderDecoder
  /// The vocabularies the pairs were encoded with.
  public let vocabulary: Seq2SeqVocabulary
  /// Training sources, ids.
  public let sources: [[Int]]
  /// Training targets, ids (one per source row).
  public let targets: [[Int]]
  /// Validation examples (may be empty).
  public let validation: [Seq2SeqExample]
  /// Pairs per step.
  public let batchSize: Int
  /// ε of the label-smoothed loss (0: plain cross-entropy).
  public let labelSmoothing: Float
  /// The seed of the weights and of the per-epoch orders.
  public let seed: UInt64
  /// The training file (stored in archives, for resume).
  public var trainPath = ""
  /// The validation file (stored in archives, for resume).
  public var validationPath: String?
  /// Steps taken so far.
  public private(set) var position = 0
  private var epochBatches: [[Int]] = []

  /// A task over encoded pairs. Throws `TrainingError.invalidSetting` for a batch size below 1 or a
  /// label smoothing outside [0, 1), and when there are no training pairs.
  public init(model: EncoderDecoder, vocabulary: Seq2SeqVocabulary, sources: [[Int]], targets: [[Int]],
              validation: [Seq2SeqExample], batchSize: Int, labelSmoothing: Float, seed: UInt64) throws {
    try TrainingError.require(batchSize >= 1 && batchSize <= 1 << 24, "batchSize", batchSize, "in 1…2^24")
    try TrainingError.require(labelSmoothing >= 0 && labelSmoothing < 1, "labelSmoothing", labelSmoothing, "in [0, 1)")
    try TrainingError.require(!sources.isEmpty && sources.count == targets.count, "sources", sources.count,
                              "at least one pair, as many sources as targets (\(targets.count))")
    self.model = model
    self.vocabulary = vocabulary
    self.sources = sources
    self.targets = targets
    self.validation = validation
    self.batchSize = batchSize
    self.labelSmoothing = labelSmoothing
    self.seed = seed
  }

  /// Mini-batches in one pass over the training pairs.
  public var stepsPerEpoch: Int { (sources.count + batchSize - 1) / batchSize }

  /// The batches (pair indices) of `epoch`.
  func batches(epoch: Int) -> [[Int]] {
    let order = EpochShuffle.permutation(sources.count, epoch: epoch, seed: seed)
    let chunk = batchSize * 64
    var batches: [[Int]] = []
    for start in stride(from: 0, to: order.count, by: chunk) {
      let part = order[start..<Swift.min(order.count, start + chunk)].sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
      var chunkBatches = stride(from: 0, to: part.count, by: batchSize).map { Array(part[$0..<Swift.min(part.count, $0 + batchSize)]) }
      var generator = RandomGenerator(seed: seed &+ UInt64(epoch) &* 31 &+ UInt64(start))
      chunkBatches.shuffle(using: &generator)
      batches += chunkBatches
    }
    return batches
  }

  /// The mean per-token loss of the next mini-batch.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let index = position % stepsPerEpoch
    if index == 0 || epochBatches.isEmpty { epochBatches = batches(epoch: position / stepsPerEpoch) }
    let batch = context.shard.part(of: epochBatches[index])
    position += 1
    return try model.loss(sources: batch.map { sources[$0] }, targets: batch.map { targets[$0] }, labelSmoothing: labelSmoothing,
                          context: &context)
  }

  /// The validation examples (a source with its references).
  public var validationCount: Int { validation.count }

  /// Over the validation examples `examples`: the summed token loss against every reference
  /// (`loss`, `tokens`) and the greedy decoding's ``Seq2SeqMetrics`` counts.
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    var total = 0.0, tokens = 0
    var context = ForwardContext.inference
    let part = Array(validation[examples])
    let pairs = part.flatMap { e in e.references.map { (e.source, $0) } }
    try withoutGradients {
      for start in stride(from: 0, to: pairs.count, by: 256) {
        let batch = pairs[start..<Swift.min(pairs.count, start + 256)]
        let loss = try model.loss(sources: batch.map(\.0), targets: batch.map(\.1), labelSmoothing: labelSmoothing, context: &context)
        total += Double(loss.loss.item) * Double(loss.count)
        tokens += loss.count
      }
    }
    let m = try Self.greedyMetrics(model: model, examples: part)
    return EvaluationSums(examples: examples.count, ["loss": total, "tokens": Double(tokens), "correct": Double(m.correct),
                                                     "token_errors": Double(m.tokenErrors), "reference_tokens": Double(m.referenceTokens)])
  }

  /// The validation loss (per token, against every reference) and greedy `accuracy`, `wer`, `ter`.
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    var metrics = Seq2SeqMetrics()
    metrics.sequences = sums.examples
    metrics.correct = Int(sums["correct"])
    metrics.tokenErrors = Int(sums["token_errors"])
    metrics.referenceTokens = Int(sums["reference_tokens"])
    return Evaluation(loss: sums["loss"] / sums["tokens"],
                      metrics: ["accuracy": metrics.accuracy, "wer": metrics.wordErrorRate, "ter": metrics.tokenErrorRate])
  }

  /// Greedy-decoding metrics of `model` on `examples`, in batches of 256.
  public static func greedyMetrics(model: EncoderDecoder, examples: [Seq2SeqExample]) throws -> Seq2SeqMetrics {
    var metrics = Seq2SeqMetrics()
    for start in stride(from: 0, to: examples.count, by: 256) {
      let part = Array(examples[start..<Swift.min(examples.count, start + 256)])
      let longest = part.map(\.source.count).max()!
      let decoded = try model.greedy(part.map(\.source), maximumLength: Seq2SeqExample.maximumOutputLength(sourceLength: longest))
      for (d, e) in zip(decoded, part) { metrics.add(d.tokens, references: e.references) }
    }
    return metrics
  }

  /// The number of batches taken (each epoch's order follows from it).
  public func dataState() throws -> TaskDataState { try TaskDataState(position: position) }

  /// Goes back to a saved batch position. Throws `TrainingError.inconsistentCheckpoint` for a damaged one.
  public func restoreDataState(_ state: TaskDataState) throws {
    position = try state.position(what: "pair")
    epochBatches = []
  }

  /// The model's shape, the vocabularies, the batch size, label smoothing, seed and files.
  public func archiveConfiguration() throws -> String {
    try ModelArchive.json(StoredConfiguration(model: model.configuration, vocabulary: vocabulary, batchSize: batchSize,
                                              labelSmoothing: labelSmoothing, seed: seed, train: trainPath, validation: validationPath))
  }

  /// The model and configuration stored in an archive of this task.
  public static func loadModel(from archive: ModelArchive) throws -> (model: EncoderDecoder, configuration: StoredConfiguration) {
    guard archive.task == name else { throw TrainingError.wrongTask(expected: name, found: archive.task) }
    let stored = try archive.decodeConfiguration(StoredConfiguration.self)
    guard stored.vocabulary.source.count == stored.model.sourceVocabularySize,
          stored.vocabulary.target.count == stored.model.targetVocabularySize else {
      throw TrainingError.inconsistentCheckpoint("its vocabularies do not match the model's sizes")
    }
    do {
      let model = try EncoderDecoder(stored.model, seed: stored.seed)
      try model.loadStateDict(archive.stateDict)
      return (model, stored)
    } catch let error as TrainingError {
      throw TrainingError.inconsistentCheckpoint("its model configuration is invalid: \(error.description)")
    } catch let error as StateDictError {
      throw TrainingError.inconsistentCheckpoint(error.description)
    }
  }
}
