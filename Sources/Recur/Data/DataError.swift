/// Errors from the shared data readers (text tables, numeric sequences, tagged sentences).
///
/// Every data error names the file (`source`), the 1-based line the row starts on and, when it is
/// about one cell, the column (a header name, or `column N` / `dimension N` for formats without a
/// header). Messages are one line, in the library's terms: parameters by their Swift names, never
/// command-line flags.
public enum DataError: Error, Equatable, Sendable, CustomStringConvertible, InvalidParameterReporting {
  /// The file cannot be read or is not UTF-8 text.
  case unreadable(source: String, reason: String)
  /// The file has no header, no rows or no items.
  case empty(source: String, reason: String)
  /// A quote opened on `line` is never closed.
  case unclosedQuote(source: String, line: Int)
  /// A requested column is not in the header of `source`, whose columns are `available`.
  case unknownColumn(column: String, source: String, available: [String])
  /// A column name appears more than once in the header.
  case duplicateColumn(column: String, source: String)
  /// The row starting on `line` has `fields` fields; the header (or format) has `expected`.
  case raggedRow(source: String, line: Int, fields: Int, expected: Int)
  /// The text (or form) cell is empty.
  case emptyText(source: String, line: Int, column: String)
  /// A cell that must be a finite number is not one.
  case notANumber(source: String, line: Int, column: String, text: String)
  /// A cell is missing (`?` in a `.ts` file, an empty numeric cell).
  case missingValue(source: String, line: Int, column: String)
  /// `label` appears only in test rows, the first on `line`: no model can learn it.
  case labelOnlyInTest(label: String, source: String, line: Int, column: String)
  /// `label` is not one of the `known` labels.
  case unknownLabel(label: String, source: String, line: Int, column: String, known: [String])
  /// A split cell is not `train`, `validation` or `test`.
  case unknownSplit(value: String, source: String, line: Int, column: String)
  /// A series (or sentence) has no steps.
  case emptySeries(series: String, source: String, line: Int)
  /// The dimensions (or features) of one series have different lengths.
  case mismatchedLengths(series: String, source: String, line: Int, column: String, lengths: [Int])
  /// Series `series` jumps from step `expected - 1` to `found` on `line`.
  case stepGap(series: String, source: String, line: Int, column: String, expected: Int, found: Int)
  /// Series `series` has step `step` twice, the second time on `line`.
  case duplicateStep(series: String, source: String, line: Int, column: String, step: Int)
  /// The rows of a series disagree (label, split), or an id has no entry in the joined file.
  case inconsistentSeries(series: String, source: String, line: Int, column: String, problem: String)
  /// Another format problem at a known place (a `.ts` header line, a missing `@data`).
  case malformed(source: String, line: Int, column: String?, problem: String)
  /// A parameter is out of range.
  case invalidParameter(InvalidParameter)

  /// "`source` line N, column 'c'" — the place prefix of a message.
  static func place(_ source: String, _ line: Int, _ column: String?) -> String {
    guard let column else { return "\(source) line \(line)" }
    return "\(source) line \(line), column '\(column)'"
  }

  /// The message: one line saying what is wrong, where, and what to do.
  public var description: String {
    switch self {
    case .unreadable(let source, let reason):
      return "cannot read \(source): \(reason)"
    case .empty(let source, let reason):
      return "\(source) \(reason)"
    case .unclosedQuote(let source, let line):
      return "\(source) line \(line) opens a quote that is never closed; fix the quoting"
    case .unknownColumn(let column, let source, let available):
      return "column '\(column)' not found in \(source); its columns are: \(available.joined(separator: ", "))"
    case .duplicateColumn(let column, let source):
      return "column name '\(column)' appears more than once in the header of \(source); rename the duplicates"
    case .raggedRow(let source, let line, let fields, let expected):
      return "\(source) line \(line) has \(fields) fields but \(expected) are expected; fix the row (quote fields that contain commas)"
    case .emptyText(let source, let line, let column):
      return "\(Self.place(source, line, column)) is empty; every row needs a text"
    case .notANumber(let source, let line, let column, let text):
      return "\(Self.place(source, line, column)): '\(text.prefix(40))' is not a finite number; fix the cell"
    case .missingValue(let source, let line, let column):
      return "\(Self.place(source, line, column)) has a missing value; fill it or drop the item"
    case .labelOnlyInTest(let label, let source, let line, let column):
      return "\(Self.place(source, line, column)): label '\(label)' appears only in the test part; no training item has it"
    case .unknownLabel(let label, let source, let line, let column, let known):
      return "\(Self.place(source, line, column)): label '\(label)' is not one of the known labels (\(known.prefix(20).joined(separator: ", ")))"
    case .unknownSplit(let value, let source, let line, let column):
      return "\(Self.place(source, line, column)): split '\(value)' is not train, validation or test"
    case .emptySeries(let series, let source, let line):
      return "\(Self.place(source, line, nil)): series '\(series)' has no steps"
    case .mismatchedLengths(let series, let source, let line, let column, let lengths):
      return "\(Self.place(source, line, column)): series '\(series)' has dimensions of different lengths (\(lengths.map(String.init).joined(separator: ", ")))"
    case .stepGap(let series, let source, let line, let column, let expected, let found):
      return "\(Self.place(source, line, column)): series '\(series)' jumps to step \(found) but step \(expected) is missing"
    case .duplicateStep(let series, let source, let line, let column, let step):
      return "\(Self.place(source, line, column)): series '\(series)' has step \(step) twice"
    case .inconsistentSeries(let series, let source, let line, let column, let problem):
      return "\(Self.place(source, line, column)): series '\(series)' \(problem)"
    case .malformed(let source, let line, let column, let problem):
      return "\(Self.place(source, line, column)): \(problem)"
    case .invalidParameter(let p):
      return p.description
    }
  }

  /// The parameter of an ``invalidParameter(_:)`` error; nil for the other cases.
  public var invalidParameter: InvalidParameter? {
    if case .invalidParameter(let p) = self { return p }
    return nil
  }
}
