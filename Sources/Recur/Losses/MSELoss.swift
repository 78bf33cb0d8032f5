/// Mean squared error: ℓ = (input − target)², reduced by `reduction`.
///
/// Shapes: `input` and `target` of the same shape; the result is a scalar (`.mean`, `.sum`) or
/// that shape (`.none`). Both arguments receive gradients when they require them. One tape node.
///
/// Matches `torch.nn.functional.mse_loss` (without broadcasting, which PyTorch warns about).
public func mseLoss(_ input: Tensor, _ target: Tensor, reduction: Reduction = .mean) -> Tensor {
  precondition(input.shape == target.shape,
               "mseLoss: input shape \(input.shape) and target shape \(target.shape) differ; reshape one of them")
  let n = input.count
  var diff = Tensor(uninitializedShape: input.shape)
  let pa = input.storage.pointer, pb = target.storage.pointer
  diff.withUnsafeMutableBufferPointer { d in for i in 0..<n { d[i] = pa[i] - pb[i] } }
  let pd = diff.storage.pointer
  let out: Tensor
  switch reduction {
  case .none:
    var o = Tensor(uninitializedShape: input.shape)
    o.withUnsafeMutableBufferPointer { o in for i in 0..<n { o[i] = pd[i] * pd[i] } }
    out = o
  case .sum, .mean:
    var acc: Double = 0
    for i in 0..<n { acc += Double(pd[i] * pd[i]) }
    out = Tensor(scalar: Float(reduction == .mean ? acc / Double(n) : acc))
  }
  return Tensor.record(out, op: "mseLoss", inputs: [input, target]) { g in
    // d/dinput = 2·diff·g (g broadcast for the reduced forms), d/dtarget = −that.
    var d = Tensor(uninitializedShape: input.shape)
    let pd = diff.storage.pointer
    d.withUnsafeMutableBufferPointer { dp in
      if reduction == .none {
        let pg = g.storage.pointer
        for i in 0..<n { dp[i] = 2 * pd[i] * pg[i] }
      } else {
        let scale = reduction == .mean ? 2 * g.item / Float(n) : 2 * g.item
        for i in 0..<n { dp[i] = scale * pd[i] }
      }
    }
    return [input.requiresGrad ? d : nil, target.requiresGrad ? d.map { -$0 } : nil]
  }
}
