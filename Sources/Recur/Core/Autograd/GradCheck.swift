/// Result of comparing a tape gradient with central finite differences.
public struct GradCheckResult: Sendable, CustomStringConvertible {
  /// Largest |analytic − numeric| over all checked elements.
  public var maxAbsError: Float
  /// Largest error relative to max(|numeric|, |analytic|, scale floor).
  public var maxRelError: Float
  /// Where the largest relative error occurred: (input index, flat element index, analytic, numeric).
  public var worst: (input: Int, element: Int, analytic: Float, numeric: Float)
  /// Whether both errors stayed within the tolerances.
  public var passed: Bool

  /// One line: passed or FAILED, the largest errors and where the worst one is.
  public var description: String {
    "gradCheck \(passed ? "passed" : "FAILED"): max abs \(maxAbsError), max rel \(maxRelError) at input \(worst.input)[\(worst.element)] analytic \(worst.analytic) numeric \(worst.numeric)"
  }
}

/// Checks the tape's gradient of `f` against central finite differences.
///
/// The output of `f` is reduced to a scalar with fixed random weights (so every output element
/// matters), the tape gradient is compared element by element with (L(x+ε)−L(x−ε))/2ε computed
/// in Double; a non-finite analytic or numeric value fails at once (the errors are NaN and `worst`
/// names the element). Float32 arithmetic limits the agreement: the defaults (ε = 1e-2 relative to the
/// element's magnitude, rtol 1e-2) detect wrong formulas while tolerating rounding.
public func gradCheck(
  inputs: [Tensor], epsilon: Float = 1e-2, rtol: Float = 1e-2, atol: Float = 1e-3,
  seed: UInt64 = 7, _ f: ([Tensor]) -> Tensor
) -> GradCheckResult {
  var generator = RandomGenerator(seed: seed)
  let leaves = inputs.map { $0.detached().requiringGrad() }
  let output = f(leaves)
  let weights = Tensor.uniform(output.shape, low: -1, high: 1, generator: &generator)
  (output * weights).sum().backward()

  func loss(_ xs: [Tensor]) -> Double {
    let y = withoutGradients { f(xs) }
    var acc = 0.0
    y.withUnsafeBufferPointer { yb in weights.withUnsafeBufferPointer { wb in
      for i in 0..<yb.count { acc += Double(yb[i]) * Double(wb[i]) }
    } }
    return acc
  }

  var result = GradCheckResult(maxAbsError: 0, maxRelError: 0, worst: (0, 0, 0, 0), passed: true)
  for (k, leaf) in leaves.enumerated() {
    let analytic = leaf.grad ?? Tensor.zeros(leaf.shape)
    for i in 0..<leaf.count {
      var xs = inputs.map { $0.detached() }
      let x0 = inputs[k].withUnsafeBufferPointer { $0[i] }
      let h = epsilon * Swift.max(1, Swift.abs(x0))
      xs[k].withUnsafeMutableBufferPointer { $0[i] = x0 + h }
      let lp = loss(xs)
      xs[k].withUnsafeMutableBufferPointer { $0[i] = x0 - h }
      let lm = loss(xs)
      let numeric = Float((lp - lm) / (2 * Double(h)))
      let a = analytic.withUnsafeBufferPointer { $0[i] }
      guard a.isFinite && numeric.isFinite else {
        // A non-finite gradient never passes (NaN compares false with every tolerance).
        result.maxAbsError = .nan
        result.maxRelError = .nan
        result.worst = (k, i, a, numeric)
        result.passed = false
        return result
      }
      let absErr = Swift.abs(a - numeric)
      let relErr = absErr / Swift.max(Swift.max(Swift.abs(numeric), Swift.abs(a)), 1e-3)
      result.maxAbsError = Swift.max(result.maxAbsError, absErr)
      if relErr > result.maxRelError { result.maxRelError = relErr; result.worst = (k, i, a, numeric) }
      if !(absErr <= atol + rtol * Swift.abs(numeric)) { result.passed = false }
    }
  }
  return result
}
