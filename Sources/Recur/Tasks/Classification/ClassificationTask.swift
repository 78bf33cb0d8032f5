import Foundation

/// Sequence classification as a `TrainingTask`: a `SequenceClassifier` learns class labels from
/// an in-memory `ClassificationDataset` by cross-entropy over mini-batches shuffled each epoch
/// (the order of an epoch is a function of the seed and the epoch alone, so the saved data state
/// is just the batch position). Each batch is padded to its longest sequence and run with lengths.
///
/// Its evaluation is the mean validation cross-entropy with `accuracy` and `macro_f1` in
/// `Evaluation.metrics`, from sums over the validation sequences (the loss and the confusion matrix).
public final class ClassificationTask: TrainingTask {
  /// The name in archives.
  public static let name = "classification"

  /// The model being trained.
  public let model: SequenceClassifier
  /// The training sequences.
  public let train: ClassificationDataset
  /// The validation sequences (may be empty: no evaluation).
  public let validation: ClassificationDataset
  /// Sequences per step.
  public let batchSize: Int
  /// What rebuilds the model and reads new data (stored in archives).
  public let metadata: ClassificationMetadata
  /// The seed of the per-epoch shuffles.
  let shuffleSeed: UInt64
  /// In training, the probability that a known token (id ≥ 2) is replaced by `<unk>` (1), drawn
  /// from the trainer's random stream (token inputs only; 0 disables).
  public var unknownTokenRate = 0.05
  /// Steps taken so far.
  private(set) var position = 0
  private var order: [Int] = []

  /// A task over the given data; the shuffles draw from `shuffleSeed`. Throws
  /// `TrainingError.invalidSetting` for an empty training set, a batch size below 1 or a label
  /// outside the model's classes.
  public init(model: SequenceClassifier, train: ClassificationDataset, validation: ClassificationDataset, batchSize: Int,
              metadata: ClassificationMetadata, shuffleSeed: UInt64) throws {
    try TrainingError.require(batchSize >= 1, "batchSize", batchSize, "a positive integer")
    try TrainingError.require(train.count >= 1 && train.labels.count == train.count, "train", train.count, "at least one labelled sequence")
    let c = model.configuration.classCount
    for (name, set) in [("train", train), ("validation", validation)] {
      if let bad = set.labels.first(where: { $0 < 0 || $0 >= c }) {
        throw TrainingError.invalidSetting(InvalidParameter("\(name).labels", bad, expected: "a class index in 0..<\(c)"))
      }
    }
    self.model = model
    self.train = train
    self.validation = validation
    self.batchSize = batchSize
    self.metadata = metadata
    self.shuffleSeed = shuffleSeed
  }

  /// Mini-batches in one pass over the training sequences.
  public var stepsPerEpoch: Int { (train.count + batchSize - 1) / batchSize }

  /// The mean cross-entropy of the next mini-batch, in the order of this epoch's shuffle.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let index = position % stepsPerEpoch
    if index == 0 || order.isEmpty { order = EpochShuffle.permutation(train.count, epoch: position / stepsPerEpoch, seed: shuffleSeed) }
    let indices = context.shard.part(of: order[(index * batchSize)..<Swift.min(order.count, (index + 1) * batchSize)])
    var (input, lengths, labels) = train.batch(indices)
    position += 1
    if case let .tokens(ids, steps, batch) = input, unknownTokenRate > 0 {
      // Word dropout: known tokens become <unk> now and then, so the <unk> embedding is trained
      // and texts with unseen words are classified by the words the model knows.
      let threshold = Float(unknownTokenRate)
      let dropped = ids.map { id in id >= 2 && context.generator.nextUniform() < threshold ? 1 : id }
      input = .tokens(dropped, steps: steps, batchSize: batch)
    }
    let logits = try model(input, lengths: lengths, context: &context)
    return BatchLoss(loss: crossEntropy(logits: logits, targets: labels), count: indices.count)
  }

  /// The validation sequences.
  public var validationCount: Int { validation.count }

  /// The summed cross-entropy (`loss`) and the confusion matrix (`confusion`, row-major) of the
  /// validation sequences `examples`.
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    let (loss, metrics) = try Self.sums(model, on: validation.subset(examples))
    return EvaluationSums(examples: examples.count, ["loss": loss], vectors: ["confusion": metrics.confusion.joined().map(Double.init)])
  }

  /// Mean cross-entropy, accuracy and macro-F1 on the validation sequences.
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    let c = model.configuration.classCount, counts = sums[vector: "confusion"].map { Int($0) }
    let metrics = ClassificationMetrics(confusion: (0..<c).map { Array(counts[($0 * c)..<(($0 + 1) * c)]) })
    return Evaluation(loss: sums["loss"] / Double(sums.examples), metrics: ["accuracy": metrics.accuracy, "macro_f1": metrics.macroF1])
  }

  /// The mean cross-entropy and the metrics of `model` on the labelled `data`, in evaluation mode.
  public static func evaluate(_ model: SequenceClassifier, on data: ClassificationDataset) throws -> (loss: Double, metrics: ClassificationMetrics) {
    let (loss, metrics) = try sums(model, on: data)
    return (loss / Double(Swift.max(data.count, 1)), metrics)
  }

  /// The summed cross-entropy and the metrics of `model` on the labelled `data`.
  static func sums(_ model: SequenceClassifier, on data: ClassificationDataset) throws -> (loss: Double, metrics: ClassificationMetrics) {
    let probabilities = try model.probabilities(data)
    var loss = 0.0
    for (p, label) in zip(probabilities, data.labels) { loss -= Foundation.log(Swift.max(Double(p[label]), 1e-30)) }
    let predicted = probabilities.map { p in p.indices.max { p[$0] < p[$1] }! }
    return (loss, ClassificationMetrics(predicted: predicted, actual: data.labels, classCount: model.configuration.classCount))
  }

  /// The number of batches taken, as JSON (each epoch's shuffle follows from it).
  public func dataState() throws -> TaskDataState {
    try TaskDataState(position: position)
  }

  /// Goes back to a saved batch position. Throws `TrainingError.inconsistentCheckpoint` for a damaged one.
  public func restoreDataState(_ state: TaskDataState) throws {
    position = try state.position(what: "batch")
    order = []
  }

  /// The model's configuration, the label names and the input description, as JSON.
  public func archiveConfiguration() throws -> String {
    try ModelArchive.json(ClassificationArchive(model: model.configuration, batchSize: batchSize, shuffleSeed: shuffleSeed, metadata: metadata))
  }
}
