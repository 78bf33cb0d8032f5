/// The decoder of an encoder-decoder: an RNN, LSTM or GRU cell fed the previous target token's
/// embedding (and, with input feeding, the previous attentional output), attending over the encoder
/// memory, with a linear layer to target-token scores.
///
/// ```
/// x_t  = dropout(embedding(y_{t−1}))  [; h̃_{t−1} with input feeding]
/// h_t  = rnn(x_t, h_{t−1})                           LSTMCell / GRUCell / RNNCell
/// h̃_t = attention(h_t, memory, lengths)              or h_t without attention
/// logits_t = output(dropout(h̃_t))                     [B, V]
/// ```
/// Parameters (PyTorch names): `embedding.weight`, `rnn.weight_ih` … (a `torch.nn.LSTMCell` or
/// its GRU/RNN kin), `attention.*` (see ``Attention``), `output.weight`, `output.bias`. The memory
/// and its padding mask (the source lengths) are passed to every step explicitly, so the same
/// module serves teacher forcing, greedy decoding and beam search.
public final class AttentionDecoder: Module {
  /// The recurrent cell.
  public let kind: RecurrentCellKind
  /// V, the number of target tokens.
  public let vocabularySize: Int
  /// Width of the target embedding.
  public let embeddingSize: Int
  /// H, the width of the decoder state.
  public let hiddenSize: Int
  /// Whether h̃_{t−1} is fed back with the next input (Luong et al. 2015).
  public let inputFeeding: Bool
  /// The target embedding.
  public let embedding: Embedding
  /// The decoder cell.
  public let rnn: RecurrentCell
  /// The attention over the encoder memory (nil: a plain encoder-decoder).
  public let attention: Attention?
  /// Maps h̃_t to V token scores.
  public let output: Linear
  let dropout: Dropout

  /// A decoder with PyTorch's default initialisations drawn from `generator` (embedding, cell,
  /// attention, output, in that order). `memorySize` is the encoder output width; `attention` nil
  /// builds a decoder without attention (and without input feeding).
  public init(kind: RecurrentCellKind, vocabularySize: Int, embeddingSize: Int, hiddenSize: Int, memorySize: Int,
              attention score: AttentionScore?, inputFeeding: Bool, dropout: Float, generator: inout RandomGenerator) throws {
    self.kind = kind
    self.vocabularySize = vocabularySize
    self.embeddingSize = embeddingSize
    self.hiddenSize = hiddenSize
    self.inputFeeding = inputFeeding && score != nil
    embedding = Embedding(count: vocabularySize, dimension: embeddingSize, generator: &generator)
    rnn = RecurrentCell(kind: kind, inputSize: embeddingSize + (self.inputFeeding ? hiddenSize : 0), hiddenSize: hiddenSize,
                        bias: true, seed: generator.next())
    attention = try score.map { try Attention(score: $0, querySize: hiddenSize, memorySize: memorySize, generator: &generator) }
    output = Linear(inputSize: hiddenSize, outputSize: vocabularySize, generator: &generator)
    self.dropout = Dropout(p: dropout)
  }

  /// The submodules under PyTorch attribute names.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = [("embedding", embedding), ("rnn", rnn)]
    if let attention { result.append(("attention", attention)) }
    result.append(("output", output))
    return result
  }

  /// One step from already embedded inputs `[B, E]`: the new state, h̃_t `[B, H]` and the
  /// attention weights `[B, S]` (nil without attention).
  public func step(embedded: Tensor, state: DecoderState, memory: AttentionMemory?) throws
    -> (output: Tensor, state: DecoderState, weights: Tensor?) {
    var x = embedded
    if inputFeeding {
      let feed = state.feed ?? Tensor.zeros([embedded.shape[0], hiddenSize])
      x = Tensor.concatenate([embedded, feed], axis: 1)
    }
    let next = try rnn.step(x, h: state.recurrent.h, c: state.recurrent.c)
    let recurrent = RecurrentState(h: next.h, c: next.c)
    guard let attention else { return (next.h, DecoderState(recurrent: recurrent), nil) }
    guard let memory else { throw TrainingError.invalidSetting(InvalidParameter("memory", "nil", expected: "the encoder memory of an attention decoder")) }
    let (out, weights) = attention(next.h, memory: memory)
    return (out, DecoderState(recurrent: recurrent, feed: inputFeeding ? out : nil), weights)
  }

  /// One step from the previous tokens (one id per row): h̃_t, the new state and the weights.
  public func step(_ previous: [Int], state: DecoderState, memory: AttentionMemory?, context: inout ForwardContext) throws
    -> (output: Tensor, state: DecoderState, weights: Tensor?) {
    try step(embedded: dropout(embedding(previous), context: &context), state: state, memory: memory)
  }

  /// Token scores `[*, V]` of attentional outputs `[*, H]` (dropout first, in training).
  public func logits(_ outputs: Tensor, context: inout ForwardContext) -> Tensor {
    output(dropout(outputs, context: &context))
  }

  /// Teacher forcing: runs the decoder over `inputs` (token ids `[T, B]`, time-major) and returns
  /// the token scores `[T, B, V]` and the attention weights of every step `[T][B, S]`.
  ///
  /// Without input feeding the cell's inputs do not depend on the attention, so the cell runs over
  /// all T steps as one fused sequence (like an `LSTM` layer) and the attention over all T·B
  /// queries at once: the same values as stepping, with a few large matrix products instead of
  /// many small ones. With input feeding it steps.
  public func teacherForced(_ inputs: [Int], steps: Int, state: DecoderState, memory: AttentionMemory?,
                            context: inout ForwardContext) throws -> (logits: Tensor, weights: [Tensor]) {
    precondition(steps > 0 && inputs.count % steps == 0, "teacherForced: \(inputs.count) ids do not fill \(steps) steps")
    let batch = inputs.count / steps
    let embedded = dropout(embedding(inputs, shape: [steps, batch]), context: &context)
    if !inputFeeding {
      let h0 = state.recurrent.h.reshaped([1, batch, hiddenSize]), c0 = state.recurrent.c?.reshaped([1, batch, hiddenSize])
      var outputs = rnn.stack.run(x: embedded, h0: h0, c0: c0, lengths: nil, training: context.isTraining,
                                  generator: &context.generator).output  // [T, B, H]
      guard let attention else { return (logits(outputs, context: &context), []) }
      guard let memory else {
        throw TrainingError.invalidSetting(InvalidParameter("memory", "nil", expected: "the encoder memory of an attention decoder"))
      }
      // Query row t·B + b attends to source b (the attention reads row r's source as r mod B).
      let (out, weights) = attention(outputs.reshaped([steps * batch, hiddenSize]), memory: memory)
      outputs = out.reshaped([steps, batch, hiddenSize])
      let perStep = weights.reshaped([steps, batch, weights.shape[1]])
      return (logits(outputs, context: &context), (0..<steps).map { perStep[row: $0] })
    }
    var state = state
    var outputs: [Tensor] = [], weights: [Tensor] = []
    for t in 0..<steps {
      let r = try step(embedded: embedded[row: t], state: state, memory: memory)
      state = r.state
      outputs.append(r.output)
      if let w = r.weights { weights.append(w) }
    }
    return (logits(Tensor.stack(outputs), context: &context), weights)
  }
}
