import Foundation

/// Sentences of (token, tag) pairs read from token-per-line text: one token per line, columns
/// separated by tabs, the form in column 1 and the tag in a chosen column, a blank line between
/// sentences; lines starting with `#` are comments (as in CoNLL-U). A stand-in until the shared
/// data readers land.
public enum TaggedText {
  /// The sentences of `text`; `tagColumn` is 1-based (2 for `form<TAB>tag`). Throws
  /// `TaggingDataError.missingColumn` for a token line without that column and
  /// `TaggingDataError.noSentences` when there are none (`what` names the data in messages).
  public static func sentences(_ text: String, tagColumn: Int, what: String) throws -> [[(token: String, tag: String)]] {
    precondition(tagColumn >= 2, "TaggedText: the tag column must be 2 or more")
    var result: [[(token: String, tag: String)]] = [], current: [(token: String, tag: String)] = []
    for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
      if line.allSatisfy(\.isWhitespace) {
        if !current.isEmpty { result.append(current); current = [] }
        continue
      }
      if line.hasPrefix("#") { continue }
      let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
      guard columns.count >= tagColumn, !columns[0].isEmpty, !columns[tagColumn - 1].isEmpty else {
        throw TaggingDataError.missingColumn(what: what, line: index + 1, column: tagColumn, found: columns.count)
      }
      current.append((String(columns[0]), String(columns[tagColumn - 1])))
    }
    if !current.isEmpty { result.append(current) }
    guard !result.isEmpty else { throw TaggingDataError.noSentences(what: what) }
    return result
  }

  /// The sentences of the file at `path` (see ``sentences(_:tagColumn:what:)``), `what` the path.
  public static func read(path: String, tagColumn: Int) throws -> [[(token: String, tag: String)]] {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw TaggingDataError.unreadable(path: path)
    }
    return try sentences(text, tagColumn: tagColumn, what: path)
  }

  /// `sentences` split into training and validation parts: a seeded random `validationFraction`
  /// of them (at least one when the fraction is positive and there are two or more) is held out,
  /// each part keeping the file order.
  public static func split<S>(_ sentences: [S], validationFraction: Double, seed: UInt64) -> (train: [S], validation: [S]) {
    guard validationFraction > 0, sentences.count >= 2 else { return (sentences, []) }
    let held = Swift.min(sentences.count - 1, Swift.max(1, Int((Double(sentences.count) * validationFraction).rounded())))
    let chosen = Set(EpochShuffle.permutation(sentences.count, epoch: Int.max, seed: seed).prefix(held))
    let indices = sentences.indices
    return (indices.filter { !chosen.contains($0) }.map { sentences[$0] }, indices.filter(chosen.contains).map { sentences[$0] })
  }
}
