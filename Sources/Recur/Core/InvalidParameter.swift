/// A value given to a library API is outside what the API accepts.
///
/// `name` is the parameter as the Swift API spells it (`validationFraction`, `leakRate`,
/// `seqLength`), never a command-line flag: the library does not know how its callers spell
/// settings. A command-line tool maps `name` to its own flag; a program reports it as is.
///
///     validationFraction must be in [0, 1), got 1.5
public struct InvalidParameter: Error, Equatable, Hashable, Sendable, CustomStringConvertible {
  /// The parameter's name in the Swift API (camelCase), e.g. `"leakRate"`.
  public var name: String
  /// The offending value, as text.
  public var value: String
  /// What the parameter accepts, completing "must be …": `"in (0, 1]"`, `">= 1"`, `"a finite number >= 0"`.
  public var expected: String

  /// A parameter `name` whose value, as text, is `value`, and what it must be (`expected`).
  public init(name: String, value: String, expected: String) {
    self.name = name
    self.value = value
    self.expected = expected
  }

  /// `value` described with `String(describing:)`.
  public init(_ name: String, _ value: some Any, expected: String) {
    self.init(name: name, value: String(describing: value), expected: expected)
  }

  /// One line: `name must be expected, got value`.
  public var description: String { "\(name) must be \(expected), got \(value)" }
}

/// An error that may be about one parameter: callers that speak another language than the
/// library's (a command line, a configuration file) read ``invalidParameter`` and name the
/// setting their own way, without parsing messages.
public protocol InvalidParameterReporting: Error {
  /// The parameter this error is about, or nil when it is about something else (data, files).
  var invalidParameter: InvalidParameter? { get }
}

extension InvalidParameter: InvalidParameterReporting {
  /// The error itself: it is about one parameter.
  public var invalidParameter: InvalidParameter? { self }
}
