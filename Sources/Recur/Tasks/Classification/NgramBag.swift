/// A bag of token n-grams beside the recurrent stack (the "wide" part of a wide-and-deep model,
/// as fastText): the average of learned embeddings of every unigram and hashed higher-order
/// n-gram of a sequence's valid tokens.
///
/// ```
/// grams(s) = { id(w_t) } ∪ { V + hash(w_t−n+1 … w_t) mod buckets : 2 ≤ n ≤ order }
/// out = Σ_{g ∈ grams(s)} E[g] / |grams(s)|         E: [V + buckets, dimension]
/// ```
///
/// Unigrams keep their own rows (ids 0…V−1, padding never occurs at valid steps); higher-order
/// n-grams share `buckets` rows by a fixed hash (FNV-1a over the token ids), so the table's
/// size does not grow with the data. Parameter name: `embedding.weight`.
///
/// Linear models on such bags are strong on short texts (sentiment); beside the recurrent stack
/// they give the head word-order-free evidence the recurrent features then refine.
public final class NgramBag: Module {
  /// The bag's shape (stored in archives as part of the classifier's configuration).
  public struct Configuration: Sendable, Codable, Equatable {
    /// Highest n-gram order (1: unigrams only).
    public var order: Int
    /// Rows shared by the hashed n-grams of order ≥ 2.
    public var buckets: Int
    /// Width of each n-gram embedding.
    public var dimension: Int

    /// Uni- and bigrams in 2^16 buckets of width 16 by default.
    public init(order: Int = 2, buckets: Int = 1 << 16, dimension: Int = 16) {
      self.order = order
      self.buckets = buckets
      self.dimension = dimension
    }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.require(order >= 1 && order <= 5, "ngrams.order", order, "in 1…5")
      try TrainingError.require(buckets >= 1 && buckets <= 1 << 24, "ngrams.buckets", buckets, "in 1…2^24")
      try TrainingError.require(dimension >= 1 && dimension <= 1024, "ngrams.dimension", dimension, "in 1…1024")
    }
  }

  /// The bag's shape.
  public let configuration: Configuration
  /// The token vocabulary size V (unigram rows).
  public let vocabularySize: Int
  /// `[V + buckets, dimension]` (no bucket rows when `order` is 1).
  public let embedding: Embedding

  /// Fresh N(0, 1) embeddings from `generator`. Throws `TrainingError.invalidSetting` for an
  /// invalid configuration.
  public init(vocabularySize: Int, configuration: Configuration, generator: inout RandomGenerator) throws {
    try configuration.validate()
    self.configuration = configuration
    self.vocabularySize = vocabularySize
    embedding = Embedding(count: vocabularySize + (configuration.order > 1 ? configuration.buckets : 0),
                          dimension: configuration.dimension, generator: &generator)
  }

  /// The width of the vector per sequence.
  public var outputSize: Int { configuration.dimension }

  /// `embedding`.
  public var children: [(name: String, module: any Module)] { [("embedding", embedding)] }

  /// The rows of every n-gram of one sequence's token ids.
  public func grams(_ tokens: [Int]) -> [Int] {
    var result = tokens
    guard configuration.order > 1 else { return result }
    for n in 2...configuration.order where tokens.count >= n {
      for end in (n - 1)..<tokens.count {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for id in tokens[(end - n + 1)...end] {
          var v = UInt64(truncatingIfNeeded: id)
          for _ in 0..<8 { hash = (hash ^ (v & 0xff)) &* 0x0000_0100_0000_01b3; v >>= 8 }
        }
        result.append(vocabularySize + Int(hash % UInt64(configuration.buckets)))
      }
    }
    return result
  }

  /// Token ids `[steps, batchSize]` (time-major, flattened) with lengths → `[batchSize, dimension]`.
  public func callAsFunction(_ ids: [Int], steps: Int, batchSize: Int, lengths: [Int]) -> Tensor {
    var rows: [Int] = [], average = [Float]()
    var spans: [Range<Int>] = []
    for b in 0..<batchSize {
      let g = grams((0..<lengths[b]).map { ids[$0 * batchSize + b] })
      spans.append(rows.count..<(rows.count + g.count))
      rows += g
    }
    average = [Float](repeating: 0, count: batchSize * rows.count)
    for (b, span) in spans.enumerated() {
      for r in span { average[b * rows.count + r] = 1 / Float(span.count) }
    }
    return Tensor(shape: [batchSize, rows.count], scalars: average).matmul(embedding.weight.value.gatherRows(rows))
  }
}
