import Foundation

/// An affine map of the last axis: y = x·Wᵀ + b.
///
/// ```
/// y[..., o] = Σ_i x[..., i] · weight[o, i] + bias[o]
/// ```
///
/// Shapes: input `[*, H_in]` (any leading axes, folded into one matrix product), output
/// `[*, H_out]`; `weight` is `[H_out, H_in]` and `bias` `[H_out]`, as in PyTorch.
///
/// Initialisation is PyTorch's: `kaiming_uniform_(weight, a: √5)`, i.e. U(−1/√H_in, 1/√H_in),
/// and the bias U(−1/√H_in, 1/√H_in) (drawn after the weight, from `generator`).
///
/// The forward is one tape node: a GEMM with the weight used transposed in place (no copy), the
/// bias added row by row; the backward is two GEMMs and a column sum.
///
/// Matches `torch.nn.Linear` (state-dict keys `weight`, `bias`).
public final class Linear: Module {
  /// `[outputSize, inputSize]`.
  public let weight: Parameter
  /// `[outputSize]`, or nil when built with `bias: false`.
  public let bias: Parameter?
  /// H_in, the extent of the input's last axis.
  public let inputSize: Int
  /// H_out, the extent of the output's last axis.
  public let outputSize: Int

  /// - Parameters:
  ///   - inputSize: H_in, the extent of the input's last axis.
  ///   - outputSize: H_out.
  ///   - bias: whether to add a learned bias (default true).
  ///   - generator: the source of the initial values.
  public init(inputSize: Int, outputSize: Int, bias: Bool = true, generator: inout RandomGenerator) {
    precondition(inputSize >= 0 && outputSize >= 0,
                 "Linear(inputSize: \(inputSize), outputSize: \(outputSize)): sizes must be non-negative")
    self.inputSize = inputSize
    self.outputSize = outputSize
    let bound: Float = inputSize > 0 ? 1 / Float(inputSize).squareRoot() : 0
    weight = Parameter(.uniform([outputSize, inputSize], low: -bound, high: bound, generator: &generator))
    self.bias = bias ? Parameter(.uniform([outputSize], low: -bound, high: bound, generator: &generator)) : nil
  }

  /// `weight` and, when present, `bias`: the keys of `torch.nn.Linear`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = [("weight", weight)]
    if let bias { result.append(("bias", bias)) }
    return result
  }

  /// Applies the map to the last axis of `input` (`[*, H_in]` → `[*, H_out]`).
  public func callAsFunction(_ input: Tensor) -> Tensor {
    input.linear(weight: weight.value, bias: bias?.value)
  }
}
