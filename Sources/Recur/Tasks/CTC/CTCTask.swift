import Foundation

/// CTC training as a `TrainingTask`: a ``CTCModel`` learns unsegmented label sequences from
/// in-memory ``CTCDataset``s with `CTCLoss` (mean reduction: each item's loss divided by its
/// label count, averaged over the batch).
///
/// Each epoch the sequences are shuffled, cut into pools of 16 batches, each pool sorted by length
/// and cut into batches (little padding), and the batches shuffled; the order follows from the
/// seed and the epoch, so the saved data state is just the batch position.
///
/// `evaluate()` returns the validation loss (mean per label, as in training) with the greedy
/// decoding's `label_error_rate`, `label_accuracy` (1 − label error rate, to select checkpoints
/// by) and `sequence_accuracy` in `Evaluation.metrics`.
public final class CTCTask: TrainingTask {
  /// The name in archives.
  public static let name = "ctc"

  /// The model being trained.
  public let model: CTCModel
  /// The training sequences.
  public let train: CTCDataset
  /// The validation sequences (may be empty: no evaluation).
  public let validation: CTCDataset
  /// Sequences per step.
  public let batchSize: Int
  /// The alphabet and the input description (stored in archives).
  public let metadata: CTCMetadata
  /// The seed of the per-epoch shuffles.
  let shuffleSeed: UInt64
  /// Steps taken so far.
  private(set) var position = 0
  private var epochBatches: (epoch: Int, batches: [[Int]])?
  private let loss = CTCLoss(blank: CTCAlphabet.blank, reduction: .mean)

  /// A task over labelled data. Throws `TrainingError.invalidSetting` for an empty training set, a
  /// batch size below 1, data of another width than the model's input or a label outside its
  /// classes, and `DataError.malformed` for a sequence too short for its labels.
  public init(model: CTCModel, train: CTCDataset, validation: CTCDataset, batchSize: Int, metadata: CTCMetadata,
              shuffleSeed: UInt64) throws {
    try TrainingError.require(batchSize >= 1 && batchSize <= 1 << 24, "batchSize", batchSize, "in 1…2^24")
    try TrainingError.require(train.count >= 1 && train.targets.count == train.count, "train", train.count, "at least one labelled sequence")
    let c = model.configuration
    for (name, set) in [("train", train), ("validation", validation)] {
      try TrainingError.require(set.count == 0 || set.stepWidth == c.inputSize, "\(name).stepWidth", set.stepWidth, "the model's input size \(c.inputSize)")
      try TrainingError.require(set.targets.count == set.count, "\(name).targets", set.targets.count, "one label sequence per item (\(set.count))")
      if let bad = set.targets.joined().first(where: { $0 < 1 || $0 >= c.classCount }) {
        throw TrainingError.invalidSetting(InvalidParameter("\(name).targets", bad, expected: "a class in 1..<\(c.classCount)"))
      }
      if let i = set.firstUnalignable() {
        throw DataError.malformed(source: set.source, line: set.lines[i], column: nil,
                                  problem: "sequence '\(set.ids[i])' has \(set.lengths[i]) steps, too few for its \(set.targets[i].count) labels (CTC needs one step per label and a blank between repeats); use a smaller frame stack or drop it")
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

  /// The batches of epoch `epoch`: shuffled, length-sorted within pools of 16 batches, shuffled again.
  func batches(epoch: Int) -> [[Int]] {
    let order = EpochShuffle.permutation(train.count, epoch: epoch, seed: shuffleSeed)
    let lengths = train.lengths, pool = 16 * batchSize
    var batches: [[Int]] = []
    for start in stride(from: 0, to: order.count, by: pool) {
      let sorted = order[start..<min(order.count, start + pool)].sorted { lengths[$0] != lengths[$1] ? lengths[$0] < lengths[$1] : $0 < $1 }
      for b in stride(from: 0, to: sorted.count, by: batchSize) { batches.append(Array(sorted[b..<min(sorted.count, b + batchSize)])) }
    }
    return EpochShuffle.permutation(batches.count, epoch: epoch, seed: shuffleSeed ^ 0x5EED_BA7C).map { batches[$0] }
  }

  /// The mean CTC loss of the next mini-batch.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let epoch = position / stepsPerEpoch
    if epochBatches?.epoch != epoch { epochBatches = (epoch, batches(epoch: epoch)) }
    let indices = Array(context.shard.part(of: epochBatches!.batches[position % stepsPerEpoch]))
    position += 1
    let (x, lengths, targets) = train.batch(indices)
    let logProbs = try model(x, lengths: lengths, context: &context)
    return BatchLoss(loss: try loss(logProbs, targets: targets, inputLengths: lengths), count: indices.count)
  }

  /// The validation sequences.
  public var validationCount: Int { validation.count }

  /// Over the validation sequences `examples`: the summed per-label CTC loss (`loss`) and the
  /// greedy decoding's edit distances, reference lengths and exact sequences.
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    let part = validation.subset(examples)
    let (loss, m) = try Self.sums(logProbabilities: model.logProbabilities(part), targets: part.targets)
    return EvaluationSums(examples: examples.count, ["loss": loss, "errors": Double(m.errors), "reference_length": Double(m.referenceLength),
                                                     "exact": Double(m.exact)])
  }

  /// Validation loss and greedy-decoding metrics.
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    let metrics = CTCMetrics(errors: Int(sums["errors"]), referenceLength: Int(sums["reference_length"]), exact: Int(sums["exact"]),
                             count: sums.examples)
    return Evaluation(loss: sums["loss"] / Double(sums.examples),
                      metrics: ["label_error_rate": metrics.labelErrorRate, "label_accuracy": 1 - metrics.labelErrorRate,
                                "sequence_accuracy": metrics.sequenceAccuracy])
  }

