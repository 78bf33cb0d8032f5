/// Errors from the echo-state-network APIs when the arguments or data they are given cannot work.
/// Each description is one line that says what is wrong and what to do.
public enum ReservoirError: Error, Equatable, Sendable, CustomStringConvertible {
  /// A hyper-parameter or argument is out of range.
  case invalidArgument(String)
  /// The data (inputs, targets, states) do not fit the model or contain non-finite values.
  case invalidData(String)
  /// The ridge normal equations could not be solved (singular without regularisation).
  case singularSystem(String)

  /// The message: one line saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .invalidArgument(let m), .invalidData(let m), .singularSystem(let m): return m
    }
  }
}
