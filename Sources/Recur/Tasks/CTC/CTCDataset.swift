/// Model-ready CTC sequences in memory: the steps of each sequence (standardised, stacked by a
/// ``CTCInput``) and, for labelled data, its label classes (from a ``CTCAlphabet``).
public struct CTCDataset: Sendable {
  /// Each sequence's id.
  public let ids: [String]
  /// Each sequence's steps, flattened `[T, stepWidth]`.
  public let steps: [[Float]]
  /// Values per step.
  public let stepWidth: Int
  /// Each sequence's label classes (1…C−1); empty for unlabelled data.
  public let targets: [[Int]]
  /// Each sequence's line in `source` (for messages).
  public let lines: [Int]
  /// The file the sequences came from (for messages).
  public let source: String

  /// The `items` read through `input`, their transcriptions encoded with `alphabet` (nil:
  /// unlabelled). Throws `DataError` for frames of another width than the input's, and for a
  /// transcription character outside the alphabet (naming the item's line in `source` and
  /// `labelColumn`).
  public init(_ items: [TranscribedSequence], featureCount: Int, input: CTCInput, alphabet: CTCAlphabet?, source: String,
              labelColumn: String = "label") throws {
    guard featureCount == input.featureCount else {
      throw DataError.invalidParameter(InvalidParameter("featureCount", featureCount,
                                                        expected: "the \(input.featureCount) features per frame the model was trained on"))
    }
    ids = items.map(\.id)
    lines = items.map(\.line)
    self.source = source
    steps = items.map { input.transform($0.values) }
    stepWidth = input.stepWidth
    targets = try alphabet.map { a in try items.map { try a.encode($0.transcript, source: source, line: $0.line, column: labelColumn) } } ?? []
  }

  /// The number of sequences.
  public var count: Int { ids.count }

  /// The sequences `range` (with their targets).
  public func subset(_ range: Range<Int>) -> CTCDataset {
    CTCDataset(ids: Array(ids[range]), steps: Array(steps[range]), stepWidth: stepWidth,
               targets: targets.isEmpty ? [] : Array(targets[range]), lines: Array(lines[range]), source: source)
  }

  private init(ids: [String], steps: [[Float]], stepWidth: Int, targets: [[Int]], lines: [Int], source: String) {
    self.ids = ids
    self.steps = steps
    self.stepWidth = stepWidth
    self.targets = targets
    self.lines = lines
    self.source = source
  }

  /// Each sequence's number of steps.
  public var lengths: [Int] { steps.map { $0.count / stepWidth } }

  /// The index of the first labelled sequence no CTC alignment fits (fewer steps than its labels
  /// plus one blank between each pair of equal neighbours), or nil.
  public func firstUnalignable() -> Int? {
    let lengths = self.lengths
    return targets.indices.first { i in
      let t = targets[i]
      let repeats = zip(t, t.dropFirst()).filter { $0 == $1 }.count
      return lengths[i] < t.count + repeats
    }
  }

  /// The padded batch of sequences `indices`: steps `[T, B, stepWidth]` (time-major, zero past
  /// each length), their lengths and targets.
  public func batch(_ indices: some Collection<Int>) -> (input: Tensor, lengths: [Int], targets: [[Int]]) {
    let w = stepWidth
    let lengths = indices.map { steps[$0].count / w }
    let b = indices.count, t = lengths.max() ?? 0
    var x = [Float](repeating: 0, count: t * b * w)
    for (j, i) in indices.enumerated() {
      steps[i].withUnsafeBufferPointer { s in
        for step in 0..<lengths[j] {
          for k in 0..<w { x[(step * b + j) * w + k] = s[step * w + k] }
        }
      }
    }
    return (Tensor(shape: [t, b, w], scalars: x), lengths, targets.isEmpty ? [] : indices.map { targets[$0] })
  }

  /// Batches of up to `batchSize` indices covering the dataset, sorted by length (little padding).
  public func lengthSortedBatches(batchSize: Int) -> [[Int]] {
    let all = lengths
    let order = all.indices.sorted { all[$0] != all[$1] ? all[$0] < all[$1] : $0 < $1 }
    return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<Swift.min(order.count, $0 + batchSize)]) }
  }
}
