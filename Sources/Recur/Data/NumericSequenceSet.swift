/// One numeric sequence: `steps` time steps of `featureCount` Float values, a label and a split.
public struct NumericSequence: Sendable, Equatable {
  /// The series' id (the series-id cell, or the row number for one-row-per-series layouts).
  public var id: String
  /// Number of time steps T.
  public var steps: Int
  /// The values `[T, F]`, row-major: step t's features are `values[t*F ..< (t+1)*F]`.
  public var values: [Float]
  /// The label's id in the set's ``NumericSequenceSet/labels``.
  public var label: Int
  /// The series' split, or nil when the file has none.
  public var split: DataSplit?
  /// The 1-based line where the series starts (its first row).
  public var line: Int

  /// A sequence from its parts.
  public init(id: String, steps: Int, values: [Float], label: Int, split: DataSplit?, line: Int) {
    self.id = id
    self.steps = steps
    self.values = values
    self.label = label
    self.split = split
    self.line = line
  }
}

/// Labelled numeric sequences for sequence classification: the items, their feature count and
/// their ``LabelSet``.
///
/// Readers (each with a `parse…` twin for text in memory): ``readWide(contentsOf:labelColumn:splitColumn:featuresPerStep:labels:)``
/// (one row per series), ``readLong(contentsOf:seriesColumn:stepColumn:labelColumn:splitColumn:featureColumns:labels:)``
/// (one row per step), ``readJoined(features:labels:idColumn:stepColumn:labelColumn:splitColumn:featureColumns:labelSet:)``
/// (steps in one file, labels in another) and ``readTS(contentsOf:split:labels:)`` (the UCR/UEA `.ts` format).
/// Without a given `labels` set, the set is the labels of the non-test items (a label only test
/// items carry is an error); with one, a label outside it is an error.
public struct NumericSequenceSet: Sendable {
  /// The file name used in messages.
  public let source: String
  /// Features per time step F.
  public let featureCount: Int
  /// The label of each id.
  public let labels: LabelSet
  /// The sequences, in file order (first row of each series).
  public var items: [NumericSequence]

  /// A set of in-memory items (each `values.count == steps * featureCount`).
  public init(items: [NumericSequence], featureCount: Int, labels: LabelSet, source: String = "memory") {
    self.items = items
    self.featureCount = featureCount
    self.labels = labels
    self.source = source
  }

  /// The items of `split`; `.train` also includes items without a split.
  public func items(in split: DataSplit) -> [NumericSequence] {
    items.filter { ($0.split ?? .train) == split }
  }

  /// This set followed by `other` (e.g. a `.ts` training file and its test file); both must have
  /// the same feature count and label set.
  public func appending(_ other: NumericSequenceSet) throws -> NumericSequenceSet {
    guard other.featureCount == featureCount else {
      throw DataError.invalidParameter(InvalidParameter("other.featureCount", other.featureCount, expected: "\(featureCount) like \(source)"))
    }
    guard other.labels == labels else {
      throw DataError.invalidParameter(InvalidParameter(name: "other.labels", value: other.labels.labels.joined(separator: ","),
                                                        expected: "the labels of \(source) (\(labels.labels.joined(separator: ",")))"))
    }
    return NumericSequenceSet(items: items + other.items, featureCount: featureCount, labels: labels, source: source)
  }

  /// Assembles a set from raw items: label texts become ids (see the type's rule about `labels`).
  static func assemble(_ raw: [(item: NumericSequence, label: String)], featureCount: Int, labels: LabelSet?,
                       source: String, labelColumn: String) throws(DataError) -> NumericSequenceSet {
    guard !raw.isEmpty else { throw .empty(source: source, reason: "has no series") }
    let rows = raw.map { (label: $0.label, split: $0.item.split, line: $0.item.line) }
    let set: LabelSet
    if let labels { set = labels } else { set = try LabelSet.fromTraining(rows, source: source, column: labelColumn) }
    let ids = try set.ids(rows, source: source, column: labelColumn)
    var items = raw.map(\.item)
    for i in items.indices { items[i].label = ids[i] }
    return NumericSequenceSet(items: items, featureCount: featureCount, labels: set, source: source)
  }
}
