/// A sequence classifier: token ids (embedding) or numeric frames → a recurrent stack (uni- or
/// bidirectional) → pooling over the valid steps → a small MLP head → class logits.
///
/// ```
/// x_t = E[token_t]  or  frame_t                 E: [V, embeddingSize], padding id 0
/// h = RNN(x, lengths)                           LSTM, GRU or tanh RNN, numLayers × hiddenSize × D
/// p = pool(h over t < length)                   last, mean, max or additive attention
/// [p ; branch(x) ; bag(tokens)]                  LSTM-FCN's convolutional branch, a bag of n-grams, when configured
/// logits = W2 · dropout(relu(W1 · dropout(p) + b1)) + b2
/// ```
///
/// Parameters are named as a PyTorch module with attributes `embedding` (tokens only), `rnn`,
/// `attention` (attention pooling only: `attention.proj.weight`, `attention.proj.bias`,
/// `attention.v.weight`), `branch` (when present) and `head = nn.Sequential(nn.Linear,
/// nn.ReLU, nn.Dropout, nn.Linear)` (`head.0.weight` … `head.3.bias`) names them.
///
/// Every sequence runs with its length, and every pooling mode reads only valid steps, so a
/// sequence's logits are the same alone and inside a padded batch.
public final class SequenceClassifier: Module {
  /// Everything needed to rebuild the model's shape (stored in archives).
  public struct Configuration: Sendable, Codable, Equatable {
    /// Token vocabulary size V (id 0 is padding) for token input, or nil for numeric frames.
    public var vocabularySize: Int?
    /// Width of each numeric frame F (frame input), ignored for tokens.
    public var featureCount: Int
    /// Width of the token embeddings.
    public var embeddingSize: Int
    /// The recurrent cell.
    public var cell: RecurrentCellKind
    /// Units per recurrent layer and direction.
    public var hiddenSize: Int
    /// Recurrent layers stacked.
    public var numLayers: Int
    /// Whether each layer also reads the sequence backwards.
    public var bidirectional: Bool
    /// Dropout between recurrent layers, on the pooled vector and inside the head (training only).
    public var dropout: Float
    /// How the steps are pooled.
    public var pooling: SequencePooling
    /// Width of the attention's hidden layer (attention pooling only).
    public var attentionSize: Int
    /// Width of the head's hidden layer.
    public var headSize: Int
    /// Number of classes C.
    public var classCount: Int
    /// LSTM-FCN's convolutional branch beside the recurrent stack (over the frames or the token
    /// embeddings), or nil.
    public var convolution: ConvolutionalBranch.Configuration?
    /// A bag of token n-grams beside the recurrent stack (token input only), or nil.
    public var ngrams: NgramBag.Configuration?

    /// A configuration; the sizes of the data (vocabulary, features, classes) usually come from it.
    public init(vocabularySize: Int? = nil, featureCount: Int = 1, embeddingSize: Int = 64, cell: RecurrentCellKind = .lstm,
                hiddenSize: Int = 128, numLayers: Int = 1, bidirectional: Bool = true, dropout: Float = 0.2,
                pooling: SequencePooling = .max, attentionSize: Int = 64, headSize: Int = 64, classCount: Int,
                convolution: ConvolutionalBranch.Configuration? = nil, ngrams: NgramBag.Configuration? = nil) {
      self.vocabularySize = vocabularySize
      self.featureCount = featureCount
      self.embeddingSize = embeddingSize
      self.cell = cell
      self.hiddenSize = hiddenSize
      self.numLayers = numLayers
      self.bidirectional = bidirectional
      self.dropout = dropout
      self.pooling = pooling
      self.attentionSize = attentionSize
      self.headSize = headSize
      self.classCount = classCount
      self.convolution = convolution
      self.ngrams = ngrams
    }

    /// The width of each step fed to the recurrent stack.
    public var inputSize: Int { vocabularySize == nil ? featureCount : embeddingSize }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      if let v = vocabularySize { try TrainingError.require(v >= 2, "vocabularySize", v, "at least 2 (padding and one token)") }
      try TrainingError.require(featureCount >= 1, "featureCount", featureCount, "a positive integer")
      try TrainingError.require(embeddingSize >= 1, "embeddingSize", embeddingSize, "a positive integer")
      try TrainingError.require(hiddenSize >= 1, "hiddenSize", hiddenSize, "a positive integer")
      try TrainingError.require(numLayers >= 1, "numLayers", numLayers, "a positive integer")
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      try TrainingError.require(attentionSize >= 1, "attentionSize", attentionSize, "a positive integer")
      try TrainingError.require(headSize >= 1, "headSize", headSize, "a positive integer")
      try TrainingError.require(classCount >= 2, "classCount", classCount, "at least 2")
      try convolution?.validate()
      if let ngrams {
        try TrainingError.require(vocabularySize != nil, "ngrams", "a bag of n-grams", "token input (a vocabulary)")
        try ngrams.validate()
      }
      try TrainingError.requireFitsMemory(parameterCount, sizes: [
        "vocabularySize": vocabularySize ?? 0, "featureCount": featureCount, "embeddingSize": embeddingSize, "hiddenSize": hiddenSize,
        "numLayers": numLayers, "attentionSize": attentionSize, "headSize": headSize, "classCount": classCount])
    }

