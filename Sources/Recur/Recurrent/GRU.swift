/// Multi-layer gated recurrent unit, matching `torch.nn.GRU`.
///
/// Gate blocks in the order r, z, n:
/// ```
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)     z = σ(W_iz x + b_iz + W_hz h + b_hz)
/// n = tanh(W_in x + b_in + r ⊙ (W_hn h + b_hn))
/// h' = (1 − z) ⊙ n + z ⊙ h
/// ```
/// Shapes, names, initialisation, dropout and `lengths` as for `LSTM` (no cell state, no projection).
public final class GRU: RecurrentLayer {
  /// A GRU with `torch.nn.GRU`'s arguments in camelCase (no projection); the weights are drawn
  /// U(−1/√hiddenSize, 1/√hiddenSize) from a generator seeded by `seed`.
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
              dropout: Float = 0, bidirectional: Bool = false, seed: UInt64 = 0) {
    super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
               batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: 0, seed: seed)
  }
}
