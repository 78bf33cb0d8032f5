import Recur

/// Compares two tensors elementwise and describes the mismatch (max abs diff, first mismatches).
/// Passes when every |a − b| ≤ atol + rtol·|b|.
public func closeness(_ actual: Tensor, _ expected: Tensor, rtol: Float = 1e-5, atol: Float = 1e-6) -> (ok: Bool, message: String) {
  guard actual.shape == expected.shape else {
    return (false, "shape \(actual.shape) != expected \(expected.shape)")
  }
  let a = actual.scalars, b = expected.scalars
  var maxDiff: Float = 0
  var bad: [String] = []
  for i in 0..<a.count {
    let d = abs(a[i] - b[i])
    if !(d <= atol + rtol * abs(b[i])) {
      if bad.count < 5 { bad.append("[\(i)] \(a[i]) vs \(b[i])") }
    }
    if d > maxDiff || d.isNaN { maxDiff = d }
  }
  return (bad.isEmpty, "max abs diff \(maxDiff)" + (bad.isEmpty ? "" : "; first mismatches: " + bad.joined(separator: ", ")))
}

/// Largest |a − b| divided by max(1, max |b|): the "relative to the tensor's scale" error.
public func scaledMaxError(_ actual: Tensor, _ expected: Tensor) -> Float {
  precondition(actual.shape == expected.shape, "shape \(actual.shape) != expected \(expected.shape)")
  let a = actual.scalars, b = expected.scalars
  let scale = max(1, b.map { abs($0) }.max() ?? 0)
  var m: Float = 0
  for i in 0..<a.count { let d = abs(a[i] - b[i]); if d > m || d.isNaN { m = d } }
  return m / scale
}
