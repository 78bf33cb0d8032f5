/// A causal depthwise convolution over time for time-major sequences: each channel is filtered by
/// its own K taps over the current step and the K − 1 before it.
///
/// ```
/// y[t, b, d] = bias[d] + Σ_k weight[d, 0, k] · x[t − K + 1 + k, b, d]      k = 0 ..< K
/// ```
/// where the steps before the window come from `context` (the last K − 1 inputs of the previous
/// window; zeros at the start). Carrying the returned context to the next call makes a sequence
/// cut into windows, or fed one step at a time, give the same outputs as the whole sequence.
///
/// Shapes: input `[T, B, D]`, output `[T, B, D]`, context `[K − 1, B, D]`; `weight` `[D, 1, K]`,
/// `bias` `[D]`, initialised as PyTorch's `Conv1d` (U(−1/√K, 1/√K)).
///
/// Matches `torch.nn.Conv1d(D, D, K, groups=D)` applied to the input left-padded with K − 1 zeros
/// (`F.pad(x, (K − 1, 0))`, the usual causal depthwise convolution), with the time axis first
/// (state-dict keys `weight`, `bias`).
public final class CausalDepthwiseConv1d: Module {
  /// `[channels, 1, kernelSize]`.
  public let weight: Parameter
  /// `[channels]`.
  public let bias: Parameter
  /// D, the channels (each filtered on its own).
  public let channels: Int
  /// K, the taps: the step itself and K − 1 before it.
  public let kernelSize: Int

  /// - Parameters:
  ///   - channels: D.
  ///   - kernelSize: K, at least 2 (one tap would only scale each channel).
  ///   - generator: the source of the initial values (weight first, then bias).
  /// - Throws: `InvalidParameter` for a non-positive channel count or fewer than two taps.
  public init(channels: Int, kernelSize: Int, generator: inout RandomGenerator) throws {
    guard channels >= 1 else { throw InvalidParameter("channels", channels, expected: ">= 1") }
    guard kernelSize >= 2 else { throw InvalidParameter("kernelSize", kernelSize, expected: ">= 2") }
    self.channels = channels
    self.kernelSize = kernelSize
    let bound = 1 / Float(kernelSize).squareRoot()
    weight = Parameter(.uniform([channels, 1, kernelSize], low: -bound, high: bound, generator: &generator))
    bias = Parameter(.uniform([channels], low: -bound, high: bound, generator: &generator))
  }

  /// `weight` and `bias`: the keys of `torch.nn.Conv1d`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] { [("weight", weight), ("bias", bias)] }

  /// Zeros `[K − 1, B, D]`: the context before the first step.
  public func zeroContext(batchSize: Int) -> Tensor { .zeros([kernelSize - 1, batchSize, channels]) }

  /// Filters `input` `[T, B, D]` after `context` `[K − 1, B, D]` (zeros when nil).
  /// - Returns: the output `[T, B, D]` and the context for the next call (the last K − 1 steps of
  ///   context and input together).
  public func callAsFunction(_ input: Tensor, context: Tensor? = nil) -> (output: Tensor, context: Tensor) {
    precondition(input.rank == 3 && input.shape[2] == channels && input.shape[0] >= 1,
                 "CausalDepthwiseConv1d: expected input [T ≥ 1, B, \(channels)], got \(input.shape)")
    let left = context ?? zeroContext(batchSize: input.shape[1])
    precondition(left.shape == [kernelSize - 1, input.shape[1], channels],
                 "CausalDepthwiseConv1d: expected context [\(kernelSize - 1), \(input.shape[1]), \(channels)], got \(left.shape)")
    let padded = Tensor.concatenate([left, input], axis: 0)
    let steps = padded.shape[0]
    return (padded.depthwiseConvolution(weight: weight.value, bias: bias.value), padded.slice((steps - kernelSize + 1)..<steps))
  }
}
