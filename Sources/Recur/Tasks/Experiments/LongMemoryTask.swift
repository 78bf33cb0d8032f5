import Foundation

/// A long-memory problem as a `TrainingTask`: every step trains on `batchSize` fresh sequences
/// (batch p is drawn from a stream seeded by the seed and p, so the data state is just p), and every
/// evaluation scores a fixed validation set drawn from its own stream.
///
/// Its evaluation is the mean loss (mean squared error or cross-entropy per step) with
/// `accuracy` — the fraction of sequences answered right: the adding problem's |error| < 0.04, the
/// copy task's ten recalled symbols all right — and, for the copy task, `symbol_accuracy`.
public final class LongMemoryTask: TrainingTask {
  /// The name in archives.
  public static let name = "long-memory"

  /// What an archive needs to rebuild the network.
  public struct Configuration: Codable, Sendable, Equatable {
    /// The problem and its length.
    public var problem: LongMemoryProblem
    /// The recurrent layer: tanh RNN, LSTM, GRU, minGRU or minLSTM.
    public var cell: SequenceLayerKind
    /// Units of the recurrent layer.
    public var hiddenSize: Int
    /// The initial keep bias of every unit of the gate that keeps the state (the LSTM's forget gate,
    /// the GRU's update gate; see `MemoryGateInitialization`), or nil.
    public var memoryGateBias: Float?
    /// T_max of chrono initialisation (`MemoryGateInitialization`), in place of `memoryGateBias`, or nil.
    public var chronoMaximum: Int?

    /// A configuration from its parts (both gate settings nil: PyTorch's initialisation).
    public init(problem: LongMemoryProblem, cell: SequenceLayerKind, hiddenSize: Int, memoryGateBias: Float?, chronoMaximum: Int? = nil) {
      self.problem = problem
      self.cell = cell
      self.hiddenSize = hiddenSize
      self.memoryGateBias = memoryGateBias
      self.chronoMaximum = chronoMaximum
    }
  }

  /// The network being trained.
  public let model: LongMemoryNetwork
  /// The configuration it was built from.
  public let configuration: Configuration
  /// Fresh sequences per step.
  public let batchSize: Int
  /// The validation sequences (fixed for the run).
  public let validation: LongMemoryBatch
  let seed: UInt64
  /// Steps taken so far.
  private(set) var position = 0

  /// A task training a fresh network (weights from `seed`) on `configuration.problem`, with
  /// `validationCount` validation sequences. Throws `TrainingError.invalidSetting` for sizes below 1
  /// or a model too large for memory.
  public init(configuration: Configuration, batchSize: Int, validationCount: Int, seed: UInt64) throws {
    try TrainingError.requirePositive(["hiddenSize": configuration.hiddenSize, "batchSize": batchSize, "validationCount": validationCount])
    try TrainingError.require(batchSize <= 1 << 20, "batchSize", batchSize, "at most \(1 << 20)")
    try TrainingError.require(validationCount <= 1 << 20, "validationCount", validationCount, "at most \(1 << 20)")
    if let bias = configuration.memoryGateBias {
      try TrainingError.require(bias.isFinite && abs(bias) <= 100, "memoryGateBias", bias, "a number in [-100, 100]")
    }
    if let chrono = configuration.chronoMaximum {
      try TrainingError.require(chrono >= 3 && chrono <= 1 << 24, "chronoMaximum", chrono, "an integer in 3…\(1 << 24)")
      try TrainingError.require(configuration.memoryGateBias == nil, "memoryGateBias", configuration.memoryGateBias.map { "\($0)" } ?? "",
                                "nil when chronoMaximum is set (chrono initialisation draws the biases)")
    }
    let p = configuration.problem
    var tally = configuration.cell.parameterCount(inputSize: p.inputSize, hiddenSize: configuration.hiddenSize, numLayers: 1)
    tally.add(configuration.hiddenSize + 1, p.outputSize)
    try TrainingError.requireFitsMemory(tally, sizes: ["hiddenSize": configuration.hiddenSize])
    // The validation set, and what a training step keeps for backward (gates, states, outputs per
    // step), must fit in half the memory budget beside the weights.
    let gateCount = switch configuration.cell {
    case .recurrent(let k): k.gateCount
    case .minimal(let k): k.gateCount
    }
    let steps = p.readsEveryStep ? p.length + 2 * CopyMemory.recallLength : p.length + p.length / 10
    var data = SizeTally()
    data.add(validationCount, steps, p.inputSize)
    data.add(Swift.max(batchSize, 256), steps, configuration.hiddenSize, gateCount + 4)
    data.add(Swift.max(batchSize, 256), steps, p.inputSize + p.outputSize)
    let budget = MemoryBudget.bytes / 2 / 4
    if (data.total ?? .max) > budget {
      throw TrainingError.invalidSetting(InvalidParameter(
        "length", p.length, expected: "small enough for memory with \(validationCount) validation sequences and batches of "
          + "\(batchSize): the sequences and activations would take more than \(MemoryBudget.describe(bytes: MemoryBudget.bytes / 2))"))
    }
    self.configuration = configuration
    self.batchSize = batchSize
    self.seed = seed
    model = LongMemoryNetwork(cell: configuration.cell, hiddenSize: configuration.hiddenSize, problem: p,
                              memoryGateBias: configuration.memoryGateBias, chronoMaximum: configuration.chronoMaximum, seed: seed)
    var generator = RandomGenerator(seed: LongMemoryStreams.seed(seed, stream: LongMemoryStreams.validation))
    validation = p.sample(count: validationCount, generator: &generator)
  }

