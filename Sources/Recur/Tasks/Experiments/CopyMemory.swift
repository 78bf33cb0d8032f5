import Foundation

/// The copy-memory task of Arjovsky, Shah & Bengio (2016, "Unitary evolution recurrent neural
/// networks"): ten symbols drawn from eight, then T − 1 blanks, a delimiter and ten more blanks
/// (T + 20 steps in all, one-hot over an alphabet of ten: symbols 0–7, blank 8, delimiter 9). The
/// network must output blanks for T + 10 steps and then repeat the ten symbols in order.
///
/// Without memory the best a network can do is predict blanks and then guess uniformly among the
/// eight symbols: a cross-entropy of 10·log 8 / (T + 20) per step, ``baselineLoss``.
public struct CopyMemory: Sendable, Equatable {
  /// T, the delay between the last symbol shown and the delimiter's step (plus one).
  public let delay: Int
  /// Symbols to remember.
  public static let recallLength = 10
  /// Symbols they are drawn from.
  public static let symbolCount = 8
  /// The blank's index.
  public static let blank = 8
  /// The delimiter's index.
  public static let delimiter = 9
  /// The alphabet: 8 symbols, blank, delimiter.
  public static let alphabetSize = 10

  /// A task with delay `delay` (T). Throws `TrainingError.invalidSetting` for T < 1.
  public init(delay: Int) throws {
    try TrainingError.require(delay >= 1 && delay <= 1 << 24, "length", delay, "an integer in 1…\(1 << 24)")
    self.delay = delay
  }

  /// Steps of every sequence: T + 20.
  public var sequenceLength: Int { delay + 2 * Self.recallLength }

  /// The memoryless baseline's cross-entropy per step, 10·log 8 / (T + 20) nats.
  public var baselineLoss: Double { Double(Self.recallLength) * log(Double(Self.symbolCount)) / Double(sequenceLength) }

  /// `count` fresh sequences drawn from `generator`: one-hot inputs `[T + 20, count, 10]` and the
  /// target symbol of every step, time-major (`targets[t * count + b]`).
  public func sample(count: Int, generator: inout RandomGenerator) -> (inputs: Tensor, targets: [Int]) {
    precondition(count >= 1, "CopyMemory.sample: count must be positive, got \(count)")
    let n = sequenceLength, r = Self.recallLength, a = Self.alphabetSize
    var x = [Float](repeating: 0, count: n * count * a)
    var y = [Int](repeating: Self.blank, count: n * count)
    for b in 0..<count {
      var input = [Int](repeating: Self.blank, count: n)
      for i in 0..<r {
        let s = Int(generator.next() % UInt64(Self.symbolCount))
        input[i] = s
        y[(n - r + i) * count + b] = s
      }
      input[delay + r - 1] = Self.delimiter
      for t in 0..<n { x[(t * count + b) * a + input[t]] = 1 }
    }
    return (Tensor(shape: [n, count, a], scalars: x), y)
  }
}
