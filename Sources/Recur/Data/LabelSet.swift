/// The classes of a classification (or the tags of a tagging) task, in a fixed, sorted order: the
/// id of a label is its index.
///
/// Integer labels (`"2"`, `"10"`, `"-1"`) sort numerically, any other label set sorts by its text,
/// so ids never depend on the order of the rows.
public struct LabelSet: Sendable, Codable, Equatable, Hashable {
  /// The labels in id order.
  public let labels: [String]

  /// The distinct labels of `labels`, sorted (numerically when every label is an integer).
  public init(_ labels: some Sequence<String>) {
    let distinct = Set(labels)
    if distinct.allSatisfy({ Int($0) != nil }) {
      self.labels = distinct.sorted { (Int($0)!, $0) < (Int($1)!, $1) }
    } else {
      self.labels = distinct.sorted()
    }
  }

  /// Number of labels.
  public var count: Int { labels.count }

  /// The id of `label`, or nil when it is not in the set.
  public func id(of label: String) -> Int? {
    // Sets are small (classes, tags): a binary search on the sorted order would need the numeric
    // rule again; a linear scan is simple and fast enough.
    labels.firstIndex(of: label)
  }

  /// The label with id `id`.
  public subscript(id: Int) -> String { labels[id] }

  /// Labels of items that are not in `.test` form the set; a label seen only in test rows is
  /// an error naming its first row.
  static func fromTraining(_ rows: [(label: String, split: DataSplit?, line: Int)], source: String,
                           column: String) throws(DataError) -> LabelSet {
    let set = LabelSet(rows.lazy.filter { $0.split != .test }.map(\.label))
    let known = Set(set.labels)
    if let row = rows.first(where: { !known.contains($0.label) }) {
      throw .labelOnlyInTest(label: row.label, source: source, line: row.line, column: column)
    }
    return set
  }

  /// The ids of `rows` in `set`; a label outside it is an error naming its row.
  func ids(_ rows: [(label: String, split: DataSplit?, line: Int)], source: String, column: String) throws(DataError) -> [Int] {
    var index: [String: Int] = [:]
    for (i, label) in labels.enumerated() { index[label] = i }
    var ids: [Int] = []
    ids.reserveCapacity(rows.count)
    for row in rows {
      guard let id = index[row.label] else {
        throw .unknownLabel(label: row.label, source: source, line: row.line, column: column, known: labels)
      }
      ids.append(id)
    }
    return ids
  }
}
