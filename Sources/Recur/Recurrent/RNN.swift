/// Multi-layer Elman RNN, matching `torch.nn.RNN`: h' = act(W_ih x + b_ih + W_hh h + b_hh) with
/// act = tanh or ReLU. Shapes, names, initialisation, dropout and `lengths` as for `LSTM`.
public final class RNN: RecurrentLayer {
  /// The activation: `.tanh` or `.relu`.
  public let nonlinearity: Nonlinearity

  /// An Elman RNN with `torch.nn.RNN`'s arguments in camelCase; the weights are drawn
  /// U(−1/√hiddenSize, 1/√hiddenSize) from a generator seeded by `seed`.
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
              batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false, seed: UInt64 = 0) {
    self.nonlinearity = nonlinearity
    super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize,
               numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
               bidirectional: bidirectional, projSize: 0, seed: seed)
  }
}
