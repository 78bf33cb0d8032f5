/// Anything that maps a time-major batch `[T, B, inputSize]` (with optional per-sequence lengths
/// and an optional initial state) to outputs `[T, B, outputSize]` and a final state.
///
/// `RNN`, `LSTM` and `GRU` adopt it; models hold `any SequenceLayer` and never switch on the
/// cell kind. Steps at or past a sequence's length give zero outputs, and its final state is the
/// one after its last valid step.
public protocol SequenceLayer: Module {
  /// The width of each input step.
  var inputSize: Int { get }
  /// The width of each output step (directions × hidden or projection size).
  var outputSize: Int { get }

  /// Runs the layer over `x` `[T, B, inputSize]` from `state` (zeros when nil).
  /// - Parameters:
  ///   - x: the input, time-major `[T, B, inputSize]`.
  ///   - state: the initial state (`h`, and `c` for the LSTM), or nil for zeros.
  ///   - lengths: each sequence's valid length (1…T), or nil when all are T.
  ///   - context: training mode and the generator dropout draws from.
  /// - Returns: the output of every step `[T, B, outputSize]` and the final state.
  func callAsFunction(_ x: Tensor, state: RecurrentState?, lengths: [Int]?, context: inout ForwardContext) throws
    -> (output: Tensor, state: RecurrentState)

  /// A zero state for `batchSize` sequences.
  func zeroState(batchSize: Int) -> RecurrentState
}
