import Foundation

/// What to do with empty cells in the selected columns.
public enum MissingValuePolicy: String, Sendable, Codable, CaseIterable {
  /// An empty cell is an error (the default: nothing is silently invented).
  case error
  /// Fill gaps by linear interpolation between the neighbouring values of the same column; gaps at
  /// the start or end take the nearest value.
  case interpolate
  /// Drop every row with an empty cell in a selected column.
  case drop
}

/// Selected numeric columns of a CSV file, row by row, plus the text of the other columns.
public struct TimeSeriesTable: Sendable {
  /// Every column name of the header, in file order.
  public let header: [String]
  /// The selected columns, in the order they were asked for.
  public let columnNames: [String]
  /// The selected values `[rows, columnNames.count]`.
  public let values: DoubleMatrix
  /// The raw text of the columns that were not selected (e.g. dates), for the kept rows.
  public let otherColumns: [String: [String]]
  /// Rows dropped (``MissingValuePolicy/drop``) and cells filled (``MissingValuePolicy/interpolate``).
  public let droppedRows: Int, filledValues: Int

  /// Number of rows (time steps).
  public var rowCount: Int { values.rows }

  init(header: [String], columnNames: [String], values: DoubleMatrix, otherColumns: [String: [String]],
       droppedRows: Int, filledValues: Int) {
    self.header = header
    self.columnNames = columnNames
    self.values = values
    self.otherColumns = otherColumns
    self.droppedRows = droppedRows
    self.filledValues = filledValues
  }

  /// A table of generated or in-memory data: `values` `[rows, columnNames.count]`.
  public init(columnNames: [String], values: DoubleMatrix) {
    precondition(columnNames.count == values.columns, "\(columnNames.count) names for \(values.columns) columns")
    self.init(header: columnNames, columnNames: columnNames, values: values, otherColumns: [:], droppedRows: 0, filledValues: 0)
  }
}

