/// A collection of ABC tunes (a file such as O'Neill's 1850): every block with an `X:` field, read
/// and checked one by one, so one unreadable tune does not hide the others.
public struct ABCBook: Sendable {
  /// One tune of the book as read and checked.
  public struct Entry: Sendable {
    /// The tune's text, from its `X:` line.
    public let text: String
    /// The 1-based line of its `X:` in the source.
    public let line: Int
    /// The tune, or why it could not be read.
    public let result: Result<ABCTune, ABCError>
    /// What `ABCValidity` finds wrong with it (empty when valid; one `.unreadable` when not read).
    public let problems: [ABCValidity.Problem]
    /// Read and free of problems.
    public var isValid: Bool { problems.isEmpty }
  }

  /// Where the text came from.
  public let source: String
  /// The tunes, in order.
  public let entries: [Entry]

  /// Reads every tune of `text`.
  public init(text: String, source: String = "text") {
    self.source = source
    entries = ABCReader.tuneBlocks(text).map { block in
      let result = Result { try ABCReader.readTune(block.text, source: source, firstLine: block.line) }.mapError {
        $0 as? ABCError ?? ABCError(source: source, line: block.line, problem: "\($0)")
      }
      return Entry(text: block.text, line: block.line, result: result, problems: ABCValidity.problems(result))
    }
  }

  /// Reads the UTF-8 file at `path` (the checks of `TextCorpus.load`: it must exist and be text).
  public static func load(path: String) throws -> ABCBook {
    let corpus = try TextCorpus.load(path: path)
    return ABCBook(text: corpus.text, source: path)
  }

  /// Tunes that were read.
  public var readCount: Int { entries.filter { if case .success = $0.result { return true } else { return false } }.count }
  /// Tunes read and valid.
  public var validCount: Int { entries.filter(\.isValid).count }
}
