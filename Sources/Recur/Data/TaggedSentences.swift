import Foundation

/// One sentence of a tagging corpus: a form and a tag per token.
public struct TaggedSentence: Sendable, Equatable {
  /// The word forms, as written.
  public var forms: [String]
  /// The tag of each form.
  public var tags: [String]
  /// The 1-based line of each token in the file.
  public var lines: [Int]
}

/// A tagging corpus (part-of-speech tags, named entities): sentences of (form, tag) tokens.
///
/// Two formats:
/// - **token-per-line TSV** (``parseTSV(_:tagColumn:source:)``): tab-separated columns, the form
///   first, the tag in column `tagColumn` (0-based: 1 is the second column); a blank line ends a
///   sentence. There are no comment lines: a form may itself be `#`.
/// - **CoNLL-U** (``parseCoNLLU(_:tagColumn:source:)``): 10 tab-separated columns; `#` comment
///   lines, multiword-range lines (`1-2`) and empty-node lines (`1.1`) are skipped; the tag is
///   UPOS (column 3, 0-based) unless `tagColumn` says otherwise (4 is XPOS).
///
/// A line with too few columns and an empty form or tag are ``DataError``s naming the line and column.
public struct TaggedSentences: Sendable {
  /// The file name used in messages.
  public let source: String
  /// The sentences, in file order.
  public var sentences: [TaggedSentence]

  /// Sentences from memory.
  public init(sentences: [TaggedSentence], source: String = "memory") {
    self.sentences = sentences
    self.source = source
  }

  /// The 0-based CoNLL-U column of the universal part-of-speech tag.
  public static let conlluUPOS = 3
  /// The 0-based CoNLL-U column of the language-specific part-of-speech tag.
  public static let conlluXPOS = 4

  /// The distinct tags of all sentences, sorted.
  public var tagSet: LabelSet { LabelSet(sentences.lazy.flatMap(\.tags)) }

  /// Number of tokens in all sentences.
  public var tokenCount: Int { sentences.reduce(0) { $0 + $1.forms.count } }

  /// Reads a token-per-line TSV file; see ``parseTSV(_:tagColumn:source:)``.
  public static func readTSV(contentsOf url: URL, tagColumn: Int = 1) throws -> TaggedSentences {
    let file = try DataFile.text(url)
    return try parseTSV(file.text, tagColumn: tagColumn, source: file.source)
  }

  /// Parses token-per-line TSV text with the tag in 0-based column `tagColumn` (>= 1).
  public static func parseTSV(_ text: String, tagColumn: Int = 1, source: String = "TSV") throws -> TaggedSentences {
    guard tagColumn >= 1 else {
      throw DataError.invalidParameter(InvalidParameter("tagColumn", tagColumn, expected: ">= 1 (column 0 is the form)"))
    }
    return try parse(text, source: source, tagColumn: tagColumn, expectedColumns: nil) { _ in true }
  }

  /// Reads a CoNLL-U file; see ``parseCoNLLU(_:tagColumn:source:)``.
  public static func readCoNLLU(contentsOf url: URL, tagColumn: Int = conlluUPOS) throws -> TaggedSentences {
    let file = try DataFile.text(url)
    return try parseCoNLLU(file.text, tagColumn: tagColumn, source: file.source)
  }

  /// Parses CoNLL-U text with the tag in 0-based column `tagColumn` (UPOS by default).
  public static func parseCoNLLU(_ text: String, tagColumn: Int = conlluUPOS, source: String = "CoNLL-U") throws -> TaggedSentences {
    guard (2...9).contains(tagColumn) else {
      throw DataError.invalidParameter(InvalidParameter("tagColumn", tagColumn, expected: "in 2...9 (3 is UPOS, 4 is XPOS)"))
    }
    return try parse(text, source: source, tagColumn: tagColumn, expectedColumns: 10) { line in
      if line.hasPrefix("#") { return false }
      let id = line.prefix { $0 != "\t" }
      return !id.contains("-") && !id.contains(".")
    }
  }

  /// The shared line loop: `keep` filters non-blank lines (comments, range and empty-node lines).
  private static func parse(_ text: String, source: String, tagColumn: Int, expectedColumns: Int?,
                            keep: (Substring) -> Bool) throws -> TaggedSentences {
    var sentences: [TaggedSentence] = []
    var current = TaggedSentence(forms: [], tags: [], lines: [])
    let formColumn = expectedColumns == nil ? 0 : 1
    func columnName(_ k: Int) -> String { "column \(k + 1)" }
    for (number, line) in DataFile.lines(text) {
      if line.allSatisfy({ $0 == " " || $0 == "\t" }) {
        if !current.forms.isEmpty { sentences.append(current) }
        current = TaggedSentence(forms: [], tags: [], lines: [])
        continue
      }
      guard keep(line) else { continue }
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
      let needed = expectedColumns ?? (tagColumn + 1)
      if expectedColumns.map({ fields.count != $0 }) ?? (fields.count < needed) {
        throw DataError.raggedRow(source: source, line: number, fields: fields.count, expected: needed)
      }
      let form = String(fields[formColumn]), tag = String(fields[tagColumn])
      guard !form.isEmpty else { throw DataError.emptyText(source: source, line: number, column: columnName(formColumn)) }
      guard !tag.isEmpty, tag != "_" || expectedColumns == nil else {
        throw DataError.missingValue(source: source, line: number, column: columnName(tagColumn))
      }
      current.forms.append(form)
      current.tags.append(tag)
      current.lines.append(number)
    }
    if !current.forms.isEmpty { sentences.append(current) }
    guard !sentences.isEmpty else { throw DataError.empty(source: source, reason: "has no sentences") }
    return TaggedSentences(sentences: sentences, source: source)
  }

  /// The tag ids of every sentence in `tags` (e.g. the training corpus's ``tagSet``); a tag
  /// outside it is an error naming its line.
  public func tagIDs(in tags: LabelSet) throws -> [[Int]] {
    let column = "tag"
    return try sentences.map { sentence throws(DataError) in
      try tags.ids(sentence.tags.indices.map { (sentence.tags[$0], nil, sentence.lines[$0]) }, source: source, column: column)
    }
  }

  /// A vocabulary of these sentences' forms (build it from the training corpus only).
  public func vocabulary(minimumCount: Int = 1, lowercase: Bool = false) throws -> TokenVocabulary {
    try TokenVocabulary(building: sentences.lazy.map { lowercase ? $0.forms.map { $0.lowercased() } : $0.forms },
                        minimumCount: minimumCount)
  }
}
