/// A recurrent layer was called with inputs that do not fit it. The messages follow PyTorch's
/// ("Expected hidden size (2, 3, 20), got [2, 5, 20]") and say what to change.
public struct RecurrentError: Error, CustomStringConvertible, Equatable {
  /// What is wrong, in PyTorch's words, and what to change.
  public let description: String
  init(_ message: String) { description = message }

  static func shape(_ what: String, expected: [Int], got: [Int]) -> RecurrentError {
    RecurrentError("Expected \(what) (\(expected.map(String.init).joined(separator: ", "))), got \(got)")
  }
}
