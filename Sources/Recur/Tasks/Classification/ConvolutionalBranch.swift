/// LSTM-FCN's fully convolutional branch (Karim et al. 2017): blocks of `Conv1d` (same padding)
/// → `BatchNorm1d` → ReLU over the steps, then the average over the valid steps.
///
/// ```
/// z_0 = mask · x                                  [B, F, T] (the steps, channels first)
/// z_k = mask · relu(BN_k(Conv_k(z_{k−1})))         k = 1…K, mask zeroes the steps past each length
/// out = Σ_t z_K[:, :, t] / length                [B, C_K]
/// ```
///
/// Parameters are named as a PyTorch module with `convs = nn.ModuleList([nn.Conv1d(…, padding='same')…])`
/// and `norms = nn.ModuleList([nn.BatchNorm1d(…)…])`: `convs.0.weight`, `norms.0.running_mean`, ….
///
/// Every block's output is zero past each sequence's length before the next convolution reads it,
/// so in evaluation mode a sequence gives the same vector alone and inside a padded batch. In
/// training, the batch statistics of the normalisation count the padded steps too (as PyTorch's
/// would on the same padded batch); batches of equal lengths, as in the UCR archives, are exact.
public final class ConvolutionalBranch: SequenceBranch {
  /// The branch's shape (stored in archives as part of the classifier's configuration).
  public struct Configuration: Sendable, Codable, Equatable {
    /// Output channels of each block.
    public var channels: [Int]
    /// Kernel size of each block.
    public var kernelSizes: [Int]

    /// Blocks of the given widths and kernel sizes; the default is the paper's 128-8, 256-5, 128-3.
    public init(channels: [Int] = [128, 256, 128], kernelSizes: [Int] = [8, 5, 3]) {
      self.channels = channels
      self.kernelSizes = kernelSizes
    }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.require(!channels.isEmpty, "convolution.channels", "[]", "at least one block")
      try TrainingError.require(channels.count == kernelSizes.count, "convolution.kernelSizes", "\(kernelSizes.count) sizes",
                                "one per block (\(channels.count))")
      for c in channels { try TrainingError.require(c >= 1 && c <= 4096, "convolution.channels", c, "in 1…4096") }
      for k in kernelSizes { try TrainingError.require(k >= 1 && k <= 1024, "convolution.kernelSizes", k, "in 1…1024") }
    }
  }

  /// The width of each input step.
  public let inputSize: Int
  /// The convolutions, one per block.
  public let convs: [Conv1d]
  /// The batch normalisations, one per block.
  public let norms: [BatchNorm1d]

  /// Fresh weights (PyTorch's initialisations) drawn from `generator`.
  /// - Throws: `TrainingError.invalidSetting` for an invalid configuration.
  public init(inputSize: Int, configuration: Configuration, generator: inout RandomGenerator) throws {
    try configuration.validate()
    self.inputSize = inputSize
    var convs: [Conv1d] = [], norms: [BatchNorm1d] = []
    var width = inputSize
    for (c, k) in zip(configuration.channels, configuration.kernelSizes) {
      convs.append(try Conv1d(inChannels: width, outChannels: c, kernelSize: k, padding: .same, generator: &generator))
      norms.append(try BatchNorm1d(numFeatures: c))
      width = c
    }
    self.convs = convs
    self.norms = norms
  }

  /// The width of the vector per sequence: the last block's channels.
  public var outputSize: Int { convs.last!.outChannels }

  /// `convs.i` and `norms.i` for every block.
  public var children: [(name: String, module: any Module)] {
    convs.indices.map { ("convs.\($0)", convs[$0] as any Module) } + norms.indices.map { ("norms.\($0)", norms[$0] as any Module) }
  }

  /// `[T, B, inputSize]` → `[B, outputSize]` (steps past each length are never read).
  public func callAsFunction(_ x: Tensor, lengths: [Int], context: inout ForwardContext) throws -> Tensor {
    let steps = x.shape[0], batch = x.shape[1]
    var mask = [Float](repeating: 0, count: batch * steps)
    for (b, n) in lengths.enumerated() { for t in 0..<n { mask[b * steps + t] = 1 } }
    let valid = Tensor(shape: [batch, 1, steps], scalars: mask)
    var z = x.permuted([1, 2, 0]) * valid   // token embeddings of padding are not zero
    for (conv, norm) in zip(convs, norms) {
      z = try norm(try conv(z), context: &context).relu() * valid
    }
    return z.sum(axis: 2) / Tensor(shape: [batch, 1], scalars: lengths.map { Float($0) })
  }
}
