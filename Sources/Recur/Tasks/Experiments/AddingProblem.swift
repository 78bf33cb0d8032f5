/// The adding problem in the form of Hochreiter & Schmidhuber (1997, "Long short-term memory",
/// experiment 4): every step is a pair (value, marker). Values are uniform in [−1, 1]; exactly two
/// pairs are marked with 1 — one of the first ten, then one of the first T/2 − 1 still unmarked —
/// the first and the last pair carry the marker −1 (unless the first is marked), all others 0. A
/// sequence is T to T + T/10 steps long. At its end the network must output
/// 0.5 + (X₁ + X₂)/4, the sum of the two marked values scaled to [0, 1] (X₁, the value marked
/// first, is set to 0 when it is the first pair's). A prediction is right when its absolute error is below 0.04.
///
/// The information sits at least T/2 steps before the answer: a network that cannot carry it that
/// far can do no better than predict 0.5: a mean squared error of Var(X₁ + X₂)/16 = (0.9/3 + 1/3)/16
/// = 19/480 ≈ 0.0396 (X₁ is 0 one time in ten), ``baselineLoss``, with about 16 % right.
public struct AddingProblem: Sendable, Equatable {
  /// T, the shortest sequence.
  public let length: Int
  /// The largest absolute error of a right prediction.
  public static let tolerance: Float = 0.04
  /// The shortest T for which the two marking windows (first 10, first T/2 − 1) make sense.
  public static let minimumLength = 22

  /// Sequences of `length` to `length + length/10` steps. Throws `TrainingError.invalidSetting`
  /// for a length below ``minimumLength``.
  public init(length: Int) throws {
    try TrainingError.require(length >= Self.minimumLength && length <= 1 << 24, "length", length,
                              "an integer in \(Self.minimumLength)…\(1 << 24)")
    self.length = length
  }

  /// The mean squared error of always predicting 0.5: 19/480.
  public static let baselineLoss = 19.0 / 480

  /// The longest sequence, T + T/10.
  public var maximumLength: Int { length + length / 10 }

  /// `count` fresh sequences drawn from `generator`: inputs `[maxLength, count, 2]` (time-major,
  /// zero past each sequence's length), the lengths, and the targets.
  public func sample(count: Int, generator: inout RandomGenerator) -> (inputs: Tensor, lengths: [Int], targets: [Float]) {
    precondition(count >= 1, "AddingProblem.sample: count must be positive, got \(count)")
    var lengths = [Int](), targets = [Float](), values = [[Float]](), marks = [(Int, Int)]()
    for _ in 0..<count {
      let n = length + Self.index(below: length / 10 + 1, &generator)
      var v = (0..<n).map { _ in 2 * generator.nextUniform() - 1 }
      let first = Self.index(below: 10, &generator)
      // One of the first T/2 − 1 pairs other than `first`.
      let k = Self.index(below: length / 2 - 2, &generator)
      let second = k < first ? k : k + 1
      if first == 0 { v[0] = 0 }
      lengths.append(n)
      values.append(v)
      marks.append((first, second))
      targets.append(0.5 + (v[first] + v[second]) / 4)
    }
    let steps = lengths.max()!
    var x = [Float](repeating: 0, count: steps * count * 2)
    for b in 0..<count {
      let n = lengths[b]
      for t in 0..<n {
        let i = (t * count + b) * 2
        x[i] = values[b][t]
        x[i + 1] = t == marks[b].0 || t == marks[b].1 ? 1 : (t == 0 || t == n - 1 ? -1 : 0)
      }
    }
    return (Tensor(shape: [steps, count, 2], scalars: x), lengths, targets)
  }

  /// Uniform in 0..<n.
  static func index(below n: Int, _ generator: inout RandomGenerator) -> Int {
    Int(generator.next() % UInt64(n))
  }
}
