import Foundation

/// One row of a sequence-to-sequence file: the tokens of both sides and the line they came from.
public struct Seq2SeqPair: Sendable, Equatable {
  /// The source tokens (at least one).
  public var source: [String]
  /// The target tokens (at least one).
  public var target: [String]
  /// The 1-based line of the row.
  public var line: Int

  /// A pair from its parts.
  public init(source: [String], target: [String], line: Int) {
    self.source = source
    self.target = target
    self.line = line
  }
}

/// Reading `source<TAB>target` files: one pair per line, blank lines skipped. Several rows with the
/// same source are alternative references for it.
public enum Seq2SeqPairs {
  /// The pairs of the file at `path`. Throws `DataError` naming the file and line for an unreadable
  /// file, a line without exactly one tab, a side with no tokens, or a file without pairs.
  public static func read(path: String, sourceTokenization: Seq2SeqTokenization,
                          targetTokenization: Seq2SeqTokenization) throws -> [Seq2SeqPair] {
    let (text, source) = try DataFile.text(URL(fileURLWithPath: path))
    return try parse(text, source: source, sourceTokenization: sourceTokenization, targetTokenization: targetTokenization)
  }

  /// The pairs of `text` (named `source` in errors); see ``read(path:sourceTokenization:targetTokenization:)``.
  public static func parse(_ text: String, source: String, sourceTokenization: Seq2SeqTokenization,
                           targetTokenization: Seq2SeqTokenization) throws -> [Seq2SeqPair] {
    var pairs: [Seq2SeqPair] = []
    for (number, line) in DataFile.lines(text) where !line.allSatisfy(\.isWhitespace) {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard fields.count == 2 else {
        throw DataError.malformed(source: source, line: number, column: nil,
                                  problem: fields.count == 1 ? "no tab: write source<TAB>target" : "\(fields.count - 1) tabs: write exactly one, source<TAB>target")
      }
      let s = sourceTokenization.tokens(fields[0]), t = targetTokenization.tokens(fields[1])
      guard !fields[0].allSatisfy(\.isWhitespace) else { throw DataError.emptyText(source: source, line: number, column: "source") }
      guard !fields[1].allSatisfy(\.isWhitespace) else { throw DataError.emptyText(source: source, line: number, column: "target") }
      pairs.append(Seq2SeqPair(source: s, target: t, line: number))
    }
    guard !pairs.isEmpty else { throw DataError.empty(source: source, reason: "no source<TAB>target rows") }
    return pairs
  }
}
