/// Errors from reading, checking, scaling and splitting time-series data. Each description is one
/// line that says what is wrong and what to do.
public enum TimeSeriesError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The file cannot be read or has no header / no data.
  case unreadable(String)
  /// The CSV is malformed (ragged rows, unbalanced quotes) or a cell is not a finite number.
  case malformed(String)
  /// A requested column is not in the header.
  case missingColumn(String)
  /// A cell is empty and no fill policy was chosen.
  case missingValue(String)
  /// Too few rows for the requested lookback, horizon and split.
  case tooShort(String)
  /// A column cannot be scaled (zero variance on the training part).
  case constantSeries(String)
  /// A setting is out of range.
  case invalidArgument(String)

  public var description: String {
    switch self {
    case .unreadable(let m), .malformed(let m), .missingColumn(let m), .missingValue(let m),
         .tooShort(let m), .constantSeries(let m), .invalidArgument(let m):
      return m
    }
  }
}
