/// One pre-norm residual block around a minGRU or minLSTM layer, the block of the language models
/// of Feng et al. 2024 and their reference code:
/// ```
/// x = x + conv(x)                              (optional causal depthwise convolution, K taps)
/// x = x + dropout(P · rnn(norm(x), h))         rnn: D → E = D·expansion; P: [D, E], none when E = D
/// x = x + dropout(ff(ff_norm(x)))              ff: Linear(D, F) → GELU → Linear(F, D)
/// ```
/// Shapes: `x` `[T, B, D]`; the recurrent state `h` `[1, B, E]`; the convolution context
/// `[K − 1, B, D]`. Dropout (training only) applies to each branch before it is added.
/// State-dict names: `conv.weight`, `conv.bias`, `norm.weight`, `norm.bias`, `rnn.weight_ih_l0`,
/// `rnn.bias_ih_l0`, `proj.weight`, `ff_norm.weight`, `ff_norm.bias`, `ff.0.weight`, `ff.0.bias`,
/// `ff.2.weight`, `ff.2.bias`.
public final class MinimalRecurrentBlock: Module {
  /// The causal convolution, or nil.
  public let conv: CausalDepthwiseConv1d?
  /// The norm before the recurrent layer.
  public let norm: LayerNorm
  /// The recurrent layer (one layer, D → E).
  public let rnn: MinimalRecurrentLayer
  /// E → D, or nil when E = D.
  public let projection: Linear?
  /// The norm before the feed-forward block.
  public let feedForwardNorm: LayerNorm
  /// The feed-forward block.
  public let feedForward: FeedForward
  /// Dropout on each branch (training only).
  public let dropout: Float

  /// A block of model width `modelSize` with freshly drawn weights.
  /// - Throws: `InvalidParameter` for invalid settings.
  public init(kind: MinimalRecurrentKind, modelSize D: Int, settings: ResidualBlockSettings, dropout: Float,
              generator: inout RandomGenerator) throws {
    try settings.validate()
    guard D >= 1 else { throw InvalidParameter("modelSize", D, expected: ">= 1") }
    guard dropout >= 0, dropout < 1 else { throw InvalidParameter("dropout", dropout, expected: "in [0, 1)") }
    let E = settings.innerSize(modelSize: D)
    conv = settings.convolutionKernel > 0
      ? try CausalDepthwiseConv1d(channels: D, kernelSize: settings.convolutionKernel, generator: &generator) : nil
    norm = LayerNorm(D)
    rnn = MinimalRecurrentLayer(kind: kind, inputSize: D, hiddenSize: E, seed: generator.next())
    projection = E != D ? Linear(inputSize: E, outputSize: D, bias: false, generator: &generator) : nil
    feedForwardNorm = LayerNorm(D)
    feedForward = FeedForward(size: D, hiddenSize: settings.feedForwardSize(modelSize: D), generator: &generator)
    self.dropout = dropout
  }

  /// The parts under the names listed above, in that order.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = []
    if let conv { result.append(("conv", conv)) }
    result += [("norm", norm), ("rnn", rnn)]
    if let projection { result.append(("proj", projection)) }
    return result + [("ff_norm", feedForwardNorm), ("ff", feedForward)]
  }

  /// Runs the block over `x` `[T, B, D]` from the state `h` `[1, B, E]` and the convolution
  /// context `[K − 1, B, D]` (zeros when nil).
  /// - Returns: the output `[T, B, D]`, the state after the last step, and the next context (nil
  ///   without a convolution).
  public func callAsFunction(_ x: Tensor, h: Tensor?, convolutionContext: Tensor?, context: inout ForwardContext) throws
    -> (output: Tensor, h: Tensor, convolutionContext: Tensor?) {
    var x = x, nextContext: Tensor? = nil
    if let conv {
      let (y, c) = conv(x, context: convolutionContext)
      x = x + y
      nextContext = c
    }
    let (states, final) = try rnn(norm(x), state: h.map { RecurrentState(h: $0) }, lengths: nil, context: &context)
    x = x + branchDropout(projection.map { $0(states) } ?? states, &context)
    x = x + branchDropout(feedForward(feedForwardNorm(x)), &context)
    return (x, final.h, nextContext)
  }

  private func branchDropout(_ y: Tensor, _ context: inout ForwardContext) -> Tensor {
    context.isTraining && dropout > 0 ? y.dropout(p: dropout, generator: &context.generator) : y
  }
}