  /// The mean CTC loss per label (as in training) and the greedy-decoding metrics of `model` on the
  /// labelled `data`, in evaluation mode.
  public static func evaluate(_ model: CTCModel, on data: CTCDataset) throws -> (loss: Double, metrics: CTCMetrics) {
    try evaluate(logProbabilities: model.logProbabilities(data), targets: data.targets)
  }

  /// The mean CTC loss per label and the greedy-decoding metrics of per-sequence log-probabilities
  /// `[T_i][C]` against their label classes.
  public static func evaluate(logProbabilities: [[[Float]]], targets: [[Int]]) throws -> (loss: Double, metrics: CTCMetrics) {
    let (total, metrics) = try sums(logProbabilities: logProbabilities, targets: targets)
    return (total / Double(max(targets.count, 1)), metrics)
  }

  /// The summed CTC loss per label and the greedy-decoding metrics.
  static func sums(logProbabilities: [[[Float]]], targets: [[Int]]) throws -> (loss: Double, metrics: CTCMetrics) {
    var total = 0.0
    let loss = CTCLoss(blank: CTCAlphabet.blank, reduction: .none)
    for (lp, target) in zip(logProbabilities, targets) {
      let x = Tensor(shape: [lp.count, 1, lp.first?.count ?? 0], scalars: Array(lp.joined()))
      let item = try withoutGradients { try loss(x, targets: [target], inputLengths: [lp.count]) }.item
      total += Double(item) / Double(max(target.count, 1))
    }
    let decoded = logProbabilities.map { CTCDecoder.greedy($0, blank: CTCAlphabet.blank).labels }
    return (total, CTCMetrics(decoded: decoded, references: targets))
  }

  /// The number of batches taken, as JSON (each epoch's order follows from it).
  public func dataState() throws -> TaskDataState {
    try TaskDataState(position: position)
  }

  /// Goes back to a saved batch position. Throws `TrainingError.inconsistentCheckpoint` for a damaged one.
  public func restoreDataState(_ state: TaskDataState) throws {
    position = try state.position(what: "batch")
    epochBatches = nil
  }

  /// The model's configuration, the alphabet and the input description, as JSON.
  public func archiveConfiguration() throws -> String {
    try ModelArchive.json(CTCArchive(model: model.configuration, batchSize: batchSize, shuffleSeed: shuffleSeed, metadata: metadata))
  }
}
