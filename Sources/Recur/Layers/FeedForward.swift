/// The position-wise feed-forward block of a residual network: Linear → GELU → Linear.
///
/// ```
/// y = W₂ · gelu(W₁ · x + b₁) + b₂        W₁: [hiddenSize, size], W₂: [size, hiddenSize]
/// ```
///
/// Shapes: input `[*, size]`, output the same. Initialisation is `torch.nn.Linear`'s for both.
///
/// Matches `nn.Sequential(nn.Linear(size, hiddenSize), nn.GELU(approximate), nn.Linear(hiddenSize, size))`
/// (state-dict keys `0.weight`, `0.bias`, `2.weight`, `2.bias`), the `FeedForward` of
/// transformer and minGRU language models.
public final class FeedForward: Module {
  /// The expanding layer `[hiddenSize, size]`.
  public let expand: Linear
  /// The contracting layer `[size, hiddenSize]`.
  public let contract: Linear
  /// The form of GELU between them.
  public let approximate: GELUApproximation

  /// - Parameters:
  ///   - size: the width of the input and the output.
  ///   - hiddenSize: the width in between (often 4 × size).
  ///   - approximate: exact GELU or its tanh form (default `.tanh`: faster, and as good for training).
  ///   - generator: the source of the initial values (the expanding layer's drawn first).
  public init(size: Int, hiddenSize: Int, approximate: GELUApproximation = .tanh, generator: inout RandomGenerator) {
    precondition(size > 0 && hiddenSize > 0, "FeedForward(size: \(size), hiddenSize: \(hiddenSize)) needs positive sizes")
    expand = Linear(inputSize: size, outputSize: hiddenSize, generator: &generator)
    contract = Linear(inputSize: hiddenSize, outputSize: size, generator: &generator)
    self.approximate = approximate
  }

  /// The two linear layers under `nn.Sequential`'s names (the GELU, index 1, has no parameters).
  public var children: [(name: String, module: any Module)] { [("0", expand), ("2", contract)] }

  /// Applies the block to the last axis of `input` (`[*, size]` → `[*, size]`).
  public func callAsFunction(_ input: Tensor) -> Tensor {
    contract(expand(input).gelu(approximate: approximate))
  }
}
