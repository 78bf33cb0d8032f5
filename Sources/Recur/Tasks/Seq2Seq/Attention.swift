/// The encoder memory an ``Attention`` reads at every decoder step, prepared once per batch.
public struct AttentionMemory {
  /// The encoder outputs, batch first `[B, S, H_mem]` (zero past each length).
  public var values: Tensor
  /// The memory as the score function sees it: `values` for dot, `W_a·values` `[B, S, H_dec]` for
  /// general, `U·values + b` `[B, S, A]` for additive.
  public var keys: Tensor
  /// The source lengths (1…S): positions at or past a length are padding and get no weight.
  public var lengths: [Int]

  /// The rows `rows` of every part (beam search reorders and repeats sources with it).
  public func selecting(rows: [Int]) -> AttentionMemory {
    func select(_ t: Tensor) -> Tensor {
      let (S, W) = (t.shape[1], t.shape[2])
      return t.reshaped([t.shape[0], S * W]).gatherRows(rows).reshaped([rows.count, S, W])
    }
    return AttentionMemory(values: select(values), keys: select(keys), lengths: rows.map { lengths[$0] })
  }
}

/// Global attention with Luong's attentional output, for any of the ``AttentionScore`` forms:
///
/// ```
/// a_t = softmax over s < length of score(h_t, m_s)     (padding masked out)
/// c_t = Σ_s a_t[s] m_s
/// h̃_t = tanh(W_c [c_t ; h_t])
/// ```
/// Shapes: memory `[B, S, H_mem]`, query h_t `[B, H_dec]`, output h̃_t `[B, H_dec]`, weights `[B, S]`.
///
/// Parameters (PyTorch names): `linear_in.weight` `[H_dec, H_mem]` (general); `linear_query.weight`
/// `[A, H_dec]`, `linear_context.weight` `[A, H_mem]`, `linear_context.bias`, `v.weight` `[1, A]`
/// (additive, A = H_dec); `linear_out.weight` `[H_dec, H_mem + H_dec]` (all forms; no bias, as in
/// Luong et al.). Matches `Tools/Reference/seq2seq.py`'s `Attention`, the layout of OpenNMT's
/// `GlobalAttention` with the memory projected once per batch instead of the query at every step.
public final class Attention: Module {
  /// The score function.
  public let score: AttentionScore
  /// H_dec, the width of the decoder state (and of the output).
  public let querySize: Int
  /// H_mem, the width of each memory position.
  public let memorySize: Int
  let linearIn: Linear?
  let linearQuery: Linear?
  let linearContext: Linear?
  let v: Linear?
  let linearOut: Linear

  /// An attention of `score` form with PyTorch's `Linear` initialisation drawn from `generator`
  /// (in parameter order). Throws `TrainingError.invalidSetting` when `dot` is asked for with
  /// different query and memory widths.
  public init(score: AttentionScore, querySize: Int, memorySize: Int, generator: inout RandomGenerator) throws {
    if score == .dot {
      try TrainingError.require(querySize == memorySize, "attention", "dot",
                                "general or additive when the decoder width \(querySize) differs from the memory width \(memorySize)")
    }
    self.score = score
    self.querySize = querySize
    self.memorySize = memorySize
    linearIn = score == .general ? Linear(inputSize: memorySize, outputSize: querySize, bias: false, generator: &generator) : nil
    linearQuery = score == .additive ? Linear(inputSize: querySize, outputSize: querySize, bias: false, generator: &generator) : nil
    linearContext = score == .additive ? Linear(inputSize: memorySize, outputSize: querySize, generator: &generator) : nil
    v = score == .additive ? Linear(inputSize: querySize, outputSize: 1, bias: false, generator: &generator) : nil
    linearOut = Linear(inputSize: memorySize + querySize, outputSize: querySize, bias: false, generator: &generator)
  }

  /// The projections under PyTorch attribute names.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = []
    if let linearIn { result.append(("linear_in", linearIn)) }
    if let linearQuery, let linearContext, let v {
      result += [("linear_query", linearQuery), ("linear_context", linearContext), ("v", v)]
    }
    result.append(("linear_out", linearOut))
    return result
  }

  /// The memory of a batch: encoder outputs `[S, B, H_mem]` (time-major, as a ``SequenceLayer``
  /// returns them) and the source lengths.
  public func memory(_ outputs: Tensor, lengths: [Int]) -> AttentionMemory {
    precondition(outputs.rank == 3 && outputs.shape[2] == memorySize && lengths.count == outputs.shape[1],
                 "Attention.memory: outputs \(outputs.shape) and \(lengths.count) lengths do not fit memory width \(memorySize)")
    let values = outputs.transposed(0, 1)
    let keys: Tensor
    switch score {
    case .dot: keys = values
    case .general: keys = linearIn!(values)
    case .additive: keys = linearContext!(values)
    }
    return AttentionMemory(values: values, keys: keys, lengths: lengths)
  }

  /// One step: the attentional output h̃_t `[B, H_dec]` and the weights `[B, S]` for the decoder
  /// state `query` `[B, H_dec]` over `memory` (its padding masked by its lengths). Several steps
  /// at once: `query` `[n·B, H_dec]` with row r reading source r mod B (time-major rows t·B + b).
  public func callAsFunction(_ query: Tensor, memory: AttentionMemory) -> (output: Tensor, weights: Tensor) {
    let sources = memory.values.shape[0]
    precondition(query.rank == 2 && query.shape[1] == querySize && query.shape[0] % sources == 0,
                 "Attention: query \(query.shape) is not [n·\(sources), \(querySize)]")
    let scores: Tensor
    switch score {
    case .dot, .general: scores = Tensor.attentionDotScores(query: query, keys: memory.keys)
    case .additive: scores = Tensor.attentionAdditiveScores(query: linearQuery!(query), keys: memory.keys, v: v!.weight.value)
    }
    let (context, weights) = Tensor.maskedAttention(scores: scores, values: memory.values, lengths: memory.lengths)
    return (linearOut(Tensor.concatenate([context, query], axis: 1)).tanh(), weights)
  }
}
