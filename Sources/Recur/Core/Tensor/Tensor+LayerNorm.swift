import CRecurKernels

// MARK: - Layer normalisation (the fused op behind `LayerNorm`)

extension Tensor {
  /// Normalises each run of `width` trailing elements to zero mean and unit (biased) variance,
  /// then scales by `weight` and shifts by `bias` (each `width` elements, any shape), as one node.
  func layerNorm(width: Int, eps: Float, weight: Tensor?, bias: Tensor?) -> Tensor {
    precondition(width > 0 && count % width == 0, "layerNorm: width \(width) does not divide shape \(shape)")
    if let weight { precondition(weight.count == width, "layerNorm: weight shape \(weight.shape) does not have \(width) elements") }
    if let bias { precondition(bias.count == width, "layerNorm: bias shape \(bias.shape) does not have \(width) elements") }
    let rows = count / width, d = width
    precondition(rows <= Int(Int32.max) && d <= Int(Int32.max), "layerNorm: \(rows) rows of \(d) exceed the kernel's 32-bit sizes")
    // Per-row statistics kept for the backward: mean[r], rstd[r] = 1/√(var + eps).
    var stats = Tensor(uninitializedShape: [2, rows])
    var out = Tensor(uninitializedShape: shape)
    let px = storage.pointer, pw = weight?.storage.pointer, pb = bias?.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      stats.withUnsafeMutableBufferPointer { st in
        recur_layer_norm_forward(Int32(rows), Int32(d), eps, px, pw, pb, o.baseAddress, st.baseAddress, st.baseAddress! + rows)
      }
    }
    var inputs = [self]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let x = self
    return Tensor.record(out, op: "layerNorm", inputs: inputs) { g in
      // x̂ = (x − mean)·rstd, dx̂ = g·w, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),
      // dw = Σ_rows g·x̂, db = Σ_rows g (recur_layer_norm_backward).
      let wantsX = x.requiresGrad, wantsW = weight?.requiresGrad ?? false, wantsB = bias?.requiresGrad ?? false
      var dx = Tensor(uninitializedShape: wantsX ? x.shape : [0])
      var dw = Tensor(uninitializedShape: [wantsW ? d : 0]), db = Tensor(uninitializedShape: [wantsB ? d : 0])
      let pst = stats.storage.pointer
      dx.withUnsafeMutableBufferPointer { dxp in
        dw.withUnsafeMutableBufferPointer { dwp in
          db.withUnsafeMutableBufferPointer { dbp in
            recur_layer_norm_backward(Int32(rows), Int32(d), x.storage.pointer, pst, pst + rows, weight?.storage.pointer,
                                      g.storage.pointer, wantsX ? dxp.baseAddress : nil, wantsW ? dwp.baseAddress : nil,
                                      wantsB ? dbp.baseAddress : nil)
          }
        }
      }
      var grads: [Tensor?] = [wantsX ? dx : nil]
      if let weight { grads.append(wantsW ? dw.reshaped(weight.shape) : nil) }
      if let bias { grads.append(wantsB ? db.reshaped(bias.shape) : nil) }
      return grads
    }
  }
}
