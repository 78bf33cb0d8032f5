import Foundation

/// The CSV layouts of numeric sequences: wide, long and long with labels joined from a second file.
extension NumericSequenceSet {
  /// Reads the wide layout; see ``parseWide(_:labelColumn:splitColumn:featuresPerStep:labels:source:)``.
  public static func readWide(contentsOf url: URL, labelColumn: String = "label", splitColumn: String? = nil,
                              featuresPerStep: Int = 1, labels: LabelSet? = nil) throws -> NumericSequenceSet {
    let file = try DataFile.text(url)
    return try parseWide(file.text, labelColumn: labelColumn, splitColumn: splitColumn, featuresPerStep: featuresPerStep,
                         labels: labels, source: file.source)
  }

  /// One row per series: `split, label, t0 … tN` (e.g. `gunpoint.csv`). Every column but the label
  /// and split columns is a value, in header order, read as steps of `featuresPerStep` features
  /// (`digits_8x8.csv`: 64 pixels, 8 per step → 8 steps × 8 features). `splitColumn` nil uses a
  /// column named `split` when there is one. The id of a series is its 0-based row number.
  public static func parseWide(_ text: String, labelColumn: String = "label", splitColumn: String? = nil,
                               featuresPerStep: Int = 1, labels: LabelSet? = nil, source: String = "CSV") throws -> NumericSequenceSet {
    guard featuresPerStep >= 1 else { throw DataError.invalidParameter(InvalidParameter("featuresPerStep", featuresPerStep, expected: ">= 1")) }
    let table = try CSVTable(text, source: source)
    let labelIndex = try table.column(labelColumn)
    let splitIndex = try table.optionalColumn(splitColumn, fallback: "split")
    let valueIndices = table.header.indices.filter { $0 != labelIndex && $0 != splitIndex }
    guard valueIndices.count % featuresPerStep == 0 else {
      throw DataError.invalidParameter(InvalidParameter("featuresPerStep", featuresPerStep,
                                                        expected: "a divisor of the \(valueIndices.count) value columns of \(source)"))
    }
    var raw: [(item: NumericSequence, label: String)] = []
    for (r, row) in table.rows.enumerated() {
      guard !valueIndices.isEmpty else { throw DataError.emptySeries(series: "\(r)", source: source, line: row.line) }
      var values: [Float] = []
      values.reserveCapacity(valueIndices.count)
      for c in valueIndices { values.append(Float(try table.number(row, c))) }
      let item = NumericSequence(id: "\(r)", steps: valueIndices.count / featuresPerStep, values: values, label: 0,
                                 split: try table.split(row, splitIndex), line: row.line)
      raw.append((item, row.fields[labelIndex].trimmingCharacters(in: .whitespaces)))
    }
    return try assemble(raw, featureCount: featuresPerStep, labels: labels, source: source, labelColumn: labelColumn)
  }

  /// Reads the long layout; see ``parseLong(_:seriesColumn:stepColumn:labelColumn:splitColumn:featureColumns:labels:source:)``.
  public static func readLong(contentsOf url: URL, seriesColumn: String = "series_id", stepColumn: String = "t",
                              labelColumn: String = "label", splitColumn: String? = nil, featureColumns: [String]? = nil,
                              labels: LabelSet? = nil) throws -> NumericSequenceSet {
    let file = try DataFile.text(url)
    return try parseLong(file.text, seriesColumn: seriesColumn, stepColumn: stepColumn, labelColumn: labelColumn,
                         splitColumn: splitColumn, featureColumns: featureColumns, labels: labels, source: file.source)
  }

