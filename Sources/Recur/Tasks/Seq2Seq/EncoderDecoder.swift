/// A sequence-to-sequence model: an embedding and a (bi)directional RNN/LSTM/GRU encoder over the
/// source tokens, a bridge from the encoder's final state to the decoder's initial state, and an
/// ``AttentionDecoder``.
///
/// ```
/// memory, (h_n, c_n) = encoder(dropout(source_embedding(x)), lengths)   [S, B, D·H]
/// h_0 = tanh(bridge([→h_n ; ←h_n] of the top layer))                     [B, H_dec]
/// c_0 = bridge_cell([→c_n ; ←c_n])                                       (LSTM)
/// y_t ~ softmax(decoder(y_{t−1}, …, memory, lengths))
/// ```
/// The decoder's width H_dec is the memory width D·H unless `decoderHiddenSize` sets another
/// (a narrower decoder costs less per target token; `dot` attention needs the two equal). Target
/// ids follow ``Seq2SeqVocabulary``: padding 0, unknown 1, start 2, end 3. Parameters are named as
/// a PyTorch module with attributes `source_embedding`, `encoder`, `bridge`, `bridge_cell`, `decoder`.
public final class EncoderDecoder: Module {
  /// Everything needed to rebuild the model's shape (stored in archives).
  public struct Configuration: Sendable, Codable, Equatable {
    /// The recurrent cell of the encoder and the decoder.
    public var cell: RecurrentCellKind = .lstm
    /// Rows of the source embedding (specials included).
    public var sourceVocabularySize: Int
    /// Rows of the target embedding and width of the output (specials included).
    public var targetVocabularySize: Int
    /// Width of the source and target embeddings.
    public var embeddingSize = 128
    /// Hidden width of each encoder direction.
    public var hiddenSize = 256
    /// Stacked encoder layers.
    public var numLayers = 1
    /// Whether the encoder reads the source in both directions.
    public var bidirectional = true
    /// The attention score form, or nil for no attention.
    public var attention: AttentionScore? = .general
    /// Whether the decoder is fed its previous attentional output (ignored without attention).
    public var inputFeeding = true
    /// Dropout on embeddings, between encoder layers and before the output layer (training only).
    public var dropout: Float = 0.2
    /// Width of the decoder state; nil: the memory width D·H (archives written before the option
    /// have no value and keep that width).
    public var decoderHiddenSize: Int?

    /// A configuration with the given vocabulary sizes and default widths.
    public init(sourceVocabularySize: Int, targetVocabularySize: Int) {
      self.sourceVocabularySize = sourceVocabularySize
      self.targetVocabularySize = targetVocabularySize
    }

    /// The width of the encoder's outputs, the attention memory: D·H.
    public var memorySize: Int { (bidirectional ? 2 : 1) * hiddenSize }

    /// The decoder's width: `decoderHiddenSize`, or the memory width.
    public var decoderSize: Int { decoderHiddenSize ?? memorySize }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.require(sourceVocabularySize >= 2, "sourceVocabularySize", sourceVocabularySize, "at least 2 (padding and unknown)")
      try TrainingError.require(targetVocabularySize >= 5, "targetVocabularySize", targetVocabularySize,
                                "at least 5 (padding, unknown, start, end and one token)")
      try TrainingError.requirePositive(["embeddingSize": embeddingSize, "hiddenSize": hiddenSize, "numLayers": numLayers])
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      if let decoderHiddenSize { try TrainingError.requirePositive(["decoderHiddenSize": decoderHiddenSize]) }
      try TrainingError.requireFitsMemory(parameterCount, sizes: [
        "sourceVocabularySize": sourceVocabularySize, "targetVocabularySize": targetVocabularySize, "embeddingSize": embeddingSize,
        "hiddenSize": hiddenSize, "numLayers": numLayers, "decoderHiddenSize": decoderHiddenSize ?? 1])
      // After the memory check, so memorySize cannot overflow.
      if let decoderHiddenSize, attention == .dot {
        try TrainingError.require(decoderHiddenSize == memorySize, "decoderHiddenSize", decoderHiddenSize,
                                  "the memory width \(memorySize) with dot attention (general and additive attention take any width)")
      }
    }

