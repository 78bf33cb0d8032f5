/// A CTC acoustic model: frames → a (bi)directional recurrent stack → dropout → a linear layer →
/// log-softmax over the classes (blank 0, then the alphabet).
///
/// ```
/// h = RNN(x, lengths)                        LSTM, GRU or tanh RNN, numLayers × hiddenSize × D
/// log p_t = logSoftmax(W · dropout(h_t) + b)  [T, B, C]
/// ```
///
/// Parameters are named as a PyTorch module with attributes `rnn` and `output` (`nn.Linear`).
/// Every sequence runs with its length, so its outputs are the same alone and in a padded batch.
public final class CTCModel: Module {
  /// Everything needed to rebuild the model's shape (stored in archives).
  public struct Configuration: Sendable, Codable, Equatable {
    /// Values per input step.
    public var inputSize: Int
    /// The recurrent cell.
    public var cell: RecurrentCellKind
    /// Units per recurrent layer and direction.
    public var hiddenSize: Int
    /// Recurrent layers stacked.
    public var numLayers: Int
    /// Whether each layer also reads the sequence backwards.
    public var bidirectional: Bool
    /// Dropout between recurrent layers and before the output layer (training only).
    public var dropout: Float
    /// Classes C, the blank included.
    public var classCount: Int

    /// A configuration; `inputSize` and `classCount` usually come from the data.
    public init(inputSize: Int, cell: RecurrentCellKind = .lstm, hiddenSize: Int = 192, numLayers: Int = 2, bidirectional: Bool = true,
                dropout: Float = 0.2, classCount: Int) {
      self.inputSize = inputSize
      self.cell = cell
      self.hiddenSize = hiddenSize
      self.numLayers = numLayers
      self.bidirectional = bidirectional
      self.dropout = dropout
      self.classCount = classCount
    }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.requirePositive(["inputSize": inputSize, "hiddenSize": hiddenSize, "numLayers": numLayers])
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      try TrainingError.require(classCount >= 2, "classCount", classCount, "at least 2 (the blank and one label)")
      try TrainingError.requireFitsMemory(parameterCount, sizes: [
        "inputSize": inputSize, "hiddenSize": hiddenSize, "numLayers": numLayers, "classCount": classCount])
    }

    /// The number of parameters of the model, computed without building it.
    public var parameterCount: SizeTally {
      var tally = RecurrentLayer.parameterCount(cell, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                                bidirectional: bidirectional)
      tally.add((bidirectional ? 2 : 1) * min(hiddenSize, Int.max / 2) + 1, classCount)
      return tally
    }
  }

  /// The model's shape.
  public let configuration: Configuration
  /// The recurrent stack.
  public let rnn: any SequenceLayer
  /// The per-step class scores `[C, D·H]`.
  public let output: Linear
  let dropoutLayer: Dropout

  /// A freshly initialised model (PyTorch's default initialisations, drawn from `seed`). Throws
  /// `TrainingError.invalidSetting` for an invalid configuration.
  public init(_ configuration: Configuration, seed: UInt64) throws {
    try configuration.validate()
    self.configuration = configuration
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    rnn = RecurrentLayer.make(c.cell, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
                              dropout: c.numLayers > 1 ? c.dropout : 0, bidirectional: c.bidirectional, seed: generator.next())
    output = Linear(inputSize: rnn.outputSize, outputSize: c.classCount, generator: &generator)
    dropoutLayer = Dropout(p: c.dropout)
  }

  /// The recurrent stack and the output layer.
  public var children: [(name: String, module: any Module)] { [("rnn", rnn), ("output", output)] }

  /// Log-probabilities `[T, B, C]` of a padded batch `x` `[T, B, inputSize]` with each sequence's
  /// valid length (rows past a length are the output layer's bias through log-softmax, and are
  /// ignored by the loss and the decoders).
  public func callAsFunction(_ x: Tensor, lengths: [Int], context: inout ForwardContext) throws -> Tensor {
    guard x.rank == 3, x.shape[2] == configuration.inputSize else {
      throw TrainingError.invalidSetting(InvalidParameter("input", "shape \(x.shape)", expected: "[T, B, \(configuration.inputSize)]"))
    }
    let h = try rnn(x, state: nil, lengths: lengths, context: &context).output
    return output(dropoutLayer(h, context: &context)).logSoftmax()
  }

  /// The log-probabilities `[T_i][C]` of every sequence of `data` (its valid steps only), in
  /// evaluation mode, computed in length-sorted batches of `batchSize`.
  public func logProbabilities(_ data: CTCDataset, batchSize: Int = 64) throws -> [[[Float]]] {
    var result = [[[Float]]](repeating: [], count: data.count)
    var context = ForwardContext.inference
    let c = configuration.classCount
    try withoutGradients {
      for indices in data.lengthSortedBatches(batchSize: batchSize) {
        let (x, lengths, _) = data.batch(indices)
        let lp = try self(x, lengths: lengths, context: &context).scalars
        let b = indices.count
        for (j, i) in indices.enumerated() {
          result[i] = (0..<lengths[j]).map { t in Array(lp[((t * b + j) * c)..<((t * b + j + 1) * c)]) }
        }
      }
    }
    return result
  }
}
