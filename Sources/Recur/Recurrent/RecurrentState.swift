/// The state a recurrent layer carries from one step (or window) to the next: `h`
/// `[numLayers·D, B, H_out]` and, for the LSTM, the cell state `c` `[numLayers·D, B, H]`
/// (unbatched inputs: without the B axis). Rows are indexed `layer·D + direction`, as PyTorch's
/// `h_n` is.
public struct RecurrentState {
  /// The hidden state.
  public var h: Tensor
  /// The LSTM cell state; nil for RNN and GRU.
  public var c: Tensor?

  /// A state from its parts.
  public init(h: Tensor, c: Tensor? = nil) {
    self.h = h
    self.c = c
  }

  /// The state cut from the tape: pass it to the next window for truncated BPTT.
  public func detached() -> RecurrentState { RecurrentState(h: h.detached(), c: c?.detached()) }

  /// The tensors of the state, `h` first.
  public var tensors: [Tensor] { [h] + (c.map { [$0] } ?? []) }
}
