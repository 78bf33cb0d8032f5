/// An ABC text the reader cannot read: where (source, line and column, 1-based) and what is wrong.
public struct ABCError: Error, CustomStringConvertible, Equatable, Sendable {
  /// The file path, or a name for text in memory.
  public let source: String
  /// The line of the source (1-based).
  public let line: Int
  /// The column of the line (1-based, in characters), when known.
  public let column: Int?
  /// What is wrong and, where it helps, how to write it instead.
  public let problem: String

  /// An error at `line` (and `column`) of `source`.
  public init(source: String, line: Int, column: Int? = nil, problem: String) {
    self.source = source
    self.line = line
    self.column = column
    self.problem = problem
  }

  /// `FILE line L, column C: problem`.
  public var description: String {
    "\(source) line \(line)\(column.map { ", column \($0)" } ?? ""): \(problem)"
  }
}

/// A problem found inside one field or token, before its location is attached.
struct ABCMessage: Error {
  let text: String
  init(_ text: String) { self.text = text }
}