  /// The data never repeats; a notional epoch is 100 batches.
  public var stepsPerEpoch: Int { 100 }

  /// The mean loss of the next batch of fresh sequences.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    var generator = RandomGenerator(seed: LongMemoryStreams.seed(seed, stream: LongMemoryStreams.training, index: position))
    let batch = configuration.problem.sample(count: batchSize, generator: &generator)
    position += 1
    // A data-parallel run: this process's part of the batch (all of it when it is too small to share).
    let part = batchSize >= context.shard.count ? context.shard.range(of: batchSize) : 0..<batchSize
    return BatchLoss(loss: try loss(batch.slice(part), context: &context), count: part.count)
  }

  /// The mean loss of `batch` on the tape.
  func loss(_ batch: LongMemoryBatch, context: inout ForwardContext) throws -> Tensor {
    let output = try model(batch.inputs, lengths: batch.lengths, context: &context)
    if model.readsEveryStep { return crossEntropy(logits: output, targets: batch.symbols) }
    return mseLoss(output, Tensor(shape: [batch.count, 1], scalars: batch.values))
  }

  /// The validation sequences.
  public var validationCount: Int { validation.count }

  /// Over the validation sequences `examples`: the summed loss per sequence (`loss`), the
  /// sequences answered right (`right`) and, for the copy task, the recalled symbols right
  /// (`symbols_right`).
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    var loss = 0.0, right = 0.0, symbolsRight = 0.0
    for start in stride(from: examples.lowerBound, to: examples.upperBound, by: 256) {
      let score = try self.score(validation.slice(start..<Swift.min(examples.upperBound, start + 256)))
      // A score's fractions are counts over its sequences (and recalled symbols): whole numbers
      // once multiplied back, up to rounding.
      let n = Double(score.sequences)
      loss += score.loss * n
      right += (score.accuracy * n).rounded()
      symbolsRight += ((score.symbolAccuracy ?? 0) * n * Double(CopyMemory.recallLength)).rounded()
    }
    return EvaluationSums(examples: examples.count, ["loss": loss, "right": right, "symbols_right": symbolsRight])
  }

  /// The loss and accuracy on the validation set (and `symbol_accuracy` for the copy task).
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    let n = Double(sums.examples)
    var metrics = ["accuracy": sums["right"] / n]
    if model.readsEveryStep { metrics["symbol_accuracy"] = sums["symbols_right"] / (n * Double(CopyMemory.recallLength)) }
    return Evaluation(loss: sums["loss"] / n, metrics: metrics)
  }

  /// The score of the network on `batch`, in evaluation mode, 256 sequences at a time.
  public func score(_ batch: LongMemoryBatch) throws -> LongMemoryScore {
    var score = LongMemoryScore(sequences: 0, loss: 0, accuracy: 0, symbolAccuracy: model.readsEveryStep ? 0 : nil)
    var context = ForwardContext.inference
    try withoutGradients {
      for start in stride(from: 0, to: batch.count, by: 256) {
        let part = batch.slice(start..<Swift.min(batch.count, start + 256))
        let output = try model(part.inputs, lengths: part.lengths, context: &context)
        score.add(LongMemoryScore(problem: configuration.problem, output: output, batch: part))
      }
    }
    return score
  }

  /// The number of batches taken.
  public func dataState() throws -> TaskDataState { try TaskDataState(position: position) }

  /// Goes back to a saved batch position.
  public func restoreDataState(_ state: TaskDataState) throws { position = try state.position(what: "batch") }

  /// The configuration as JSON.
  public func archiveConfiguration() throws -> String { try ModelArchive.json(configuration) }
}

extension LongMemoryBatch {
  /// The sequences `range`.
  func slice(_ range: Range<Int>) -> LongMemoryBatch {
    if range.count == count { return self }
    let steps = inputs.shape[0], width = inputs.shape[2], n = range.count, b = count
    let source = inputs.scalars
    var x = [Float](repeating: 0, count: steps * n * width)
    var symbolsPart = [Int]()
    for t in 0..<steps {
      for (j, i) in range.enumerated() {
        for k in 0..<width { x[(t * n + j) * width + k] = source[(t * b + i) * width + k] }
      }
      if !symbols.isEmpty { symbolsPart += symbols[(t * b + range.lowerBound)..<(t * b + range.upperBound)] }
    }
    return LongMemoryBatch(inputs: Tensor(shape: [steps, n, width], scalars: x), lengths: lengths.map { Array($0[range]) },
                           values: values.isEmpty ? [] : Array(values[range]), symbols: symbolsPart)
  }
}
