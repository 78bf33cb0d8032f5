/// RFC 4180 CSV records: fields separated by commas, `"quoted, fields"`, `""` for a quote inside
/// quotes, line breaks inside quotes, CRLF or LF line ends, a UTF-8 byte-order mark ignored, blank
/// lines skipped. Each record carries the 1-based line number it starts on.
enum CSVRecords {
  /// Splits CSV text into records of fields with the line each record starts on.
  static func split(_ text: String, source: String) throws(DataError) -> [(line: Int, fields: [String])] {
    var records: [(line: Int, fields: [String])] = []
    var fields: [String] = []
    var field = ""
    var inQuotes = false
    var line = 1
    var recordLine = 1
    var fieldWasQuoted = false
    var scalars = text.unicodeScalars[...]
    if scalars.first == "\u{FEFF}" { scalars = scalars.dropFirst() }
    var iterator = scalars.makeIterator()
    var pending: Unicode.Scalar? = nil

    func endRecord() {
      fields.append(field)
      let blank = fields.count == 1 && fields[0].trimmingCharacters(in: .whitespaces).isEmpty && !fieldWasQuoted
      if !blank { records.append((recordLine, fields)) }
      fields = []
      field = ""
      fieldWasQuoted = false
    }

    while let ch = pending ?? iterator.next() {
      pending = nil
      if inQuotes {
        if ch == "\"" {
          if let next = iterator.next() {
            if next == "\"" { field.unicodeScalars.append("\"") } else { inQuotes = false; pending = next }
          } else {
            inQuotes = false
          }
        } else {
          if ch == "\n" { line += 1 }
          field.unicodeScalars.append(ch)
        }
        continue
      }
      switch ch {
      case "\"":
        if field.trimmingCharacters(in: .whitespaces).isEmpty {
          field = ""
          inQuotes = true
          fieldWasQuoted = true
        } else {
          field.unicodeScalars.append(ch)
        }
      case ",":
        fields.append(field)
        field = ""
      case "\r":
        if let next = iterator.next(), next != "\n" { pending = next }
        endRecord()
        line += 1
        recordLine = line
      case "\n":
        endRecord()
        line += 1
        recordLine = line
      default:
        field.unicodeScalars.append(ch)
      }
    }
    if inQuotes { throw .unclosedQuote(source: source, line: recordLine) }
    if !field.isEmpty || !fields.isEmpty { endRecord() }
    return records
  }
}

/// A CSV file split into a trimmed header and rectangular rows, with column lookup by name.
struct CSVTable {
  /// The file name errors use.
  let source: String
  /// The header names, trimmed.
  let header: [String]
  /// The data rows (every one has `header.count` fields) and their starting lines.
  let rows: [(line: Int, fields: [String])]

  /// Splits `text`; ragged rows, a missing header, duplicate header names and a header without rows are errors.
  init(_ text: String, source: String) throws(DataError) {
    let records = try CSVRecords.split(text, source: source)
    guard let first = records.first else { throw .empty(source: source, reason: "is empty; expected a header line and data rows") }
    header = first.fields.map { $0.trimmingCharacters(in: .whitespaces) }
    var seen = Set<String>()
    for name in header where !seen.insert(name).inserted { throw .duplicateColumn(column: name, source: source) }
    rows = Array(records.dropFirst())
    guard !rows.isEmpty else { throw .empty(source: source, reason: "has a header but no data rows") }
    for row in rows where row.fields.count != header.count {
      throw .raggedRow(source: source, line: row.line, fields: row.fields.count, expected: header.count)
    }
    self.source = source
  }

  /// The index of column `name`.
  func column(_ name: String) throws(DataError) -> Int {
    guard let index = header.firstIndex(of: name) else { throw .unknownColumn(column: name, source: source, available: header) }
    return index
  }

  /// The index of column `name` if given; otherwise of `fallback` when the header has it.
  func optionalColumn(_ name: String?, fallback: String) throws(DataError) -> Int? {
    if let name { return try column(name) }
    return header.firstIndex(of: fallback)
  }

  /// The cell of `row` in `column` parsed as a finite number.
  func number(_ row: (line: Int, fields: [String]), _ column: Int) throws(DataError) -> Double {
    let raw = row.fields[column].trimmingCharacters(in: .whitespaces)
    if raw.isEmpty || raw == "?" { throw .missingValue(source: source, line: row.line, column: header[column]) }
    guard let value = Double(raw), value.isFinite else {
      throw .notANumber(source: source, line: row.line, column: header[column], text: raw)
    }
    return value
  }

  /// The cell of `row` in `column` parsed as a split (nil when the column is nil).
  func split(_ row: (line: Int, fields: [String]), _ column: Int?) throws(DataError) -> DataSplit? {
    guard let column else { return nil }
    let raw = row.fields[column].trimmingCharacters(in: .whitespaces)
    guard let split = DataSplit(parsing: raw) else {
      throw .unknownSplit(value: raw, source: source, line: row.line, column: header[column])
    }
    return split
  }
}
