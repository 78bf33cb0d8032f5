/// Multi-layer long short-term memory, matching `torch.nn.LSTM`.
///
/// For each layer and step (gate blocks in the order i, f, g, o):
/// ```
/// i = σ(W_ii x + b_ii + W_hi h + b_hi)     f = σ(W_if x + b_if + W_hf h + b_hf)
/// g = tanh(W_ig x + b_ig + W_hg h + b_hg)  o = σ(W_io x + b_io + W_ho h + b_ho)
/// c' = f ⊙ c + i ⊙ g                       h' = o ⊙ tanh(c')   (h' = W_hr h' with projSize)
/// ```
/// Shapes: input [L, N, H_in] (batchFirst: [N, L, H_in]; unbatched: [L, H_in]); output
/// [L, N, D·H_out]; h [numLayers·D, N, H_out]; c [numLayers·D, N, H_cell], with D = 2 if
/// bidirectional and H_out = projSize if > 0 else hiddenSize.
///
/// Parameters are named as PyTorch's `state_dict` (`weight_ih_l0`, `bias_hh_l1_reverse`, `weight_hr_l0`)
/// and initialised U(−1/√hiddenSize, 1/√hiddenSize). Dropout applies to the outputs of all but the
/// last layer, in training only. `lengths` gives each sequence's true length: outputs past it are
/// zero and the final state is the one at its last step (as with `pack_padded_sequence`).
public final class LSTM: RecurrentLayer {
  /// An LSTM with `torch.nn.LSTM`'s arguments in camelCase (`projSize` > 0 projects h to that
  /// width); the weights are drawn U(−1/√hiddenSize, 1/√hiddenSize) from a generator seeded by `seed`.
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
              dropout: Float = 0, bidirectional: Bool = false, projSize: Int = 0, seed: UInt64 = 0) {
    super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
               batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize, seed: seed)
  }
}