  /// One row per step: `split, series_id, label, t, d0 … dK` (e.g. `basicmotions.csv`). Rows of a
  /// series may come in any order and are sorted by the integer step; series may differ in length.
  /// A gap or a repeated step is an error naming the series; so is a series whose rows disagree on
  /// label or split. `featureColumns` nil takes every other column, in header order.
  public static func parseLong(_ text: String, seriesColumn: String = "series_id", stepColumn: String = "t",
                               labelColumn: String = "label", splitColumn: String? = nil, featureColumns: [String]? = nil,
                               labels: LabelSet? = nil, source: String = "CSV") throws -> NumericSequenceSet {
    let table = try CSVTable(text, source: source)
    let labelIndex = try table.column(labelColumn)
    let splitIndex = try table.optionalColumn(splitColumn, fallback: "split")
    let layout = try LongLayout(table, seriesColumn: seriesColumn, stepColumn: stepColumn, featureColumns: featureColumns,
                                excluding: [labelIndex, splitIndex].compactMap { $0 })
    let raw = try layout.series(table) { row, id throws(DataError) in
      (row.fields[labelIndex].trimmingCharacters(in: .whitespaces), try table.split(row, splitIndex), labelColumn)
    }
    return try assemble(raw, featureCount: layout.features.count, labels: labels, source: source, labelColumn: labelColumn)
  }

  /// Reads steps from `features` and labels from `labels`; see
  /// ``parseJoined(features:labels:idColumn:stepColumn:labelColumn:splitColumn:featureColumns:labelSet:featuresSource:labelsSource:)``.
  public static func readJoined(features: URL, labels: URL, idColumn: String = "utt", stepColumn: String = "frame",
                                labelColumn: String = "digit", splitColumn: String? = nil, featureColumns: [String]? = nil,
                                labelSet: LabelSet? = nil) throws -> NumericSequenceSet {
    let f = try DataFile.text(features), l = try DataFile.text(labels)
    return try parseJoined(features: f.text, labels: l.text, idColumn: idColumn, stepColumn: stepColumn, labelColumn: labelColumn,
                           splitColumn: splitColumn, featureColumns: featureColumns, labelSet: labelSet,
                           featuresSource: f.source, labelsSource: l.source)
  }

  /// Steps in one file (`id, step, c0 … cK`, e.g. `fsdd_mfcc13.csv`), a label and optional split
  /// per id in another (e.g. `fsdd_index.csv`: `utt, …, digit, …, split`), joined on `idColumn`.
  /// Items follow the label file's order. An id of the feature file without a label row, and a
  /// label row without any step (a series of length 0), are errors.
  public static func parseJoined(features: String, labels: String, idColumn: String = "utt", stepColumn: String = "frame",
                                 labelColumn: String = "digit", splitColumn: String? = nil, featureColumns: [String]? = nil,
                                 labelSet: LabelSet? = nil, featuresSource: String = "features CSV",
                                 labelsSource: String = "labels CSV") throws -> NumericSequenceSet {
    let index = try CSVTable(labels, source: labelsSource)
    let indexID = try index.column(idColumn), indexLabel = try index.column(labelColumn)
    let indexSplit = try index.optionalColumn(splitColumn, fallback: "split")
    var entries: [String: (label: String, split: DataSplit?, line: Int)] = [:]
    var order: [String] = []
    for row in index.rows {
      let id = row.fields[indexID].trimmingCharacters(in: .whitespaces)
      guard entries[id] == nil else {
        throw DataError.inconsistentSeries(series: id, source: labelsSource, line: row.line, column: idColumn, problem: "has two label rows")
      }
      entries[id] = (row.fields[indexLabel].trimmingCharacters(in: .whitespaces), try index.split(row, indexSplit), row.line)
      order.append(id)
    }
    let table = try CSVTable(features, source: featuresSource)
    let layout = try LongLayout(table, seriesColumn: idColumn, stepColumn: stepColumn, featureColumns: featureColumns, excluding: [])
    let raw = try layout.series(table) { row, id throws(DataError) in
      guard let entry = entries[id] else {
        throw .inconsistentSeries(series: id, source: featuresSource, line: row.line, column: idColumn,
                                  problem: "has no row in \(labelsSource)")
      }
      return (entry.label, entry.split, labelColumn)
    }
    var byID: [String: (item: NumericSequence, label: String)] = [:]
    for r in raw { byID[r.item.id] = r }
    let joined = try order.map { id throws(DataError) -> (item: NumericSequence, label: String) in
      let entry = entries[id]!
      guard var r = byID[id] else { throw .emptySeries(series: id, source: labelsSource, line: entry.line) }
      r.item.line = entry.line
      return r
    }
    return try assemble(joined, featureCount: layout.features.count, labels: labelSet, source: labelsSource, labelColumn: labelColumn)
  }
}

