/// A 1-D convolution over the last axis: PyTorch's `torch.nn.Conv1d`.
///
/// ```
/// y[b, o, t] = bias[o] + Σ_c Σ_k weight[o, c, k] · x[b, g·C_in/groups + c, t·stride + k·dilation − padLeft]
/// ```
/// where `g` is the group of output channel `o` and positions outside the input read as zero.
///
/// Shapes: input `[B, C_in, L]`, output `[B, C_out, L_out]` with
/// `L_out = ⌊(L + padding − dilation·(K − 1) − 1) / stride⌋ + 1`; `weight` is
/// `[C_out, C_in/groups, K]` and `bias` `[C_out]`, as in PyTorch.
///
/// Initialisation is PyTorch's: `kaiming_uniform_(weight, a: √5)`, i.e. U(−1/√fanIn, 1/√fanIn)
/// with fanIn = C_in/groups·K, and the bias from the same bound (drawn after the weight).
///
/// Forward and backward are one tape node each: im2col and one GEMM per batch row and group.
///
/// Matches `torch.nn.Conv1d(in, out, kernel_size, stride, padding, dilation, groups, bias)` with
/// zero padding (state-dict keys `weight`, `bias`).
public final class Conv1d: Module {
  /// How much zero padding surrounds the input, as PyTorch's `padding` argument.
  public enum Padding: Hashable, Sendable, ExpressibleByIntegerLiteral {
    /// The same number of zeros on both sides.
    case zeros(Int)
    /// No padding (PyTorch's `'valid'`).
    case valid
    /// Output as long as the input (PyTorch's `'same'`, stride 1 only): dilation·(K − 1) zeros,
    /// the smaller half on the left.
    case same

    /// `padding: 2` means `.zeros(2)`.
    public init(integerLiteral value: Int) { self = .zeros(value) }
  }

  /// `[outChannels, inChannels / groups, kernelSize]`.
  public let weight: Parameter
  /// `[outChannels]`, or nil when built with `bias: false`.
  public let bias: Parameter?
  /// C_in, the extent of the input's channel axis.
  public let inChannels: Int
  /// C_out, the extent of the output's channel axis.
  public let outChannels: Int
  /// K, the number of taps.
  public let kernelSize: Int
  /// Step between output positions.
  public let stride: Int
  /// The padding as given.
  public let padding: Padding
  /// Spacing between taps.
  public let dilation: Int
  /// Channel groups: each output channel sees `inChannels / groups` input channels.
  public let groups: Int
  /// Zeros added before the input.
  public let padLeft: Int
  /// Zeros added after the input.
  public let padRight: Int

  /// - Parameters:
  ///   - inChannels: C_in.
  ///   - outChannels: C_out.
  ///   - kernelSize: K, at least 1.
  ///   - stride: step between output positions (default 1).
  ///   - padding: zeros on each side, `.valid` or `.same` (default 0).
  ///   - dilation: spacing between taps (default 1).
  ///   - groups: channel groups; must divide both channel counts (default 1).
  ///   - bias: whether to add a learned bias (default true).
  ///   - generator: the source of the initial values.
  /// - Throws: `InvalidParameter` for sizes PyTorch rejects (non-positive sizes, groups that do not
  ///   divide the channels, `.same` with a stride above 1).
  public init(inChannels: Int, outChannels: Int, kernelSize: Int, stride: Int = 1, padding: Padding = 0,
              dilation: Int = 1, groups: Int = 1, bias: Bool = true, generator: inout RandomGenerator) throws {
    guard inChannels >= 1 else { throw InvalidParameter("inChannels", inChannels, expected: ">= 1") }
    guard outChannels >= 1 else { throw InvalidParameter("outChannels", outChannels, expected: ">= 1") }
    guard kernelSize >= 1 else { throw InvalidParameter("kernelSize", kernelSize, expected: ">= 1") }
    guard stride >= 1 else { throw InvalidParameter("stride", stride, expected: ">= 1") }
    guard dilation >= 1 else { throw InvalidParameter("dilation", dilation, expected: ">= 1") }
    guard groups >= 1, inChannels % groups == 0, outChannels % groups == 0 else {
      throw InvalidParameter("groups", groups, expected: ">= 1 and a divisor of inChannels (\(inChannels)) and outChannels (\(outChannels))")
    }
    switch padding {
    case .zeros(let p):
      guard p >= 0 else { throw InvalidParameter("padding", p, expected: ">= 0") }
      (padLeft, padRight) = (p, p)
    case .valid:
      (padLeft, padRight) = (0, 0)
    case .same:
      guard stride == 1 else { throw InvalidParameter("stride", stride, expected: "1 with padding .same") }
      let total = dilation * (kernelSize - 1)
      (padLeft, padRight) = (total / 2, total - total / 2)
    }
    self.inChannels = inChannels
    self.outChannels = outChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    self.dilation = dilation
    self.groups = groups
    let bound = 1 / Float(inChannels / groups * kernelSize).squareRoot()
    weight = Parameter(.uniform([outChannels, inChannels / groups, kernelSize], low: -bound, high: bound, generator: &generator))
    self.bias = bias ? Parameter(.uniform([outChannels], low: -bound, high: bound, generator: &generator)) : nil
  }

  /// `weight` and, when present, `bias`: the keys of `torch.nn.Conv1d`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = [("weight", weight)]
    if let bias { result.append(("bias", bias)) }
    return result
  }

  /// The output length for an input of `length` positions (may be < 1 when the input is too short).
  public func outputLength(forInputLength length: Int) -> Int {
    (length + padLeft + padRight - dilation * (kernelSize - 1) - 1) / stride + 1
  }

  /// Convolves `input` (`[B, C_in, L]` → `[B, C_out, L_out]`).
  /// - Throws: `ConvolutionError` when the input is not 3-D, has another channel count, or is
  ///   shorter than the (dilated) kernel after padding.
  public func callAsFunction(_ input: Tensor) throws -> Tensor {
    guard input.rank == 3 else {
      throw ConvolutionError("Conv1d: expected a 3-D input [batch, channels, length], got shape \(input.shape)")
    }
    guard input.shape[1] == inChannels else {
      throw ConvolutionError("Conv1d: expected input \(input.shape) to have \(inChannels) channels, but got \(input.shape[1]) channels instead")
    }
    let padded = input.shape[2] + padLeft + padRight, span = dilation * (kernelSize - 1) + 1
    guard padded >= span else {
      throw ConvolutionError("Conv1d: calculated padded input size per channel: (\(padded)). Kernel size: (\(span)). Kernel size can't be greater than actual input size")
    }
    return input.conv1d(weight: weight.value, bias: bias?.value, stride: stride, padLeft: padLeft, padRight: padRight,
                        dilation: dilation, groups: groups)
  }
}

/// A convolution or normalisation layer was called with an input that does not fit it. The
/// messages follow PyTorch's and name the shapes.
public struct ConvolutionError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What is wrong, with the shapes involved.
  public let description: String
  init(_ message: String) { description = message }
}