    /// The number of parameters of the model, computed without building it.
    public var parameterCount: SizeTally {
      var tally = SizeTally()
      if let v = vocabularySize { tally.add(v, embeddingSize) }
      tally.add(RecurrentLayer.parameterCount(cell, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                              bidirectional: bidirectional))
      let output = (bidirectional ? 2 : 1) * min(hiddenSize, Int.max / 2)
      if pooling == .attention {
        tally.add(output, attentionSize)
        tally.add(2, attentionSize)
      }
      var headInput = SizeTally()
      headInput.add(output)
      if let convolution {
        var width = inputSize
        for (c, k) in zip(convolution.channels, convolution.kernelSizes) {
          tally.add(width, c, k)
          tally.add(3, c)   // conv bias, norm weight and bias
          width = c
        }
        headInput.add(convolution.channels.last ?? 0)
      }
      if let ngrams, let v = vocabularySize {
        tally.add(v, ngrams.dimension)
        if ngrams.order > 1 { tally.add(ngrams.buckets, ngrams.dimension) }
        headInput.add(ngrams.dimension)
      }
      tally.add(headInput.total ?? -1, headSize)
      tally.add(headSize)
      tally.add(headSize, classCount)
      tally.add(classCount)
      return tally
    }
  }

  /// The model's shape.
  public let configuration: Configuration
  /// Token embeddings `[V, embeddingSize]` (token input only).
  public let embedding: Embedding?
  /// The recurrent stack.
  public let rnn: any SequenceLayer
  /// The attention pooling (`.attention` only).
  public let attention: AdditiveAttentionPooling?
  /// The branch beside the recurrent stack whose vector is concatenated to the pooled one
  /// before the head (LSTM-FCN's convolutional branch), when the configuration has one.
  public let branch: (any SequenceBranch)?
  /// The bag of n-grams (token input with `configuration.ngrams` only).
  public let ngrams: NgramBag?
  /// The MLP head.
  public let head: ClassifierHead
  let dropoutLayer: Dropout

  /// A freshly initialised model (PyTorch's default initialisations, drawn from `seed`).
  /// Throws `TrainingError.invalidSetting` for an invalid configuration.
  public init(_ configuration: Configuration, seed: UInt64) throws {
    try configuration.validate()
    self.configuration = configuration
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    embedding = c.vocabularySize.map { Embedding(count: $0, dimension: c.embeddingSize, generator: &generator) }
    rnn = RecurrentLayer.make(c.cell, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
                              dropout: c.numLayers > 1 ? c.dropout : 0, bidirectional: c.bidirectional, seed: generator.next())
    attention = c.pooling == .attention
      ? AdditiveAttentionPooling(inputSize: rnn.outputSize, attentionSize: c.attentionSize, generator: &generator) : nil
    branch = try c.convolution.map { try ConvolutionalBranch(inputSize: c.inputSize, configuration: $0, generator: &generator) }
    ngrams = try c.ngrams.map { try NgramBag(vocabularySize: c.vocabularySize!, configuration: $0, generator: &generator) }
    head = ClassifierHead(inputSize: rnn.outputSize + (branch?.outputSize ?? 0) + (ngrams?.outputSize ?? 0), hiddenSize: c.headSize,
                          classCount: c.classCount, dropout: c.dropout, generator: &generator)
    dropoutLayer = Dropout(p: c.dropout)
  }

  /// The embedding, the recurrent stack, the attention, the branch, the n-gram bag and the head, in that order.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = []
    if let embedding { result.append(("embedding", embedding)) }
    result.append(("rnn", rnn))
    if let attention { result.append(("attention", attention)) }
    if let branch { result.append(("branch", branch)) }
    if let ngrams { result.append(("ngrams", ngrams)) }
    result.append(("head", head))
    return result
  }

  /// The steps fed to the recurrent stack, `[T, B, inputSize]`.
  func inputs(_ input: ClassifierInput) throws -> Tensor {
    switch input {
    case let .tokens(ids, steps, batchSize):
      guard let embedding else { throw TrainingError.invalidSetting(InvalidParameter("input", "token ids", expected: "numeric frames for this model")) }
      return embedding(ids, shape: [steps, batchSize])
    case let .frames(x):
      guard embedding == nil else { throw TrainingError.invalidSetting(InvalidParameter("input", "numeric frames", expected: "token ids for this model")) }
      guard x.rank == 3, x.shape[2] == configuration.featureCount else {
        throw TrainingError.invalidSetting(InvalidParameter("input", "shape \(x.shape)", expected: "[T, B, \(configuration.featureCount)]"))
      }
      return x
    }
  }

  /// The pooled vector `[B, D·H]` (plus the attention weights `[B, T]` for attention pooling).
  func pooled(_ input: ClassifierInput, lengths: [Int], context: inout ForwardContext) throws -> (x: Tensor, pooled: Tensor, weights: Tensor?) {
    let x = try inputs(input)
    let output = try rnn(x, state: nil, lengths: lengths, context: &context).output
    if let attention {
      let (p, w) = attention(output, lengths: lengths)
      return (x, p, w)
    }
    let p = configuration.pooling.pool(output, lengths: lengths, directions: configuration.bidirectional ? 2 : 1, attention: nil)
    return (x, p, nil)
  }

  /// Class logits `[B, C]` for a padded batch.
  /// - Parameters:
  ///   - input: token ids `[T, B]` (time-major, padding id 0) or frames `[T, B, F]`.
  ///   - lengths: each sequence's valid length, 1…T.
  ///   - context: training mode and the generator of the dropout masks.
  public func callAsFunction(_ input: ClassifierInput, lengths: [Int], context: inout ForwardContext) throws -> Tensor {
    let (x, p, _) = try pooled(input, lengths: lengths, context: &context)
    var features = dropoutLayer(p, context: &context)
    if let branch { features = Tensor.concatenate([features, try branch(x, lengths: lengths, context: &context)], axis: 1) }
    if let ngrams, case let .tokens(ids, steps, batchSize) = input {
      features = Tensor.concatenate([features, dropoutLayer(ngrams(ids, steps: steps, batchSize: batchSize, lengths: lengths), context: &context)], axis: 1)
    }
    return head(features, context: &context)
  }

  /// The attention weights `[B, T]` of a batch in evaluation mode (nil unless the pooling is
  /// `.attention`): row b sums to 1 over its valid steps and is 0 past its length.
  public func attentionWeights(_ input: ClassifierInput, lengths: [Int]) throws -> Tensor? {
    var context = ForwardContext.inference
    return try withoutGradients { try pooled(input, lengths: lengths, context: &context).weights }
  }
}