/// Columns of a long layout and the grouping of its rows into sorted, gap-free series.
struct LongLayout {
  let seriesIndex: Int, stepIndex: Int
  let features: [Int]

  init(_ table: CSVTable, seriesColumn: String, stepColumn: String, featureColumns: [String]?, excluding: [Int]) throws(DataError) {
    seriesIndex = try table.column(seriesColumn)
    stepIndex = try table.column(stepColumn)
    if let featureColumns {
      var indices: [Int] = []
      for name in featureColumns { indices.append(try table.column(name)) }
      features = indices
    } else {
      let skip = Set(excluding + [seriesIndex, stepIndex])
      features = table.header.indices.filter { !skip.contains($0) }
    }
    guard !features.isEmpty else { throw .empty(source: table.source, reason: "has no feature columns") }
  }

  /// The series in order of first appearance; `labelOf` gives a row's label, split and label column name.
  func series(_ table: CSVTable, labelOf: ((line: Int, fields: [String]), String) throws(DataError) -> (String, DataSplit?, String))
    throws(DataError) -> [(item: NumericSequence, label: String)] {
    var groups: [String: [(step: Int, line: Int, row: Int)]] = [:]
    var order: [String] = []
    var meta: [String: (label: String, split: DataSplit?, line: Int)] = [:]
    for (r, row) in table.rows.enumerated() {
      let id = row.fields[seriesIndex].trimmingCharacters(in: .whitespaces)
      let stepValue = try table.number(row, stepIndex)
      guard stepValue == stepValue.rounded(), abs(stepValue) < 1e15 else {
        throw .notANumber(source: table.source, line: row.line, column: table.header[stepIndex], text: row.fields[stepIndex])
      }
      let (label, split, labelColumn) = try labelOf(row, id)
      if let first = meta[id] {
        if first.label != label || first.split != split {
          throw .inconsistentSeries(series: id, source: table.source, line: row.line, column: labelColumn,
                                    problem: "has label/split '\(label)'/\(split?.rawValue ?? "-") here but '\(first.label)'/\(first.split?.rawValue ?? "-") on line \(first.line)")
        }
      } else {
        meta[id] = (label, split, row.line)
        order.append(id)
      }
      groups[id, default: []].append((Int(stepValue), row.line, r))
    }
    let stepName = table.header[stepIndex]
    var result: [(item: NumericSequence, label: String)] = []
    for id in order {
      let rows = groups[id]!.sorted { ($0.step, $0.line) < ($1.step, $1.line) }
      var values: [Float] = []
      values.reserveCapacity(rows.count * features.count)
      for (k, step) in rows.enumerated() {
        if k > 0 && step.step == rows[k - 1].step {
          throw .duplicateStep(series: id, source: table.source, line: step.line, column: stepName, step: step.step)
        }
        if k > 0 && step.step != rows[k - 1].step + 1 {
          throw .stepGap(series: id, source: table.source, line: step.line, column: stepName, expected: rows[k - 1].step + 1, found: step.step)
        }
        for c in features { values.append(Float(try table.number(table.rows[step.row], c))) }
      }
      let m = meta[id]!
      result.append((NumericSequence(id: id, steps: rows.count, values: values, label: 0, split: m.split, line: m.line), m.label))
    }
    return result
  }
}
