/// What an ``AttentionDecoder`` carries from one step to the next, for B rows: the recurrent state
/// (`h` `[B, H]`, and `c` for the LSTM) and, with input feeding, the previous attentional output
/// h̃_{t−1} `[B, H]`.
public struct DecoderState {
  /// The decoder cell's state.
  public var recurrent: RecurrentState
  /// h̃_{t−1}, fed back with the next input token (nil without input feeding).
  public var feed: Tensor?

  /// A state from its parts.
  public init(recurrent: RecurrentState, feed: Tensor? = nil) {
    self.recurrent = recurrent
    self.feed = feed
  }

  /// The rows `rows` of every part, in that order (repeats allowed): beam search reorders with it.
  public func selecting(rows: [Int]) -> DecoderState {
    DecoderState(recurrent: RecurrentState(h: recurrent.h.gatherRows(rows), c: recurrent.c?.gatherRows(rows)),
                 feed: feed?.gatherRows(rows))
  }
}
