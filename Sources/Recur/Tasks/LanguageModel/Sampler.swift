import Foundation

/// Draws the next token from a model's scores with temperature and top-k, from a seeded
/// generator: the same seed and scores give the same tokens.
///
/// ```
/// p_i ∝ exp(logit_i / temperature)   over the k largest logits (all when topK == 0)
/// ```
/// Temperature 0 means greedy: always the largest score (the lowest id on ties). Low
/// temperatures make text safer and more repetitive, high ones more surprising and misspelt.
public struct Sampler: Sendable {
  /// Divides the logits before the softmax; 0 is greedy. Must be ≥ 0 and finite.
  public var temperature: Float
  /// Keep only the k most likely tokens (0 keeps all).
  public var topK: Int
  /// The source of randomness.
  public var generator: RandomGenerator

  /// A sampler at `temperature` (≥ 0; 0 is greedy) over the `topK` most likely tokens (0: all),
  /// drawing from a generator seeded by `seed`.
  public init(temperature: Float = 1, topK: Int = 0, seed: UInt64) {
    precondition(temperature >= 0 && temperature.isFinite, "Sampler: temperature must be finite and ≥ 0, got \(temperature)")
    precondition(topK >= 0, "Sampler: topK must be ≥ 0, got \(topK)")
    self.temperature = temperature
    self.topK = topK
    generator = RandomGenerator(seed: seed)
  }

  /// One draw from the distribution the logits define.
  public mutating func sample(_ logits: UnsafeBufferPointer<Float>) -> Int {
    let n = logits.count
    precondition(n > 0, "Sampler: no logits")
    var order = Array(0..<n)
    // Largest first; ties by id so the result does not depend on the sort algorithm.
    order.sort { logits[$0] > logits[$1] || (logits[$0] == logits[$1] && $0 < $1) }
    if temperature == 0 { return order[0] }
    let k = topK > 0 ? Swift.min(topK, n) : n
    let top = order[0]
    var weights = [Double](repeating: 0, count: k)
    var total = 0.0
    for j in 0..<k {
      let w = Foundation.exp(Double(logits[order[j]] - logits[top]) / Double(temperature))
      weights[j] = w
      total += w
    }
    let u = generator.nextUniformDouble() * total
    var acc = 0.0
    for j in 0..<k {
      acc += weights[j]
      if u < acc { return order[j] }
    }
    return order[k - 1]
  }
}

extension CharLM {
  /// The longest sample `generate` draws: 10^7 tokens (the drawn ids are kept in memory).
  public static let maximumGenerationLength = 10_000_000

  /// Generates `length` tokens after `prompt`, calling `emit` with each as soon as it is drawn
  /// (so text can be streamed). Runs in evaluation mode without recording gradients.
  ///
  /// - Parameters:
  ///   - prompt: ids to condition on (at least one).
  ///   - length: number of tokens to draw.
  ///   - sampler: temperature, top-k and the random generator (advanced by the draws).
  ///   - emit: receives each drawn id; return false to stop early.
  /// - Returns: the drawn ids.
  @discardableResult
  public func generate(prompt: [Int], length: Int, sampler: inout Sampler, emit: (Int) -> Bool = { _ in true }) throws -> [Int] {
    precondition(!prompt.isEmpty, "CharLM.generate: the prompt needs at least one token")
    try TrainingError.require(length >= 0 && length <= Self.maximumGenerationLength, "length", length,
                              "in 0...\(Self.maximumGenerationLength) (characters per sample)")
    return try withoutGradients {
      let V = configuration.vocabularySize
      var (logits, state) = try self(prompt, steps: prompt.count, batchSize: 1)
      var last = logits.withUnsafeBufferPointer { Array($0[(prompt.count - 1) * V ..< prompt.count * V]) }
      var drawn: [Int] = []
      drawn.reserveCapacity(length)
      for _ in 0..<length {
        let next = last.withUnsafeBufferPointer { sampler.sample($0) }
        drawn.append(next)
        if !emit(next) { break }
        if drawn.count == length { break }
        (logits, state) = try self([next], steps: 1, batchSize: 1, state: state)
        last = logits.scalars
      }
      return drawn
    }
  }
}