    /// The number of parameters of the model (embeddings, encoder, bridges, decoder cell,
    /// attention and output layers), computed without building it.
    public var parameterCount: SizeTally {
      var tally = SizeTally()
      tally.add(sourceVocabularySize, embeddingSize)
      tally.add(targetVocabularySize, embeddingSize)
      tally.add(RecurrentLayer.parameterCount(cell, inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                              bidirectional: bidirectional))
      let m = (bidirectional ? 2 : 1) * min(hiddenSize, Int.max / 4), d = min(decoderHiddenSize ?? m, Int.max / 4)
      tally.add(cell == .lstm ? 2 : 1, m + 1, d)                       // bridges
      tally.add(RecurrentLayer.parameterCount(cell, inputSize: min(embeddingSize, Int.max / 4) + (inputFeeding ? d : 0), hiddenSize: d))
      if let attention {
        tally.add(d, m + d)                                            // output W_c [c; h]
        switch attention {
        case .dot: break
        case .general: tally.add(d, m)                                 // W_a
        case .additive: tally.add(d, d + m + 2)                        // W_q, W_k and its bias, v
        }
      }
      tally.add(d + 1, targetVocabularySize)                           // output layer
      return tally
    }
  }

  /// The model's shape.
  public let configuration: Configuration
  /// The source embedding.
  public let sourceEmbedding: Embedding
  /// The encoder.
  public let encoder: any SequenceLayer
  /// Maps the encoder's final h to the decoder's initial h.
  public let bridge: Linear
  /// Maps the encoder's final c to the decoder's initial c (LSTM only).
  public let bridgeCell: Linear?
  /// The decoder.
  public let decoder: AttentionDecoder
  let dropout: Dropout

  /// A model with PyTorch's default initialisations drawn from `seed` (source embedding, encoder,
  /// bridges, decoder, in that order). Throws `TrainingError.invalidSetting` for an invalid configuration.
  public init(_ configuration: Configuration, seed: UInt64) throws {
    try configuration.validate()
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    self.configuration = c
    sourceEmbedding = Embedding(count: c.sourceVocabularySize, dimension: c.embeddingSize, generator: &generator)
    encoder = RecurrentLayer.make(c.cell, inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
                                  dropout: c.numLayers > 1 ? c.dropout : 0, bidirectional: c.bidirectional, seed: generator.next())
    bridge = Linear(inputSize: c.memorySize, outputSize: c.decoderSize, generator: &generator)
    bridgeCell = c.cell == .lstm ? Linear(inputSize: c.memorySize, outputSize: c.decoderSize, generator: &generator) : nil
    decoder = try AttentionDecoder(kind: c.cell, vocabularySize: c.targetVocabularySize, embeddingSize: c.embeddingSize,
                                   hiddenSize: c.decoderSize, memorySize: encoder.outputSize, attention: c.attention,
                                   inputFeeding: c.inputFeeding, dropout: c.dropout, generator: &generator)
    dropout = Dropout(p: c.dropout)
  }

  /// The submodules under PyTorch attribute names.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = [("source_embedding", sourceEmbedding), ("encoder", encoder), ("bridge", bridge)]
    if let bridgeCell { result.append(("bridge_cell", bridgeCell)) }
    result.append(("decoder", decoder))
    return result
  }

  /// Encodes a batch of sources (each at least one id): the attention memory (nil without
  /// attention) and the decoder's initial state.
  public func encode(_ sources: [[Int]], context: inout ForwardContext) throws -> (memory: AttentionMemory?, state: DecoderState) {
    let lengths = sources.map(\.count)
    precondition(!sources.isEmpty && lengths.allSatisfy { $0 >= 1 }, "EncoderDecoder.encode: sources must be non-empty")
    let steps = lengths.max()!, batch = sources.count
    var ids = [Int](repeating: Seq2SeqVocabulary.paddingID, count: steps * batch)
    for (b, s) in sources.enumerated() { for (t, id) in s.enumerated() { ids[t * batch + b] = id } }
    let x = dropout(sourceEmbedding(ids, shape: [steps, batch]), context: &context)
    let (outputs, final) = try encoder(x, state: nil, lengths: lengths, context: &context)
    let directions = configuration.bidirectional ? 2 : 1, top = (configuration.numLayers - 1) * directions
    func topLayer(_ s: Tensor) -> Tensor { Tensor.concatenate((0..<directions).map { s[row: top + $0] }, axis: 1) }
    let h = bridge(topLayer(final.h)).tanh()
    let c = final.c.map { bridgeCell!(topLayer($0)) }  // only the LSTM has a cell state, and it always has bridge_cell
    let memory = decoder.attention.map { $0.memory(outputs, lengths: lengths) }
    return (memory, DecoderState(recurrent: RecurrentState(h: h, c: c)))
  }

  /// The mean token cross-entropy of `targets` given `sources` under teacher forcing: the decoder
  /// reads start, y_1 … y_n and is scored on y_1 … y_n, end; padding is ignored.
  public func loss(sources: [[Int]], targets: [[Int]], labelSmoothing: Float = 0, context: inout ForwardContext) throws -> BatchLoss {
    precondition(sources.count == targets.count, "EncoderDecoder.loss: \(sources.count) sources and \(targets.count) targets")
    let (memory, state) = try encode(sources, context: &context)
    let batch = targets.count, steps = (targets.map(\.count).max() ?? 0) + 1
    var inputs = [Int](repeating: Seq2SeqVocabulary.paddingID, count: steps * batch)
    var expected = [Int](repeating: -100, count: steps * batch)
    for (b, y) in targets.enumerated() {
      for t in 0...y.count {
        inputs[t * batch + b] = t == 0 ? Seq2SeqVocabulary.startID : y[t - 1]
        expected[t * batch + b] = t == y.count ? Seq2SeqVocabulary.endID : y[t]
      }
    }
    let (logits, _) = try decoder.teacherForced(inputs, steps: steps, state: state, memory: memory, context: &context)
    let tokens = targets.reduce(0) { $0 + $1.count + 1 }
    return BatchLoss(loss: crossEntropy(logits: logits, targets: expected, labelSmoothing: labelSmoothing), count: tokens)
  }
}
