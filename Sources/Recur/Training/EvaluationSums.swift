/// What a task's evaluation adds up over validation examples: loss sums and the counts behind its
/// metrics (tokens, right answers, edit distances, a confusion matrix…), so that the sums over
/// parts of the validation data add up to the sums over all of it.
///
/// This is how every task's evaluation is split over the processes of a data-parallel run: each
/// process computes the sums of its part of the examples (``TrainingTask/evaluationSums(over:)``),
/// one sum all-reduce adds them, and the task turns the total into its ``Evaluation``
/// (``TrainingTask/evaluation(from:)``) — on one process the same code runs on all the examples.
///
/// A metric that is not a sum (a median, a ranking) is computed from per-example values: put each
/// example's value at its index in a vector entry of `validationCount` zeros; the sum over the
/// processes is then every value in place.
///
///     EvaluationSums(examples: part.count, ["loss": lossSum, "tokens": Double(tokens), "correct": Double(correct)])
public struct EvaluationSums: Sendable, Equatable {
  /// The validation examples these sums cover.
  public var examples: Int
  /// The sums by name (a single sum is a vector of one).
  public private(set) var values: [String: [Double]]

  /// Sums over `examples` validation examples: single sums `scalars` and vector sums `vectors`.
  /// Every process must produce the same names and vector lengths, whatever its part (name every
  /// sum, even when the part is empty).
  public init(examples: Int, _ scalars: KeyValuePairs<String, Double> = [:], vectors: KeyValuePairs<String, [Double]> = [:]) {
    precondition(examples >= 0, "EvaluationSums: \(examples) examples")
    self.examples = examples
    values = Dictionary(scalars.map { ($0.key, [$0.value]) } + vectors.map { ($0.key, $0.value) }) { _, _ in
      preconditionFailure("EvaluationSums: a name given twice")
    }
  }

  /// The single sum `name`.
  public subscript(name: String) -> Double {
    guard let v = values[name], v.count == 1 else { preconditionFailure("EvaluationSums: no single sum named \(name)") }
    return v[0]
  }

  /// The vector sum `name`.
  public subscript(vector name: String) -> [Double] {
    guard let v = values[name] else { preconditionFailure("EvaluationSums: no vector sum named \(name)") }
    return v
  }

  /// Adds the sums of other examples (the same names and lengths).
  public mutating func add(_ other: EvaluationSums) {
    precondition(values.mapValues(\.count) == other.values.mapValues(\.count), "EvaluationSums.add: sums \(other.layout) added to \(layout)")
    examples += other.examples
    for (name, v) in other.values { values[name] = zip(values[name]!, v).map(+) }
  }

  /// Names and lengths in name order: the layout of the flat buffer the processes reduce.
  var layout: [(String, Int)] { values.keys.sorted().map { ($0, values[$0]!.count) } }

  /// The sums over every process of `group`, and the examples each process covered. Every
  /// process must call this with sums of the same layout (checked: a different layout is a task bug).
  func reduced(across group: ProcessGroup) throws -> (sums: EvaluationSums, examplesPerProcess: [Int]) {
    guard group.size > 1 else { return (self, [examples]) }
    let layout = self.layout
    // The processes agree on the layout before they reduce buffers of its length: a 32-bit
    // fingerprint summed over n processes is n times each one's only when all are equal.
    let fingerprint = Double(layout.map { "\($0.0):\($0.1)" }.joined(separator: ",").utf8.reduce(UInt32(2_166_136_261)) { ($0 ^ UInt32($1)) &* 16_777_619 })
    var check = [fingerprint]
    try group.allReduceSum(&check)
    precondition(check[0] == Double(group.size) * fingerprint,
                 "EvaluationSums: process \(group.rank) of \(group.size) computed sums \(layout) unlike another process's")
    var flat = layout.flatMap { values[$0.0]! }
    let start = flat.count
    flat += [Double](repeating: 0, count: group.size)
    flat[start + group.rank] = Double(examples)
    try group.allReduceSum(&flat)
    var total = self
    var offset = 0
    for (name, count) in layout {
      total.values[name] = Array(flat[offset..<(offset + count)])
      offset += count
    }
    let perProcess = flat[start...].map { Int($0) }
    total.examples = perProcess.reduce(0, +)
    return (total, perProcess)
  }
}
