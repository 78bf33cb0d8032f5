/// Inverted dropout: in training, each element is zeroed with probability `p` and the survivors
/// are scaled by 1/(1−p), so evaluation needs no rescaling; in evaluation it is the identity.
///
/// Shapes: any input, output of the same shape. The mask comes from the context's generator, so a run is reproducible under a seed (the masks differ from PyTorch's, whose generator
/// is different). `p == 1` zeroes everything, as PyTorch does.
///
/// Matches `torch.nn.Dropout(p)` (no parameters).
public final class Dropout: Module {
  /// Probability of zeroing an element, in [0, 1].
  public let p: Float

  /// - Parameter p: probability of an element being zeroed (default 0.5).
  public init(p: Float = 0.5) {
    precondition(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got \(p)")
    self.p = p
  }

  /// Applies dropout when `context` is in training mode (identity in evaluation mode or when `p == 0`).
  public func callAsFunction(_ input: Tensor, context: inout ForwardContext) -> Tensor {
    guard context.isTraining, p > 0 else { return input }
    return input.dropout(p: p, generator: &context.generator)
  }
}