/// A padded batch for a `SequenceClassifier`.
public enum ClassifierInput {
  /// Token ids `[steps, batchSize]`, time-major, flattened; 0 is padding.
  case tokens([Int], steps: Int, batchSize: Int)
  /// Numeric frames `[T, B, F]` (zero past each length).
  case frames(Tensor)
}

/// A module beside the recurrent stack that maps the same steps `[T, B, inputSize]` (with
/// lengths) to one vector `[B, outputSize]` per sequence, concatenated to the pooled recurrent
/// output before the head — the seam for LSTM-FCN's convolutional branch.
public protocol SequenceBranch: Module {
  /// The width of each input step.
  var inputSize: Int { get }
  /// The width of the vector per sequence.
  var outputSize: Int { get }
  /// `[T, B, inputSize]` → `[B, outputSize]`, reading only valid steps.
  func callAsFunction(_ x: Tensor, lengths: [Int], context: inout ForwardContext) throws -> Tensor
}

/// The classifier's MLP head, `nn.Sequential(Linear(I, S), ReLU(), Dropout(p), Linear(S, C))`:
/// parameters `0.weight`, `0.bias`, `3.weight`, `3.bias`.
public final class ClassifierHead: Module {
  /// The hidden layer `[S, I]`.
  public let hidden: Linear
  /// The output layer `[C, S]`.
  public let output: Linear
  let dropoutLayer: Dropout

  /// Fresh weights from `generator`.
  public init(inputSize: Int, hiddenSize: Int, classCount: Int, dropout: Float, generator: inout RandomGenerator) {
    hidden = Linear(inputSize: inputSize, outputSize: hiddenSize, generator: &generator)
    output = Linear(inputSize: hiddenSize, outputSize: classCount, generator: &generator)
    dropoutLayer = Dropout(p: dropout)
  }

  /// The two linear layers at their `nn.Sequential` indices.
  public var children: [(name: String, module: any Module)] { [("0", hidden), ("3", output)] }

  /// `[B, I]` → logits `[B, C]`.
  public func callAsFunction(_ x: Tensor, context: inout ForwardContext) -> Tensor {
    output(dropoutLayer(hidden(x).relu(), context: &context))
  }
}
