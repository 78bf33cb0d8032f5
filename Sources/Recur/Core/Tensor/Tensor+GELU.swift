import Foundation
import CRecurKernels

// MARK: - GELU (the activation of `FeedForward`)

/// Which form of the Gaussian error linear unit to compute, as PyTorch's `approximate` argument.
public enum GELUApproximation: String, Sendable, Codable, CaseIterable {
  /// x·Φ(x) with the exact normal CDF (`approximate='none'`).
  case none
  /// 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))) (`approximate='tanh'`), computed as x·σ(2u)
  /// with the vectorised sigmoid kernel: several times faster than the exact form.
  case tanh
}

extension Tensor {
  /// The Gaussian error linear unit, elementwise (differentiable), as `torch.nn.functional.gelu`.
  /// ```
  /// .none: gelu(x) = x·Φ(x),                Φ the standard normal CDF
  /// .tanh: gelu(x) = x·σ(2u),  u = √(2/π)·(x + 0.044715·x³)    (= 0.5·x·(1 + tanh u))
  /// ```
  public func gelu(approximate: GELUApproximation = .none) -> Tensor {
    switch approximate {
    case .none:
      // Φ(x) = ½·erfc(−x/√2); dΦ/dx = φ(x) = e^(−x²/2)/√(2π).
      return unary("gelu", { $0 * 0.5 * erfc(-$0 * 0.70710678) },
                   derivative: { x, _ in 0.5 * erfc(-x * 0.70710678) + x * 0.39894228 * Foundation.exp(-0.5 * x * x) })
    case .tanh:
      return geluTanh()
    }
  }

  /// x·σ(2u) with the sigmoids kept for the backward: d/dx = s + x·s·(1 − s)·2u′,
  /// u′ = √(2/π)·(1 + 3·0.044715·x²) (recur_gelu_tanh_forward / _backward).
  private func geluTanh() -> Tensor {
    var s = Tensor(uninitializedShape: shape), out = Tensor(uninitializedShape: shape)
    let px = storage.pointer, n = count
    s.withUnsafeMutableBufferPointer { sp in
      out.withUnsafeMutableBufferPointer { o in recur_gelu_tanh_forward(n, px, sp.baseAddress, o.baseAddress) }
    }
    let input = self
    return Tensor.record(out, op: "gelu_tanh", inputs: [self]) { g in
      var dx = Tensor(uninitializedShape: input.shape)
      dx.withUnsafeMutableBufferPointer { d in
        recur_gelu_tanh_backward(n, input.storage.pointer, s.storage.pointer, g.storage.pointer, d.baseAddress)
      }
      return [dx]
    }
  }
}
