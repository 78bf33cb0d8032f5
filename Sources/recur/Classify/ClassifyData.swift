import Foundation
import Recur


/// The parts of a labelled text table: training, validation and test rows.
struct ClassifySplits {
  var train: [LabeledText]
  var validation: [LabeledText]
  var test: [LabeledText]

  /// The table's own `split` column when it has one; otherwise a seeded stratified split: `testFraction`
  /// of all rows to test, then `validationFraction` of the rest to validation.
  static func make(_ table: LabeledTextTable, testFraction: Double, validationFraction: Double, seed: UInt64) throws -> ClassifySplits {
    /// The indices of `labels` kept and held out by the library's seeded stratified split.
    func split(labels: [Int], heldOutFraction: Double, seed: UInt64) throws -> (kept: [Int], heldOut: [Int]) {
      let held = try StratifiedSplit.validationIndices(labels: labels, validationFraction: heldOutFraction, seed: seed)
      return (labels.indices.filter { !held.contains($0) }, labels.indices.filter { held.contains($0) })
    }
    if table.examples.contains(where: { $0.split != nil }) {
      var s = ClassifySplits(train: table.examples(in: .train), validation: table.examples(in: .validation), test: table.examples(in: .test))
      if s.validation.isEmpty {
        let (kept, held) = try split(labels: s.train.map(\.label), heldOutFraction: validationFraction, seed: seed &+ 1)
        s = ClassifySplits(train: kept.map { s.train[$0] }, validation: held.map { s.train[$0] }, test: s.test)
      }
      return s
    }
    let all = table.examples
    let (rest, test) = try split(labels: all.map(\.label), heldOutFraction: testFraction, seed: seed)
    let (train, validation) = try split(labels: rest.map { all[$0].label }, heldOutFraction: validationFraction, seed: seed &+ 1)
    return ClassifySplits(train: train.map { all[rest[$0]] }, validation: validation.map { all[rest[$0]] }, test: test.map { all[$0] })
  }

  /// Writes `line,part` for every row (its first line in the data file; part train, validation
  /// or test), so other tools (e.g. `Tools/Baselines/tfidf_logistic.py`) score the same split.
  func write(to url: URL) throws {
    let rows = [("train", train), ("validation", validation), ("test", test)].flatMap { part, rows in rows.map { ($0.line, part) } }
    let text = "line,part\n" + rows.sorted { $0.0 < $1.0 }.map { "\($0.0),\($0.1)\n" }.joined()
    try Data(text.utf8).write(to: url, options: .atomic)
  }
}

/// The rows of `table` as a dataset for a model whose classes are `labelNames` (labels matched by name).
func classificationDataset(_ rows: [LabeledText], table: LabeledTextTable, labelNames: [String], input: TextClassificationInput,
                           labelColumn: String) throws -> ClassificationDataset {
  let ids = Dictionary(uniqueKeysWithValues: labelNames.enumerated().map { ($1, $0) })
  let labels = try rows.map { row -> Int in
    let name = table.labels[row.label]
    guard let id = ids[name] else {
      throw DataError.unknownLabel(label: name, source: table.source, line: row.line, column: labelColumn, known: labelNames)
    }
    return id
  }
  return try input.dataset(rows.map(\.text), labels: labels)
}
