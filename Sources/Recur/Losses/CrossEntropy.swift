import CRecurKernels
import Foundation

/// Cross-entropy between class scores and class-index targets: log-softmax and negative
/// log-likelihood fused into one op.
///
/// ```
/// ℓ_n = −(1 − ε)·log p_n[t_n] − (ε/C)·Σ_c log p_n[c],   p_n = softmax(logits_n)
/// ```
/// with ε = `labelSmoothing`; ℓ_n = 0 where `t_n == ignoreIndex`. `.mean` divides the sum by the
/// number of targets that are not ignored (NaN when all are, as in PyTorch), `.sum` adds them,
/// `.none` returns every ℓ_n.
///
/// Shapes: `logits` `[N, C]` or `[*, C]` — **classes on the last axis** (a language model's
/// `[T, B, V]` output works as is; PyTorch would want `[N, C, d…]` with classes on axis 1);
/// `targets` holds `N` (= the product of the leading extents) indices in `0..<C` or `ignoreIndex`.
/// The result is a scalar, or the leading shape `[*]` for `.none`.
///
/// Forward keeps the softmax probabilities; backward is `(p − (1−ε)·onehot − ε/C)·∂ℓ`, a single
/// pass. Targets out of range are programmer errors (`precondition`); validate data read from files
/// with `validateTargets(_:classCount:ignoreIndex:)` first.
///
/// Matches `torch.nn.functional.cross_entropy(logits.reshape(-1, C), targets, ignore_index:,
/// reduction:, label_smoothing:)` (no class weights).
public func crossEntropy(
  logits: Tensor, targets: [Int], ignoreIndex: Int = -100, reduction: Reduction = .mean, labelSmoothing: Float = 0
) -> Tensor {
  precondition(logits.rank >= 1 && logits.shape[logits.rank - 1] > 0,
               "crossEntropy: logits need a non-empty class axis last, got shape \(logits.shape)")
  precondition(labelSmoothing >= 0 && labelSmoothing <= 1,
               "crossEntropy: labelSmoothing must be in [0, 1], got \(labelSmoothing)")
  let c = logits.shape[logits.rank - 1], n = logits.count / c
  precondition(targets.count == n,
               "crossEntropy: \(targets.count) targets for \(n) rows of logits with shape \(logits.shape) (classes on the last axis)")
  for (i, t) in targets.enumerated() where (t < 0 || t >= c) && t != ignoreIndex {
    preconditionFailure("crossEntropy: target \(t) at position \(i) is out of bounds 0..<\(c) and is not ignoreIndex \(ignoreIndex); "
      + "validate data with validateTargets(_:classCount:ignoreIndex:)")
  }
  let eps = labelSmoothing, offTarget = labelSmoothing / Float(c)
  let x = logits.storage.pointer
  // probs: [N, C], first the shifted logits x − max, then exp of them, then normalised.
  let shifted = Tensor(uninitializedShape: [n * c])
  let probs = Tensor(uninitializedShape: [n * c])
  let ps = shifted.storage.pointer, pp = probs.storage.pointer
  for r in 0..<n {
    let row = x + r * c, s = ps + r * c
    var m = row[0]
    for j in 1..<c where row[j] > m || row[j].isNaN { m = row[j] }
    if m == -.infinity { m = 0 }  // an all −∞ row: avoid −∞ − (−∞)
    for j in 0..<c { s[j] = row[j] - m }
  }
  if n * c > 0 { recur_vexp(ps, pp, n * c) }
  var rowLoss = [Float](repeating: 0, count: n)
  var valid = 0
  withExtendedLifetime(shifted) {
  for r in 0..<n {
    let p = pp + r * c, s = ps + r * c
    var sum: Float = 0
    for j in 0..<c { sum += p[j] }
    let inv = 1 / sum
    for j in 0..<c { p[j] *= inv }
    let t = targets[r]
    guard t != ignoreIndex else { continue }
    valid += 1
    let logSum = Foundation.log(sum)
    var loss = logSum - s[t]  // −log p[t]
    if eps > 0 {
      var shiftedSum: Float = 0
      for j in 0..<c { shiftedSum += s[j] }
      let smooth = Float(c) * logSum - shiftedSum  // −Σ_c log p[c]
      loss = (1 - eps) * loss + offTarget * smooth
    }
    rowLoss[r] = loss
  }
  }
  let out: Tensor
  switch reduction {
  case .none:
    out = Tensor(shape: Array(logits.shape.dropLast()), scalars: rowLoss)
  case .sum, .mean:
    var acc: Double = 0
    for l in rowLoss { acc += Double(l) }
    out = Tensor(scalar: Float(reduction == .sum ? acc : acc / Double(valid)))
  }
  let shape = logits.shape
  return Tensor.record(out, op: "crossEntropy", inputs: [logits]) { g in
    var d = Tensor(uninitializedShape: shape)
    let pg = g.storage.pointer, pp = probs.storage.pointer
    let uniform: Float = reduction == .none ? 0 : (reduction == .sum ? pg[0] : pg[0] / Float(valid))
    d.withUnsafeMutableBufferPointer { dp in
      for r in 0..<n {
        let dr = dp.baseAddress! + r * c, p = pp + r * c
        let t = targets[r]
        if t == ignoreIndex {
          for j in 0..<c { dr[j] = 0 }
          continue
        }
        let coef = reduction == .none ? pg[r] : uniform
        for j in 0..<c { dr[j] = coef * (p[j] - offTarget) }
        dr[t] -= coef * (1 - eps)
      }
    }
    return [d]
  }
}
