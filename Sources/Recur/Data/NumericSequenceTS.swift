import Foundation

/// The UCR/UEA `.ts` text format (sktime's `load_from_tsfile` layout).
extension NumericSequenceSet {
  /// Reads a `.ts` file; see ``parseTS(_:split:labels:source:)``.
  public static func readTS(contentsOf url: URL, split: DataSplit? = nil, labels: LabelSet? = nil) throws -> NumericSequenceSet {
    let file = try DataFile.text(url)
    return try parseTS(file.text, split: split, labels: labels, source: file.source)
  }

  /// Parses `.ts` text: `#` comment lines, a header of `@problemName`, `@univariate`, `@dimensions`,
  /// `@equalLength`, `@seriesLength`, `@classLabel true l1 l2 …` (other `@` keys are ignored), then
  /// `@data` and one series a line: dimensions separated by `:`, values by `,`, the class label last.
  ///
  /// Every item gets `split` (a UCR archive ships train and test as two files: read both and
  /// ``appending(_:)``). The label set is `labels` when given, else the `@classLabel` list; a label
  /// outside it is an error. A missing value `?` is an error (this reader does not impute);
  /// so are dimensions of different lengths, an empty dimension, a dimension count that differs
  /// from `@dimensions` (or from the first series), lengths that differ under `@equalLength true`,
  /// `@timeStamps true` and `@classLabel false` (regression), which are not supported.
  public static func parseTS(_ text: String, split: DataSplit? = nil, labels: LabelSet? = nil,
                             source: String = "TS") throws -> NumericSequenceSet {
    var declared: [String]? = nil
    var dimensions: Int? = nil
    var equalLength = false
    var inData = false
    var raw: [(item: NumericSequence, label: String)] = []
    for (number, line) in DataFile.lines(text) {
      let trimmed = line.trimmingCharacters(in: .whitespaces)
      if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
      if !inData {
        guard trimmed.hasPrefix("@") else {
          throw DataError.malformed(source: source, line: number, column: nil, problem: "expected an @ header line or @data before the series")
        }
        let words = trimmed.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
        let key = words[0].lowercased(), flag = words.count > 1 ? words[1].lowercased() : ""
        func fail(_ problem: String) -> DataError { .malformed(source: source, line: number, column: words[0], problem: problem) }
        switch key {
        case "@data": inData = true
        case "@univariate": if flag == "true" { dimensions = 1 }
        case "@dimensions":
          guard words.count > 1, let n = Int(words[1]), n >= 1 else { throw fail("expected a dimension count >= 1") }
          dimensions = n
        case "@equallength": equalLength = flag == "true"
        case "@timestamps": if flag == "true" { throw fail("time-stamped series are not supported") }
        case "@targetlabel": if flag == "true" { throw fail("regression targets are not supported; a class label is needed") }
        case "@classlabel":
          guard flag == "true" else { throw fail("series without class labels are not supported") }
          guard words.count > 2 else { throw fail("expected the class labels after 'true'") }
          declared = Array(words.dropFirst(2))
        default: continue
        }
        continue
      }
      guard let declared else {
        throw DataError.malformed(source: source, line: number, column: nil, problem: "@classLabel true with the labels must come before @data")
      }
      var parts = trimmed.split(separator: ":", omittingEmptySubsequences: false)
      let label = parts.removeLast().trimmingCharacters(in: .whitespaces)
      let expected = dimensions ?? raw.first.map { $0.item.values.count / $0.item.steps } ?? parts.count
      guard parts.count == expected, expected >= 1 else {
        throw DataError.raggedRow(source: source, line: number, fields: parts.count, expected: expected)
      }
      var columns: [[Float]] = []
      for (d, part) in parts.enumerated() {
        let column = "dimension \(d + 1)"
        let cells = part.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        if cells.count == 1 && cells[0].isEmpty { throw DataError.emptySeries(series: "\(raw.count)", source: source, line: number) }
        var values: [Float] = []
        values.reserveCapacity(cells.count)
        for cell in cells {
          if cell == "?" || cell.isEmpty { throw DataError.missingValue(source: source, line: number, column: column) }
          guard let v = Double(cell), v.isFinite, Float(v).isFinite else { throw DataError.notANumber(source: source, line: number, column: column, text: cell) }
          values.append(Float(v))
        }
        if let first = columns.first, first.count != values.count {
          throw DataError.mismatchedLengths(series: "\(raw.count)", source: source, line: number, column: column,
                                            lengths: columns.map(\.count) + [values.count])
        }
        columns.append(values)
      }
      let steps = columns[0].count
      if equalLength, let first = raw.first, first.item.steps != steps {
        throw DataError.malformed(source: source, line: number, column: "dimension 1",
                                  problem: "series has \(steps) steps but @equalLength is true and the first series has \(first.item.steps)")
      }
      var values = [Float](repeating: 0, count: steps * columns.count)
      for (d, column) in columns.enumerated() { for t in 0..<steps { values[t * columns.count + d] = column[t] } }
      raw.append((NumericSequence(id: "\(raw.count)", steps: steps, values: values, label: 0, split: split, line: number), label))
    }
    guard inData else { throw DataError.empty(source: source, reason: "has no @data section") }
    guard let first = raw.first else { throw DataError.empty(source: source, reason: "has no series after @data") }
    let set = labels ?? LabelSet(declared ?? [])
    return try assemble(raw, featureCount: first.item.values.count / first.item.steps, labels: set, source: source,
                        labelColumn: "class label")
  }
}
