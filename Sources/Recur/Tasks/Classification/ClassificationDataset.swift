/// Labelled sequences in memory: token-id sequences (ids ≥ 1; 0 is padding) or numeric frame
/// sequences (`[T, F]` rows, flattened), each with a class index.
public struct ClassificationDataset: Sendable {
  /// The sequences of a dataset.
  public enum Sequences: Sendable {
    /// Token ids per sequence, each id in `1..<V`.
    case tokens([[Int]])
    /// Frames per sequence, flattened `[T, featureCount]`.
    case frames([[Float]], featureCount: Int)
  }

  /// The sequences.
  public var sequences: Sequences
  /// The class index of each sequence (empty for unlabelled data).
  public var labels: [Int]

  /// A dataset; throws `TrainingError.invalidSetting` when a sequence is empty, a frame row is
  /// incomplete or the labels do not match the sequences.
  public init(sequences: Sequences, labels: [Int]) throws {
    self.sequences = sequences
    self.labels = labels
    let lengths = self.lengths
    if let empty = lengths.firstIndex(of: 0) {
      throw TrainingError.invalidSetting(InvalidParameter("sequences[\(empty)]", "an empty sequence", expected: "at least one step"))
    }
    if case let .frames(rows, f) = sequences, let bad = rows.firstIndex(where: { $0.count % f != 0 }) {
      throw TrainingError.invalidSetting(InvalidParameter("sequences[\(bad)]", "\(rows[bad].count) values",
                                                          expected: "a multiple of the \(f) features"))
    }
    try TrainingError.require(labels.isEmpty || labels.count == lengths.count, "labels", labels.count, "one per sequence (\(lengths.count))")
  }

  /// The number of sequences.
  public var count: Int { lengths.count }

  /// Each sequence's number of steps.
  public var lengths: [Int] {
    switch sequences {
    case let .tokens(s): return s.map(\.count)
    case let .frames(s, f): return s.map { $0.count / f }
    }
  }

  /// The padded batch of sequences `indices` (time-major, zero past each length), their lengths
  /// and labels.
  public func batch(_ indices: some Collection<Int>) -> (input: ClassifierInput, lengths: [Int], labels: [Int]) {
    let all = lengths
    let lengths = indices.map { all[$0] }
    let b = indices.count, t = lengths.max() ?? 0
    let labels = self.labels.isEmpty ? [] : indices.map { self.labels[$0] }
    switch sequences {
    case let .tokens(s):
      var ids = [Int](repeating: 0, count: t * b)
      for (j, i) in indices.enumerated() { for (step, id) in s[i].enumerated() { ids[step * b + j] = id } }
      return (.tokens(ids, steps: t, batchSize: b), lengths, labels)
    case let .frames(s, f):
      var x = [Float](repeating: 0, count: t * b * f)
      for (j, i) in indices.enumerated() {
        for step in 0..<lengths[j] { for k in 0..<f { x[(step * b + j) * f + k] = s[i][step * f + k] } }
      }
      return (.frames(Tensor(shape: [t, b, f], scalars: x)), lengths, labels)
    }
  }

  /// The sequences `range` (with their labels).
  public func subset(_ range: Range<Int>) -> ClassificationDataset {
    var part = self
    switch sequences {
    case let .tokens(s): part.sequences = .tokens(Array(s[range]))
    case let .frames(s, f): part.sequences = .frames(Array(s[range]), featureCount: f)
    }
    if !labels.isEmpty { part.labels = Array(labels[range]) }
    return part
  }

  /// Batches of up to `batchSize` indices covering the dataset, the sequences sorted by length
  /// (so little padding is computed).
  public func lengthSortedBatches(batchSize: Int) -> [[Int]] {
    let all = lengths
    let order = all.indices.sorted { all[$0] != all[$1] ? all[$0] < all[$1] : $0 < $1 }
    return stride(from: 0, to: order.count, by: batchSize).map { Array(order[$0..<Swift.min(order.count, $0 + batchSize)]) }
  }
}

extension SequenceClassifier {
  /// Class probabilities `[count][C]` of every sequence of `data`, in evaluation mode, computed
  /// in length-sorted batches of `batchSize`.
  public func probabilities(_ data: ClassificationDataset, batchSize: Int = 256) throws -> [[Float]] {
    var result = [[Float]](repeating: [], count: data.count)
    var context = ForwardContext.inference
    let c = configuration.classCount
    try withoutGradients {
      for indices in data.lengthSortedBatches(batchSize: batchSize) {
        let (input, lengths, _) = data.batch(indices)
        let p = try self(input, lengths: lengths, context: &context).softmax().scalars
        for (j, i) in indices.enumerated() { result[i] = Array(p[(j * c)..<((j + 1) * c)]) }
      }
    }
    return result
  }
}
