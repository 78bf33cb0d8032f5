import Foundation

/// Rescales the gradients of `parameters` so that their joint norm is at most `maxNorm`, and
/// returns the joint norm before clipping.
///
/// The norm is that of all gradients concatenated into one vector (`normType` p: (Σ|g|ᵖ)^(1/p);
/// `.infinity`: max |g|). Every gradient is multiplied by `min(1, maxNorm / (norm + 1e-6))`; the
/// 1e-6 keeps a zero norm harmless. Parameters without a gradient are ignored. A non-finite norm
/// is returned as is and scales the gradients to non-finite values, as PyTorch's default
/// (`error_if_nonfinite=False`) does; check the result's `isFinite` to skip such a step.
///
/// Matches `torch.nn.utils.clip_grad_norm_(parameters, max_norm, norm_type)`.
@discardableResult
public func clipGradNorm(_ parameters: [Parameter], maxNorm: Float, normType: Float = 2) -> Float {
  precondition(normType > 0, "clipGradNorm: normType must be positive (or .infinity), got \(normType)")
  let grads = parameters.compactMap(\.grad)
  if grads.isEmpty { return 0 }
  // Per-tensor norms, then the norm of those (as torch does), accumulated in Double.
  var norms: [Double] = []
  for g in grads {
    let p = g.storage.pointer
    if normType == .infinity {
      var m = 0.0
      for i in 0..<g.count { let a = Double(Swift.abs(p[i])); if a > m || a.isNaN { m = a } }
      norms.append(m)
    } else if normType == 2 {
      // Eight Double lanes: the sequential sum is a dependency chain the compiler must keep.
      var lanes = SIMD8<Double>()
      var i = 0
      while i + 8 <= g.count {
        let x = SIMD8<Double>(UnsafeRawPointer(p + i).loadUnaligned(as: SIMD8<Float>.self))
        lanes += x * x
        i += 8
      }
      var acc = lanes.sum()
      while i < g.count { let x = Double(p[i]); acc += x * x; i += 1 }
      norms.append(Double(Float(acc.squareRoot())))
    } else {
      let q = Double(normType)
      var acc = 0.0
      for i in 0..<g.count { acc += Foundation.pow(Double(Swift.abs(p[i])), q) }
      norms.append(Double(Float(Foundation.pow(acc, 1 / q))))
    }
  }
  let total: Float
  if normType == .infinity {
    total = Float(norms.reduce(0) { $0.isNaN || $1 > $0 || $1.isNaN ? $1 : $0 })
  } else if normType == 2 {
    total = Float(norms.reduce(0) { $0 + $1 * $1 }.squareRoot())
  } else {
    let q = Double(normType)
    total = Float(Foundation.pow(norms.reduce(0) { $0 + Foundation.pow($1, q) }, 1 / q))
  }
  let coefficient = Swift.min(maxNorm / (total + 1e-6), 1)
  if coefficient < 1 || !coefficient.isFinite {
    scaleGradients(parameters) { $0 * coefficient }
  }
  return total
}

/// Clamps every gradient element of `parameters` to `[-clipValue, clipValue]`.
///
/// Matches `torch.nn.utils.clip_grad_value_(parameters, clip_value)`.
public func clipGradValue(_ parameters: [Parameter], _ clipValue: Float) {
  precondition(clipValue >= 0, "clipGradValue: clipValue must be non-negative, got \(clipValue)")
  scaleGradients(parameters) { Swift.min(Swift.max($0, -clipValue), clipValue) }
}

/// Applies `f` to every gradient element, in place when the gradient's storage is not shared.
private func scaleGradients(_ parameters: [Parameter], _ f: (Float) -> Float) {
  for p in parameters {
    guard var g = p.grad else { continue }
    p.grad = nil  // drop the parameter's reference so the storage is unique and is written in place
    g.withUnsafeMutableBufferPointer { b in for i in b.indices { b[i] = f(b[i]) } }
    p.grad = g
  }
}
