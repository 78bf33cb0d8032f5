import Foundation

/// How texts become token ids for a `SequenceClassifier`: the tokenizer (words or characters,
/// lower-casing), the vocabulary (built from the training part only) and the maximum length
/// (the first `maximumLength` tokens are kept). Stored as the archive's input description, so a
/// saved model reads new text exactly as it read its training text.
public struct TextClassificationInput: Sendable, Codable, Equatable {
  /// What a token is.
  public enum Unit: String, Sendable, Codable {
    /// Words and punctuation marks (`WordTokenizer`).
    case word
    /// Characters (`CharacterTokenizer`).
    case character
  }

  /// Words or characters.
  public var unit: Unit
  /// Whether text is lower-cased before it is split.
  public var lowercase: Bool
  /// The longest token sequence kept (the first tokens).
  public var maximumLength: Int
  /// The token ↔ id table (`<pad>` = 0, `<unk>` = 1).
  public var vocabulary: TokenVocabulary

  /// An input description from its parts.
  public init(unit: Unit, lowercase: Bool, maximumLength: Int, vocabulary: TokenVocabulary) {
    self.unit = unit
    self.lowercase = lowercase
    self.maximumLength = maximumLength
    self.vocabulary = vocabulary
  }

  /// The tokens of `text`.
  public func tokens(_ text: String) -> [String] {
    unit == .word ? WordTokenizer(lowercase: lowercase).tokens(text) : CharacterTokenizer(lowercase: lowercase).tokens(text)
  }

  /// The ids of `text`: its first `maximumLength` tokens; a text with no token becomes one
  /// `<unk>` (every sequence has at least one step).
  public func encode(_ text: String) -> [Int] {
    let ids = vocabulary.encode(tokens(text), maximumLength: maximumLength)
    return ids.isEmpty ? [TokenVocabulary.unknownID] : ids
  }

  /// A dataset of `texts` with `labels` (may be empty).
  public func dataset(_ texts: [String], labels: [Int]) throws -> ClassificationDataset {
    try ClassificationDataset(sequences: .tokens(texts.map(encode)), labels: labels)
  }
}

extension TextClassificationInput {
  /// The cells of column `column` of the CSV file at `url` (for labelling new texts). Throws a
  /// `DataError` naming the file, line and column for an unknown column or an empty text.
  public static func readTexts(contentsOf url: URL, column: String) throws -> [String] {
    let file = try DataFile.text(url)
    let table = try CSVTable(file.text, source: file.source)
    let index = try table.column(column)
    return try table.rows.map { row in
      let text = row.fields[index]
      if text.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty { throw DataError.emptyText(source: file.source, line: row.line, column: column) }
      return text
    }
  }
}
