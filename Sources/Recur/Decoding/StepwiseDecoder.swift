/// A model that extends token sequences one step at a time — what ``GreedyDecoding`` and
/// ``BeamSearch`` drive. Rows are independent sequences decoded together (a batch, or a batch
/// times the beam width).
public protocol StepwiseDecoder {
  /// Whatever the model carries between steps for all rows (recurrent state, encoder memory…).
  associatedtype State

  /// The log-probabilities `[N, V]` of each row's next token after `previous` (one token per row),
  /// the state after that step and, when the model attends, each row's attention weights `[N, S]`.
  func step(_ previous: [Int], state: State) throws -> (logProbabilities: Tensor, state: State, attention: Tensor?)

  /// The state of rows `rows`, in that order (repeats allowed).
  func select(_ state: State, rows: [Int]) -> State
}

/// One decoded sequence.
public struct DecodedSequence: Sendable, Equatable {
  /// The tokens, without the start token and without the end token.
  public var tokens: [Int]
  /// Whether the sequence ended with the end token (false: cut at the maximum length).
  public var finished: Bool
  /// The sum of the log-probabilities of the tokens (the end token included).
  public var logProbability: Double
  /// The ranking score: `logProbability` divided by the length penalty (equal to it without one).
  public var score: Double
  /// The attention weights of every step (the end token's included), one row over the source per step.
  public var attention: [[Float]]

  /// A decoded sequence from its parts.
  public init(tokens: [Int], finished: Bool, logProbability: Double, score: Double, attention: [[Float]]) {
    self.tokens = tokens
    self.finished = finished
    self.logProbability = logProbability
    self.score = score
    self.attention = attention
  }
}
