import Foundation

/// One numeric frame sequence with its transcription: the label *sequence* as text ("4071"),
/// each character one label, not aligned to the frames (what CTC learns from).
public struct TranscribedSequence: Sendable, Equatable {
  /// The sequence's id (the id cell).
  public var id: String
  /// Number of frames T.
  public var steps: Int
  /// The frames `[T, F]`, row-major.
  public var values: [Float]
  /// The transcription ("" when the frames were read without labels).
  public var transcript: String
  /// The sequence's split, or nil when there is none.
  public var split: DataSplit?
  /// The 1-based line of its label row (or of its first frame without labels).
  public var line: Int

  /// A sequence from its parts.
  public init(id: String, steps: Int, values: [Float], transcript: String, split: DataSplit?, line: Int) {
    self.id = id
    self.steps = steps
    self.values = values
    self.transcript = transcript
    self.split = split
    self.line = line
  }
}

/// Frame sequences with transcriptions, read from two CSV files joined on an id: the frames
/// (`id, frame, c0 … cK`, one row per frame, any row order) and one row per sequence with its
/// transcription and optional split (`id, label, split`).
public struct TranscribedSequenceSet: Sendable {
  /// The file name used in messages (the labels file, or the frames file without one).
  public let source: String
  /// Features per frame F.
  public let featureCount: Int
  /// The sequences: the labels file's order, or the frames file's without labels.
  public var items: [TranscribedSequence]

  /// A set of in-memory items (each `values.count == steps * featureCount`).
  public init(items: [TranscribedSequence], featureCount: Int, source: String = "memory") {
    self.items = items
    self.featureCount = featureCount
    self.source = source
  }

  /// The items of `split`; `.train` also includes items without a split.
  public func items(in split: DataSplit) -> [TranscribedSequence] {
    items.filter { ($0.split ?? .train) == split }
  }

  /// Reads `features` joined with `labels` (nil: the frames alone, for prediction); see
  /// ``parseJoined(features:labels:idColumn:stepColumn:labelColumn:splitColumn:featureColumns:featuresSource:labelsSource:)``.
  public static func readJoined(features: URL, labels: URL?, idColumn: String = "id", stepColumn: String = "frame",
                                labelColumn: String = "label", splitColumn: String? = nil,
                                featureColumns: [String]? = nil) throws -> TranscribedSequenceSet {
    let f = try DataFile.text(features), l = try labels.map(DataFile.text)
    return try parseJoined(features: f.text, labels: l?.text, idColumn: idColumn, stepColumn: stepColumn, labelColumn: labelColumn,
                           splitColumn: splitColumn, featureColumns: featureColumns, featuresSource: f.source,
                           labelsSource: l?.source ?? "labels CSV")
  }

  /// Frames in `features` (`idColumn`, `stepColumn`, then `featureColumns` or every other column),
  /// each id's steps sorted, gap-free and unrepeated; transcriptions (and the split, from
  /// `splitColumn` or a column named `split`) per id in `labels`. An id of the frames without a
  /// label row, a label row without frames, a repeated id and an empty transcription are errors
  /// naming the line and column. Without `labels`, every id of the frames is an item with an empty
  /// transcription and no split.
  public static func parseJoined(features: String, labels: String?, idColumn: String = "id", stepColumn: String = "frame",
                                 labelColumn: String = "label", splitColumn: String? = nil, featureColumns: [String]? = nil,
                                 featuresSource: String = "features CSV", labelsSource: String = "labels CSV") throws -> TranscribedSequenceSet {
    var entries: [String: (label: String, split: DataSplit?, line: Int)] = [:]
    var order: [String] = []
    if let labels {
      let index = try CSVTable(labels, source: labelsSource)
      let indexID = try index.column(idColumn), indexLabel = try index.column(labelColumn)
      let indexSplit = try index.optionalColumn(splitColumn, fallback: "split")
      for row in index.rows {
        let id = row.fields[indexID].trimmingCharacters(in: .whitespaces)
        guard entries[id] == nil else {
          throw DataError.inconsistentSeries(series: id, source: labelsSource, line: row.line, column: idColumn, problem: "has two label rows")
        }
        let label = row.fields[indexLabel].trimmingCharacters(in: .whitespaces)
        guard !label.isEmpty else { throw DataError.emptyText(source: labelsSource, line: row.line, column: labelColumn) }
        entries[id] = (label, try index.split(row, indexSplit), row.line)
        order.append(id)
      }
    }
    let table = try CSVTable(features, source: featuresSource)
    let layout = try LongLayout(table, seriesColumn: idColumn, stepColumn: stepColumn, featureColumns: featureColumns, excluding: [])
    let raw = try layout.series(table) { row, id throws(DataError) in
      guard labels != nil else { return ("", nil, labelColumn) }
      guard let entry = entries[id] else {
        throw .inconsistentSeries(series: id, source: featuresSource, line: row.line, column: idColumn, problem: "has no row in \(labelsSource)")
      }
      return (entry.label, entry.split, labelColumn)
    }
    func item(_ r: (item: NumericSequence, label: String)) -> TranscribedSequence {
      TranscribedSequence(id: r.item.id, steps: r.item.steps, values: r.item.values, transcript: r.label, split: r.item.split, line: r.item.line)
    }
    guard labels != nil else { return TranscribedSequenceSet(items: raw.map(item), featureCount: layout.features.count, source: featuresSource) }
    var byID: [String: (item: NumericSequence, label: String)] = [:]
    for r in raw { byID[r.item.id] = r }
    let items = try order.map { id throws(DataError) -> TranscribedSequence in
      let entry = entries[id]!
      guard let r = byID[id] else { throw .emptySeries(series: id, source: labelsSource, line: entry.line) }
      var joined = item(r)
      joined.line = entry.line
      return joined
    }
    return TranscribedSequenceSet(items: items, featureCount: layout.features.count, source: labelsSource)
  }
}
