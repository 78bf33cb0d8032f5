/// The (h, c) state of an LSTM: h [L·D, B, H_out], c [L·D, B, H] (unbatched: without the B axis).
public struct LSTMState {
  public var h: Tensor
  public var c: Tensor
  public init(h: Tensor, c: Tensor) { self.h = h; self.c = c }
  /// The state cut from the tape: pass it to the next window for truncated BPTT.
  public func detached() -> LSTMState { LSTMState(h: h.detached(), c: c.detached()) }
}

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
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
              dropout: Float = 0, bidirectional: Bool = false, projSize: Int = 0, seed: UInt64 = 0) {
    super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
               batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: projSize, seed: seed)
  }

  /// Runs the LSTM. `state` defaults to zeros.
  public func callAsFunction(_ input: Tensor, _ state: LSTMState? = nil, lengths: [Int]? = nil) throws -> (output: Tensor, state: LSTMState) {
    let r = try runLayer(input, h0: state?.h, c0: state?.c, lengths: lengths)
    return (r.output, LSTMState(h: r.h, c: r.c!))
  }
}

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
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true, batchFirst: Bool = false,
              dropout: Float = 0, bidirectional: Bool = false, seed: UInt64 = 0) {
    super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias,
               batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, projSize: 0, seed: seed)
  }

  /// Runs the GRU. `state` (h [numLayers·D, N, H]) defaults to zeros.
  public func callAsFunction(_ input: Tensor, _ state: Tensor? = nil, lengths: [Int]? = nil) throws -> (output: Tensor, state: Tensor) {
    let r = try runLayer(input, h0: state, c0: nil, lengths: lengths)
    return (r.output, r.h)
  }
}

/// Multi-layer Elman RNN, matching `torch.nn.RNN`: h' = act(W_ih x + b_ih + W_hh h + b_hh) with
/// act = tanh or ReLU. Shapes, names, initialisation, dropout and `lengths` as for `LSTM`.
public final class RNN: RecurrentLayer {
  public let nonlinearity: Nonlinearity

  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, nonlinearity: Nonlinearity = .tanh, bias: Bool = true,
              batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false, seed: UInt64 = 0) {
    self.nonlinearity = nonlinearity
    super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize,
               numLayers: numLayers, bias: bias, batchFirst: batchFirst, dropout: dropout,
               bidirectional: bidirectional, projSize: 0, seed: seed)
  }

  /// Runs the RNN. `state` (h [numLayers·D, N, H]) defaults to zeros.
  public func callAsFunction(_ input: Tensor, _ state: Tensor? = nil, lengths: [Int]? = nil) throws -> (output: Tensor, state: Tensor) {
    let r = try runLayer(input, h0: state, c0: nil, lengths: lengths)
    return (r.output, r.h)
  }
}