/// Reads time series from CSV text: a header line, then one row per time step.
///
/// Fields are separated by commas; RFC 4180 quotes (`"a, b"`, `""` for a quote) are understood;
/// CRLF line ends and a UTF-8 byte-order mark are accepted; blank lines are skipped. Only the
/// selected columns are parsed as numbers. A cell that is empty (or `NA`, `N/A`, `null`, `?`) is a
/// missing value, handled by the ``MissingValuePolicy``; a cell that is not a number, or is `NaN` or
/// infinite, is an error.
public enum TimeSeriesCSV {
  /// Reads `url` and selects `columns` by name.
  public static func read(contentsOf url: URL, columns: [String], missing: MissingValuePolicy = .error) throws -> TimeSeriesTable {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw TimeSeriesError.unreadable("cannot read \(url.path): \((error as NSError).localizedDescription)")
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw TimeSeriesError.unreadable("\(url.path) is not UTF-8 text; save it as UTF-8 CSV")
    }
    return try parse(text, columns: columns, missing: missing, source: url.lastPathComponent)
  }

  /// Parses CSV `text`; `source` names it in error messages.
  public static func parse(_ text: String, columns: [String], missing: MissingValuePolicy = .error,
                           source: String = "CSV") throws -> TimeSeriesTable {
    guard !columns.isEmpty else {
      throw TimeSeriesError.invalidParameter(InvalidParameter(name: "columns", value: "none", expected: "at least one column name of \(source)"))
    }
    let records = try splitRecords(text, source: source)
    guard let (headerLine, headerFields) = records.first else {
      throw TimeSeriesError.unreadable("\(source) is empty; expected a header line and data rows")
    }
    _ = headerLine
    let header = headerFields.map { $0.trimmingCharacters(in: .whitespaces) }
    var selected: [Int] = []
    for name in columns {
      let matches = header.indices.filter { header[$0] == name }
      guard let index = matches.first else {
        throw TimeSeriesError.missingColumn(column: name, source: source, available: header)
      }
      guard matches.count == 1 else {
        throw TimeSeriesError.malformed("column name '\(name)' appears \(matches.count) times in the header of \(source); rename the duplicates")
      }
      selected.append(index)
    }
    if let twice = columns.first(where: { name in columns.filter { $0 == name }.count > 1 }) {
      throw TimeSeriesError.columnSelectedTwice(column: twice, columns: columns)
    }
    let body = records.dropFirst()
    guard !body.isEmpty else {
      throw TimeSeriesError.unreadable("\(source) has a header but no data rows")
    }

    let missingWords: Set<String> = ["", "na", "n/a", "null", "?"]
    var cells = [Double?](repeating: nil, count: body.count * selected.count)
    var other: [Int: [String]] = [:]
    let otherIndices = header.indices.filter { !selected.contains($0) }
    for i in otherIndices { other[i] = [] }
    for (r, (line, fields)) in body.enumerated() {
      guard fields.count == header.count else {
        throw TimeSeriesError.malformed("\(source) line \(line) has \(fields.count) fields but the header has \(header.count); fix the row")
      }
      for (c, index) in selected.enumerated() {
        let raw = fields[index].trimmingCharacters(in: .whitespaces)
        if missingWords.contains(raw.lowercased()) { continue }
        guard let value = Double(raw) else {
          throw TimeSeriesError.malformed("\(source) line \(line), column '\(header[index])': '\(raw)' is not a number; fix or empty the cell")
        }
        guard value.isFinite else {
          throw TimeSeriesError.malformed(
            "\(source) line \(line), column '\(header[index])': '\(raw)' is not a finite number; NaN and infinite values are not allowed (leave the cell empty to mark it missing)")
        }
        cells[r * selected.count + c] = value
      }
      for i in otherIndices { other[i]!.append(fields[i]) }
    }

    let width = selected.count
    var rowsKept = Array(0..<body.count)
    var filled = 0
    let lines = body.map(\.0)
    switch missing {
    case .error:
      if let k = cells.firstIndex(where: { $0 == nil }) {
        let r = k / width, c = k % width
        throw TimeSeriesError.emptyCell(source: source, line: lines[r], column: columns[c])
      }
    case .drop:
      rowsKept = rowsKept.filter { r in (0..<width).allSatisfy { cells[r * width + $0] != nil } }
      guard !rowsKept.isEmpty else {
        throw TimeSeriesError.missingValue("every row of \(source) has a missing value in the selected columns; nothing is left after dropping them")
      }
    case .interpolate:
      for c in 0..<width {
        let known = (0..<body.count).filter { cells[$0 * width + c] != nil }
        guard let first = known.first, let last = known.last else {
          throw TimeSeriesError.missingValue("column '\(columns[c])' of \(source) has no values at all; choose another column")
        }
        for r in 0..<body.count where cells[r * width + c] == nil {
          filled += 1
          if r < first { cells[r * width + c] = cells[first * width + c]; continue }
          if r > last { cells[r * width + c] = cells[last * width + c]; continue }
          // Neighbours: the known rows around r.
          var lo = r - 1
          while cells[lo * width + c] == nil { lo -= 1 }
          var hi = r + 1
          while cells[hi * width + c] == nil { hi += 1 }
          let a = cells[lo * width + c]!, b = cells[hi * width + c]!
          // Only originally known cells are neighbours: filled cells to the left are already
          // interpolated on the same line, which gives the same value.
          let f = Double(r - lo) / Double(hi - lo)
          cells[r * width + c] = a + (b - a) * f
        }
      }
    }

    var storage = [Double]()
    storage.reserveCapacity(rowsKept.count * width)
    for r in rowsKept {
      for c in 0..<width { storage.append(cells[r * width + c]!) }
    }
    var otherColumns: [String: [String]] = [:]
    for i in otherIndices { otherColumns[header[i]] = rowsKept.map { other[i]![$0] } }
    return TimeSeriesTable(header: header, columnNames: columns,
                           values: DoubleMatrix(rows: rowsKept.count, columns: width, storage: storage),
                           otherColumns: otherColumns, droppedRows: body.count - rowsKept.count,
                           filledValues: filled)
  }

  /// Splits CSV text into records of fields, with the 1-based line number each record starts on;
  /// blank lines are skipped (the shared RFC 4180 splitter, ``CSVRecords``).
  static func splitRecords(_ text: String, source: String) throws -> [(Int, [String])] {
    do {
      return try CSVRecords.split(text, source: source).map { ($0.line, $0.fields) }
    } catch {
      throw TimeSeriesError.malformed(error.description)
    }
  }
}
