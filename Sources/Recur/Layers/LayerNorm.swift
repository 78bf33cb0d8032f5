/// Layer normalisation over the trailing axes given by `normalizedShape`.
///
/// ```
/// y = (x − E[x]) / √(Var[x] + eps) · weight + bias
/// ```
/// with the mean and the biased variance taken over the last `normalizedShape.count` axes.
///
/// Shapes: input `[*, normalizedShape…]`, output the same; `weight` and `bias` have shape
/// `normalizedShape` and start at ones and zeros.
///
/// Forward and backward are one fused tape node (statistics in one pass per row, the standard
/// closed-form backward `dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂))`), not a chain of small ops.
///
/// Matches `torch.nn.LayerNorm(normalized_shape, eps, elementwise_affine, bias)`
/// (state-dict keys `weight`, `bias`).
public final class LayerNorm: Module {
  /// The trailing shape normalised over.
  public let normalizedShape: [Int]
  /// Added to the variance for numerical stability.
  public let eps: Float
  /// Per-element scale (ones), or nil without `elementwiseAffine`.
  public let weight: Parameter?
  /// Per-element shift (zeros), or nil without `elementwiseAffine` or `bias`.
  public let bias: Parameter?

  /// - Parameters:
  ///   - normalizedShape: the trailing axes to normalise over (often just `[H]`).
  ///   - eps: added to the variance for stability (default 1e-5).
  ///   - elementwiseAffine: learn `weight` and `bias` (default true).
  ///   - bias: learn `bias` when affine (default true).
  public init(normalizedShape: [Int], eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
    precondition(!normalizedShape.isEmpty && normalizedShape.allSatisfy { $0 > 0 },
                 "LayerNorm: normalizedShape \(normalizedShape) must be non-empty with positive extents")
    precondition(eps >= 0, "LayerNorm: eps must be non-negative, got \(eps)")
    self.normalizedShape = normalizedShape
    self.eps = eps
    weight = elementwiseAffine ? Parameter(.ones(normalizedShape)) : nil
    self.bias = elementwiseAffine && bias ? Parameter(.zeros(normalizedShape)) : nil
  }

  /// Normalises over the last axis of extent `size`.
  public convenience init(_ size: Int, eps: Float = 1e-5, elementwiseAffine: Bool = true, bias: Bool = true) {
    self.init(normalizedShape: [size], eps: eps, elementwiseAffine: elementwiseAffine, bias: bias)
  }

  /// `weight` and `bias` when present: the keys of `torch.nn.LayerNorm`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = []
    if let weight { result.append(("weight", weight)) }
    if let bias { result.append(("bias", bias)) }
    return result
  }

  /// Normalises `input` (`[*, normalizedShape…]`).
  public func callAsFunction(_ input: Tensor) -> Tensor {
    precondition(input.rank >= normalizedShape.count && Array(input.shape.suffix(normalizedShape.count)) == normalizedShape,
                 "LayerNorm: given normalized_shape=\(normalizedShape), expected input with shape [*, \(normalizedShape.map(String.init).joined(separator: ", "))], but got input of size \(input.shape)")
    return input.layerNorm(width: normalizedShape.reduce(1, *), eps: eps, weight: weight?.value, bias: bias?.value)
  }
}
