/// Errors from the echo-state-network APIs when the arguments or data they are given cannot work.
/// Each description is one line that says what is wrong and what to do, naming parameters as the
/// Swift API does (`leakRate`, `spectralRadius`).
public enum ReservoirError: Error, Equatable, Sendable, CustomStringConvertible, InvalidParameterReporting {
  /// A hyper-parameter is out of range.
  case invalidParameter(InvalidParameter)
  /// An argument does not work (other than one out-of-range parameter).
  case invalidArgument(String)
  /// The data (inputs, targets, states) do not fit the model or contain non-finite values.
  case invalidData(String)
  /// The ridge normal equations could not be solved (singular without regularisation).
  case singularSystem(String)

  /// The message: one line saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .invalidParameter(let p): return p.description
    case .invalidArgument(let m), .invalidData(let m), .singularSystem(let m): return m
    }
  }

  /// The parameter of an ``invalidParameter(_:)`` error; nil for the other cases.
  public var invalidParameter: InvalidParameter? {
    if case .invalidParameter(let p) = self { return p }
    return nil
  }
}
