import Foundation

/// One row of a labelled text table.
public struct LabeledText: Sendable, Equatable {
  /// The text cell, as written (not trimmed, not tokenised).
  public var text: String
  /// The label's id in the table's ``LabeledTextTable/labels``.
  public var label: Int
  /// The row's split, or nil when the table has no split column.
  public var split: DataSplit?
  /// The 1-based line the row starts on.
  public var line: Int
}

/// Texts with a label each, read from a CSV file: a text column and a label column chosen by
/// name, and an optional split column (`train` / `validation` / `test`).
///
/// Quoting is RFC 4180 (see ``TimeSeriesCSV``): `"a, b"`, `""` for a quote, line breaks inside
/// quotes. Labels may be strings or integers; the ``LabelSet`` holds the labels of the non-test
/// rows, sorted, so ids are deterministic. A label that only test rows carry, an empty text, an
/// unknown column and a ragged row are ``DataError``s naming the file, line and column.
public struct LabeledTextTable: Sendable {
  /// The file name used in messages.
  public let source: String
  /// The label of each id.
  public let labels: LabelSet
  /// The rows, in file order.
  public var examples: [LabeledText]

  /// A table of in-memory examples.
  public init(examples: [LabeledText], labels: LabelSet, source: String = "memory") {
    self.examples = examples
    self.labels = labels
    self.source = source
  }

  /// Reads `url`; see ``parse(_:textColumn:labelColumn:splitColumn:source:)``.
  public static func read(contentsOf url: URL, textColumn: String = "text", labelColumn: String = "label",
                          splitColumn: String? = nil) throws -> LabeledTextTable {
    let file = try DataFile.text(url)
    return try parse(file.text, textColumn: textColumn, labelColumn: labelColumn, splitColumn: splitColumn, source: file.source)
  }

  /// Parses CSV `text`. `splitColumn` names the split column; when nil, a column named `split` is
  /// used if the header has one, otherwise every row is `nil` (training data).
  public static func parse(_ text: String, textColumn: String = "text", labelColumn: String = "label",
                           splitColumn: String? = nil, source: String = "CSV") throws -> LabeledTextTable {
    let table = try CSVTable(text, source: source)
    let textIndex = try table.column(textColumn)
    let labelIndex = try table.column(labelColumn)
    let splitIndex = try table.optionalColumn(splitColumn, fallback: "split")
    var rows: [(label: String, split: DataSplit?, line: Int)] = []
    rows.reserveCapacity(table.rows.count)
    for row in table.rows {
      if row.fields[textIndex].trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        throw DataError.emptyText(source: source, line: row.line, column: textColumn)
      }
      let label = row.fields[labelIndex].trimmingCharacters(in: .whitespaces)
      if label.isEmpty { throw DataError.missingValue(source: source, line: row.line, column: labelColumn) }
      rows.append((label, try table.split(row, splitIndex), row.line))
    }
    let labels = try LabelSet.fromTraining(rows, source: source, column: labelColumn)
    let ids = try labels.ids(rows, source: source, column: labelColumn)
    let examples = table.rows.indices.map {
      LabeledText(text: table.rows[$0].fields[textIndex], label: ids[$0], split: rows[$0].split, line: rows[$0].line)
    }
    return LabeledTextTable(examples: examples, labels: labels, source: source)
  }

  /// The examples of `split`; `.train` also includes rows without a split.
  public func examples(in split: DataSplit) -> [LabeledText] {
    examples.filter { ($0.split ?? .train) == split }
  }

  /// A vocabulary of the training examples' tokens only (rows of split `train` or without a split).
  public func vocabulary(tokenizer: some Tokenizer, minimumCount: Int = 1, maximumSize: Int? = nil) throws -> TokenVocabulary {
    try TokenVocabulary(building: examples(in: .train).lazy.map { tokenizer.tokens($0.text) },
                        minimumCount: minimumCount, maximumSize: maximumSize)
  }
}
