/// The (h, c) state of an LSTM: h [L·D, B, H_out], c [L·D, B, H] (unbatched: without the B axis).
public struct LSTMState {
  public var h: Tensor
  public var c: Tensor
  public init(h: Tensor, c: Tensor) { self.h = h; self.c = c }
  /// The state cut from the tape: pass it to the next window for truncated BPTT.
  public func detached() -> LSTMState { LSTMState(h: h.detached(), c: c.detached()) }
}
