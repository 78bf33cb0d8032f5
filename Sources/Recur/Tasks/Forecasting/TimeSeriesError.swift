/// Errors from reading, checking, scaling and splitting time-series data. Each description is one
/// line that says what is wrong and what to do, in the library's terms: parameters by their Swift
/// names (`lookback`, `testFraction`), files by their names — never command-line flags. The typed
/// cases carry what a caller needs to say it its own way (a CLI names its flags).
public enum TimeSeriesError: Error, Equatable, Sendable, CustomStringConvertible, InvalidParameterReporting {
  /// The file cannot be read or has no header / no data.
  case unreadable(String)
  /// The CSV is malformed (ragged rows, unbalanced quotes) or a cell is not a finite number.
  case malformed(String)
  /// A requested column is not in the header of `source`, whose columns are `available`.
  case missingColumn(column: String, source: String, available: [String])
  /// `column` appears more than once in the selection `columns`.
  case columnSelectedTwice(column: String, columns: [String])
  /// A cell of a selected column is empty and the policy is ``MissingValuePolicy/error``.
  case emptyCell(source: String, line: Int, column: String)
  /// Missing values that no policy can repair (every row dropped, a column without values).
  case missingValue(String)
  /// The series has `rows` rows; the split needs `needed`: `lookback` + `horizon` for one
  /// training window, `validationRows` and `testRows`.
  case seriesTooShort(rows: Int, needed: Int, lookback: Int, horizon: Int, validationRows: Int, testRows: Int)
  /// Too few training windows (`windows`) to choose `parameters` on held-out windows; fixing
  /// those parameters, or a longer series, avoids the choice.
  case tooFewWindowsToSelect(windows: Int, parameters: [String])
  /// Too few rows for the requested lookback, horizon and split (other cases).
  case tooShort(String)
  /// A column cannot be scaled (zero variance on the training part).
  case constantSeries(String)
  /// A parameter is out of range.
  case invalidParameter(InvalidParameter)
  /// A setting is out of range (prefer ``invalidParameter(_:)``, which names the parameter).
  case invalidArgument(String)

  /// The message: one line saying what is wrong and what to do (line breaks inside names from
  /// the file are shown as `\n`).
  public var description: String {
    message.replacingOccurrences(of: "\r", with: "\\r").replacingOccurrences(of: "\n", with: "\\n")
  }

  private var message: String {
    switch self {
    case .unreadable(let m), .malformed(let m), .missingValue(let m), .tooShort(let m), .constantSeries(let m),
         .invalidArgument(let m):
      return m
    case .missingColumn(let column, let source, let available):
      return "column '\(column)' not found in \(source); its columns are: \(available.joined(separator: ", "))"
    case .columnSelectedTwice(let column, let columns):
      return "column '\(column)' is selected twice (columns: \(columns.joined(separator: ", "))); select each column once"
    case .emptyCell(let source, let line, let column):
      return "\(source) line \(line), column '\(column)' has a missing value; fill the file or choose a missing-value policy (interpolate or drop)"
    case .seriesTooShort(let rows, let needed, let lookback, let horizon, let validationRows, let testRows):
      return "the series has \(rows) rows but lookback \(lookback) + horizon \(horizon)"
        + (validationRows > 0 ? " + validation \(validationRows)" : "")
        + " + a test part of \(testRows) rows need \(needed); use a longer series or a smaller lookback, horizon or testFraction"
    case .tooFewWindowsToSelect(let windows, let parameters):
      return "too few training windows (\(windows)) to choose \(parameters.joined(separator: " and ")) on held-out data; "
        + "set \(parameters.count == 1 ? "it" : "them"), or use a longer series"
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
