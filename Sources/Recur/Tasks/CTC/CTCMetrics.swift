/// How well decoded label sequences match their references: the label error rate (the summed
/// edit distances over the summed reference lengths, as speech recognition reports it; it can
/// exceed 1 with many insertions) and the share of sequences decoded exactly.
public struct CTCMetrics: Sendable, Equatable {
  /// Summed edit distances (substitutions, insertions, deletions).
  public private(set) var errors = 0
  /// Summed reference lengths.
  public private(set) var referenceLength = 0
  /// Sequences decoded exactly.
  public private(set) var exact = 0
  /// Sequences scored.
  public private(set) var count = 0

  /// Empty metrics.
  public init() {}

  /// Metrics from their sums.
  public init(errors: Int, referenceLength: Int, exact: Int, count: Int) {
    self.errors = errors
    self.referenceLength = referenceLength
    self.exact = exact
    self.count = count
  }

  /// The metrics of `decoded` against `references`, pairwise.
  public init(decoded: [[Int]], references: [[Int]]) {
    for (d, r) in zip(decoded, references) { add(decoded: d, reference: r) }
  }

  /// Scores one sequence.
  public mutating func add(decoded: [Int], reference: [Int]) {
    errors += CTCDecoder.editDistance(decoded, reference)
    referenceLength += reference.count
    exact += decoded == reference ? 1 : 0
    count += 1
  }

  /// Edit distance / reference length (0 when there is nothing to score).
  public var labelErrorRate: Double { referenceLength > 0 ? Double(errors) / Double(referenceLength) : 0 }
  /// Exactly decoded sequences / sequences (0 when there are none).
  public var sequenceAccuracy: Double { count > 0 ? Double(exact) / Double(count) : 0 }
}
