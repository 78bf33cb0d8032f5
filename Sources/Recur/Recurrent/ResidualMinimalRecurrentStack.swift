/// A language-model body built from minGRU or minLSTM layers the way Feng et al. 2024 ("Were RNNs
/// All We Needed?") and their reference implementations build it: an optional input projection,
/// `numBlocks` pre-norm residual blocks (`MinimalRecurrentBlock`: optional causal convolution,
/// recurrent layer with expansion, feed-forward), and a final norm.
/// ```
/// x = input(x)                    Linear(inputSize, D), only when inputSize ≠ D
/// x = block_i(x)                  i = 0 ..< numBlocks
/// y = norm(x)
/// ```
/// Shapes: input `[T, B, inputSize]`, output `[T, B, D]`. The state is `h` `[numBlocks, B, E]`
/// (each block's recurrent state) and, with a convolution of K taps, `c` `[numBlocks, B, (K−1)·D]`
/// (each block's last K − 1 convolution inputs, step-major), so truncated BPTT, generation one
/// step at a time and row selection on the batch axis work as they do for an LSTM's state.
/// Calling it on a whole sequence and step by step with the carried state give the same outputs.
///
/// Adopts `SequenceLayer`, so `CharLM` and every command that loads a char LM use it unchanged.
/// Per-sequence `lengths` are not supported (a language model's windows are full).
public final class ResidualMinimalRecurrentStack: SequenceLayer {
  /// The recurrent layer of every block.
  public let kind: MinimalRecurrentKind
  /// The width of each input step.
  public let inputSize: Int
  /// D, the width of the residual stream and of the output.
  public let modelSize: Int
  /// The block settings.
  public let settings: ResidualBlockSettings
  /// `[D, inputSize]`, or nil when inputSize = D.
  public let inputProjection: Linear?
  /// The residual blocks.
  public let blocks: [MinimalRecurrentBlock]
  /// The final norm.
  public let norm: LayerNorm

  /// A stack with freshly drawn weights (`seed` seeds the generator).
  /// - Throws: `InvalidParameter` for invalid sizes or settings.
  public init(kind: MinimalRecurrentKind, inputSize: Int, modelSize: Int, numBlocks: Int, settings: ResidualBlockSettings = .init(),
              dropout: Float = 0, seed: UInt64 = 0) throws {
    guard inputSize >= 1 else { throw InvalidParameter("inputSize", inputSize, expected: ">= 1") }
    guard numBlocks >= 1 else { throw InvalidParameter("numBlocks", numBlocks, expected: ">= 1") }
    self.kind = kind
    self.inputSize = inputSize
    self.modelSize = modelSize
    self.settings = settings
    var generator = RandomGenerator(seed: seed)
    inputProjection = inputSize != modelSize && modelSize >= 1 ? Linear(inputSize: inputSize, outputSize: modelSize, generator: &generator) : nil
    blocks = try (0..<numBlocks).map { _ in
      try MinimalRecurrentBlock(kind: kind, modelSize: modelSize, settings: settings, dropout: dropout, generator: &generator)
    }
    norm = LayerNorm(modelSize)
  }

  /// D.
  public var outputSize: Int { modelSize }
  /// E, the width of each block's recurrent state.
  public var innerSize: Int { settings.innerSize(modelSize: modelSize) }

  /// `input` (when present), `blocks.0`, `blocks.1`, …, `norm`: the names of a PyTorch module
  /// with an `nn.ModuleList` called `blocks`.
  public var children: [(name: String, module: any Module)] {
    var result: [(name: String, module: any Module)] = []
    if let inputProjection { result.append(("input", inputProjection)) }
    for (i, block) in blocks.enumerated() { result.append(("blocks.\(i)", block)) }
    result.append(("norm", norm))
    return result
  }

  /// Zeros: `h` `[numBlocks, B, E]` and, with a convolution, `c` `[numBlocks, B, (K−1)·D]`.
  public func zeroState(batchSize: Int) -> RecurrentState {
    RecurrentState(h: .zeros([blocks.count, batchSize, innerSize]),
                   c: settings.convolutionKernel > 0 ? .zeros([blocks.count, batchSize, (settings.convolutionKernel - 1) * modelSize]) : nil)
  }

  /// Runs the stack over `x` `[T, B, inputSize]` from `state` (zeros when nil); see `SequenceLayer`.
  public func callAsFunction(_ x: Tensor, state: RecurrentState?, lengths: [Int]?, context: inout ForwardContext) throws
    -> (output: Tensor, state: RecurrentState) {
    let name = "residual \(kind.displayName) stack"
    guard x.rank == 3 else { throw RecurrentError("\(name): Expected input to be 3D [T, B, input], got shape \(x.shape)") }
    guard x.shape[2] == inputSize else {
      throw RecurrentError("input.size(-1) must be equal to input_size. Expected \(inputSize), got \(x.shape[2])")
    }
    let T = x.shape[0], B = x.shape[1], K = settings.convolutionKernel, D = modelSize
    guard T > 0, B > 0 else { throw RecurrentError("\(name): input has an empty sequence or batch (shape \(x.shape))") }
    if lengths != nil { throw RecurrentError("\(name): per-sequence lengths are not supported; pass full windows (lengths nil)") }
    let zero = zeroState(batchSize: B)
    if let h = state?.h, h.shape != zero.h.shape { throw RecurrentError.shape("hidden size", expected: zero.h.shape, got: h.shape) }
    switch (state?.c, zero.c) {
    case (let c?, let expected?) where c.shape != expected.shape:
      throw RecurrentError.shape("convolution context size", expected: expected.shape, got: c.shape)
    case (.some, nil):
      throw RecurrentError("\(name): a second state tensor was given, but this stack has no convolution")
    default: break
    }
    var y = inputProjection.map { $0(x) } ?? x
    var finals: [Tensor] = [], contexts: [Tensor] = []
    for (i, block) in blocks.enumerated() {
      let h = state.map { $0.h.slice(i..<(i + 1)) }
      // The stored context [B, (K−1)·D] is step-major per row; the convolution reads [K−1, B, D].
      let c = state?.c.map { $0.slice(i..<(i + 1)).reshaped([B, K - 1, D]).permuted([1, 0, 2]) }
      let out = try block(y, h: h, convolutionContext: c, context: &context)
      y = out.output
      finals.append(out.h)
      if let next = out.convolutionContext { contexts.append(next.permuted([1, 0, 2]).reshaped([1, B, (K - 1) * D])) }
    }
    return (norm(y), RecurrentState(h: Tensor.concatenate(finals, axis: 0), c: contexts.isEmpty ? nil : Tensor.concatenate(contexts, axis: 0)))
  }
}
