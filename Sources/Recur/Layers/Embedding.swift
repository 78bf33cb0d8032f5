/// A lookup table of learned vectors: row `i` of `weight` is the embedding of index `i`.
///
/// Shapes: indices of any shape `[*]` (given as a flat `[Int]` plus the index shape), output
/// `[*, dimension]`; `weight` is `[count, dimension]`, initialised N(0, 1) as in PyTorch.
///
/// The backward adds each output row's gradient into the row it came from (repeated indices
/// accumulate), like PyTorch's dense (non-sparse) embedding gradient.
///
/// Matches `torch.nn.Embedding(num_embeddings: count, embedding_dim: dimension)` (state-dict key
/// `weight`); `padding_idx`, `max_norm` and sparse gradients are not supported.
public final class Embedding: Module {
  /// `[count, dimension]`.
  public let weight: Parameter
  /// Number of rows (the vocabulary size).
  public let count: Int
  /// Width of each vector.
  public let dimension: Int

  /// - Parameters:
  ///   - count: number of embeddings (`num_embeddings`).
  ///   - dimension: size of each embedding (`embedding_dim`).
  ///   - generator: the source of the N(0, 1) initial values.
  public init(count: Int, dimension: Int, generator: inout RandomGenerator) {
    precondition(count >= 0 && dimension >= 0,
                 "Embedding(count: \(count), dimension: \(dimension)): sizes must be non-negative")
    self.count = count
    self.dimension = dimension
    weight = Parameter(.normal([count, dimension], generator: &generator))
  }

  /// `weight`, the key of `torch.nn.Embedding`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight)] }

  /// The embeddings of `indices` (each in `0..<count`), shaped `shape + [dimension]`.
  /// - Parameters:
  ///   - indices: row indices in row-major order.
  ///   - shape: the shape of the index array (default `[indices.count]`), e.g. `[T, B]`.
  public func callAsFunction(_ indices: [Int], shape: [Int]? = nil) -> Tensor {
    weight.value.gatherRows(indices, indexShape: shape)
  }
}
