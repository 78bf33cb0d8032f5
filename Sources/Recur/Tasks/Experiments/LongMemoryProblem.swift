/// A synthetic long-memory problem: what the network reads, what it must answer, and how an answer
/// is scored. Codable as `{"kind": "adding"|"copy", "length": T}`.
public enum LongMemoryProblem: Sendable, Equatable {
  /// Hochreiter & Schmidhuber's adding problem (one answer at the end, mean squared error).
  case adding(AddingProblem)
  /// Arjovsky et al.'s copy-memory task (an answer at every step, cross-entropy).
  case copy(CopyMemory)

  /// The problem `kind` ("adding" or "copy") at length (or delay) `length`. Throws
  /// `TrainingError.invalidSetting` for an unknown kind or a length out of range.
  public init(kind: String, length: Int) throws {
    switch kind {
    case "adding": self = .adding(try AddingProblem(length: length))
    case "copy": self = .copy(try CopyMemory(delay: length))
    default: throw TrainingError.invalidSetting(InvalidParameter("problem", kind, expected: "adding or copy"))
    }
  }

  /// "adding" or "copy".
  public var kind: String {
    switch self {
    case .adding: "adding"
    case .copy: "copy"
    }
  }

  /// T: the adding problem's shortest sequence, the copy task's delay.
  public var length: Int {
    switch self {
    case .adding(let p): p.length
    case .copy(let p): p.delay
    }
  }

  /// Steps every sequence has: T for the adding problem (its sequences are T to 1.1·T long),
  /// T + 20 for the copy task.
  public var commonSteps: Int {
    switch self {
    case .adding(let p): p.length
    case .copy(let p): p.sequenceLength
    }
  }

  /// Width of an input step: 2 (value, marker) or 10 (one-hot).
  public var inputSize: Int {
    switch self {
    case .adding: 2
    case .copy: CopyMemory.alphabetSize
    }
  }

  /// Width of the read-out: 1 (the sum) or 10 (symbol scores).
  public var outputSize: Int {
    switch self {
    case .adding: 1
    case .copy: CopyMemory.alphabetSize
    }
  }

  /// Whether the loss reads every step (copy) or only the last one (adding).
  public var readsEveryStep: Bool {
    if case .copy = self { return true }
    return false
  }

  /// The loss of a network that remembers nothing: 19/480 for the adding problem (predict 0.5),
  /// 10·log 8 / (T + 20) for the copy task.
  public var baselineLoss: Double {
    switch self {
    case .adding: AddingProblem.baselineLoss
    case .copy(let p): p.baselineLoss
    }
  }

  /// `count` fresh sequences drawn from `generator`.
  public func sample(count: Int, generator: inout RandomGenerator) -> LongMemoryBatch {
    switch self {
    case .adding(let p):
      let s = p.sample(count: count, generator: &generator)
      return LongMemoryBatch(inputs: s.inputs, lengths: s.lengths, values: s.targets, symbols: [])
    case .copy(let p):
      let s = p.sample(count: count, generator: &generator)
      return LongMemoryBatch(inputs: s.inputs, lengths: nil, values: [], symbols: s.targets)
    }
  }
}

extension LongMemoryProblem: Codable {
  private enum CodingKeys: String, CodingKey { case kind, length }

  /// Decodes `{"kind", "length"}`, checking both.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(kind: try c.decode(String.self, forKey: .kind), length: try c.decode(Int.self, forKey: .length))
  }

  /// Encodes `{"kind", "length"}`.
  public func encode(to encoder: any Encoder) throws {
    var c = encoder.container(keyedBy: CodingKeys.self)
    try c.encode(kind, forKey: .kind)
    try c.encode(length, forKey: .length)
  }
}

/// Sequences of a ``LongMemoryProblem`` with their answers.
public struct LongMemoryBatch {
  /// `[steps, B, inputSize]`, time-major.
  public var inputs: Tensor
  /// Each sequence's length (nil: all are `steps`).
  public var lengths: [Int]?
  /// The adding problem's targets, one per sequence.
  public var values: [Float]
  /// The copy task's target symbol of every step, `[t * B + b]`.
  public var symbols: [Int]

  /// Sequences in the batch.
  public var count: Int { inputs.shape[1] }
}

/// Seeds of independent random streams derived from one seed (splitmix64 of seed, stream and index):
/// the training batch at each position, the validation set, the test set.
enum LongMemoryStreams {
  static let training: UInt64 = 1, validation: UInt64 = 2, test: UInt64 = 3

  static func seed(_ seed: UInt64, stream: UInt64, index: Int = 0) -> UInt64 {
    var z = seed &+ stream &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(truncatingIfNeeded: index) &* 0xD1B5_4A32_D192_ED03
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
