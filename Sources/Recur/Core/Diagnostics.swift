import Foundation

/// Where the library's warnings go. The library never prints: it calls ``handler``, which does
/// nothing until a program installs one (a command-line tool prints to standard error, an app
/// logs, a test collects).
///
///     Diagnostics.handler = { fputs("warning: \($0.message)\n", stderr) }
public enum Diagnostics {
  /// One warning: what is unusual, in the library's terms (parameters, shapes, paths).
  public struct Warning: Sendable, Equatable, CustomStringConvertible {
    /// Where it comes from, e.g. `"RecurrentLayer"`.
    public var source: String
    /// One line, without a "warning:" prefix.
    public var message: String

    /// A warning from `source` saying `message`.
    public init(source: String, message: String) {
      self.source = source
      self.message = message
    }

    /// The message.
    public var description: String { message }
  }

  /// Receives every warning; nil (the default) drops them. Set it once at start-up.
  public static var handler: (@Sendable (Warning) -> Void)? {
    get { lock.lock(); defer { lock.unlock() }; return _handler }
    set { lock.lock(); defer { lock.unlock() }; _handler = newValue }
  }

  /// Sends a warning to ``handler``.
  public static func warn(_ message: String, source: String) {
    handler?(Warning(source: source, message: message))
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var _handler: (@Sendable (Warning) -> Void)?
}
