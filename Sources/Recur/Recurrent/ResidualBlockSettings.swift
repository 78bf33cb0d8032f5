/// The shape of the residual blocks around a minGRU or minLSTM layer (see
/// `ResidualMinimalRecurrentStack`): the layer's expansion, the feed-forward width and the
/// optional causal convolution. Stored in archives beside the model's other sizes.
public struct ResidualBlockSettings: Sendable, Codable, Equatable, Hashable {
  /// The recurrent layer's width as a multiple of the model width (its output is projected back);
  /// 1 means no projection.
  public var expansion: Float
  /// The feed-forward block's inner width as a multiple of the model width.
  public var feedForwardMultiplier: Float
  /// Taps of the causal depthwise convolution before each recurrent layer; 0 for none.
  public var convolutionKernel: Int

  /// The defaults of the minGRU language models of Feng et al. 2024 and their reference code:
  /// expansion 1.5, feed-forward × 4, no convolution.
  public init(expansion: Float = 1.5, feedForwardMultiplier: Float = 4, convolutionKernel: Int = 0) {
    self.expansion = expansion
    self.feedForwardMultiplier = feedForwardMultiplier
    self.convolutionKernel = convolutionKernel
  }

  /// Throws `InvalidParameter` for the first value out of range.
  public func validate() throws {
    guard expansion.isFinite, expansion > 0, expansion <= 64 else { throw InvalidParameter("expansion", expansion, expected: "in (0, 64]") }
    guard feedForwardMultiplier.isFinite, feedForwardMultiplier > 0, feedForwardMultiplier <= 64 else {
      throw InvalidParameter("feedForwardMultiplier", feedForwardMultiplier, expected: "in (0, 64]")
    }
    guard convolutionKernel == 0 || (2...64).contains(convolutionKernel) else {
      throw InvalidParameter("convolutionKernel", convolutionKernel, expected: "0 (none) or in 2...64")
    }
  }

  /// The recurrent layer's width for a model width D: D × expansion, rounded, at least 1.
  public func innerSize(modelSize: Int) -> Int { Self.scaled(modelSize, expansion) }

  /// The feed-forward block's inner width for a model width D: D × multiplier, rounded, at least 1.
  public func feedForwardSize(modelSize: Int) -> Int { Self.scaled(modelSize, feedForwardMultiplier) }

  /// size × factor rounded, in 1 ... 2⁵⁰ (a larger size fails the memory check, never traps here).
  static func scaled(_ size: Int, _ factor: Float) -> Int {
    let v = (Double(size) * Double(factor)).rounded()
    return v.isFinite ? Int(Swift.min(Swift.max(v, 1), 0x1p50)) : 1
  }

  /// The parameters of a `ResidualMinimalRecurrentStack` of `kind` with these blocks, computed
  /// without building it.
  public func parameterCount(kind: MinimalRecurrentKind, inputSize: Int, modelSize D: Int, numBlocks: Int) -> SizeTally {
    var tally = SizeTally()
    let E = innerSize(modelSize: D), F = feedForwardSize(modelSize: D), G = kind.gateCount
    // Every block's parameters, times the blocks (products only: no sum of sizes can overflow).
    func perBlock(_ factors: Int...) { tally.add(product: [numBlocks] + factors) }
    if convolutionKernel > 0 { perBlock(D, convolutionKernel + 1) }  // conv weight [D, 1, K], bias
    perBlock(4, D)                                                  // norm, ff_norm
    perBlock(G, E, D); perBlock(G, E)                               // rnn W_ih, b_ih
    if E != D { perBlock(D, E) }                                    // proj (no bias)
    perBlock(F, D); perBlock(F); perBlock(D, F); perBlock(D)        // ff.0, ff.2
    if inputSize != D { tally.add(D, inputSize); tally.add(D) }     // input
    tally.add(2, D)                                                 // final norm
    return tally
  }
}
