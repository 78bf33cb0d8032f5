import Foundation

// MARK: - Layer normalisation (the fused op behind `LayerNorm`)

extension Tensor {
  /// Normalises each run of `width` trailing elements to zero mean and unit (biased) variance,
  /// then scales by `weight` and shifts by `bias` (each `width` elements, any shape), as one node.
  func layerNorm(width: Int, eps: Float, weight: Tensor?, bias: Tensor?) -> Tensor {
    precondition(width > 0 && count % width == 0, "layerNorm: width \(width) does not divide shape \(shape)")
    if let weight { precondition(weight.count == width, "layerNorm: weight shape \(weight.shape) does not have \(width) elements") }
    if let bias { precondition(bias.count == width, "layerNorm: bias shape \(bias.shape) does not have \(width) elements") }
    let rows = count / width, d = width
    // Per-row statistics kept for the backward: mean[r], rstd[r] = 1/√(var + eps).
    var means = [Float](repeating: 0, count: rows)
    var rstds = [Float](repeating: 0, count: rows)
    var out = Tensor(uninitializedShape: shape)
    let px = storage.pointer
    let pw = weight?.storage.pointer, pb = bias?.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for r in 0..<rows {
        let x = px + r * d, y = o.baseAddress! + r * d
        var sum: Float = 0
        for j in 0..<d { sum += x[j] }
        let mean = sum / Float(d)
        var sq: Float = 0
        for j in 0..<d { let c = x[j] - mean; sq += c * c }
        let rstd = 1 / (sq / Float(d) + eps).squareRoot()
        means[r] = mean
        rstds[r] = rstd
        for j in 0..<d { y[j] = (x[j] - mean) * rstd }
        if let pw { for j in 0..<d { y[j] *= pw[j] } }
        if let pb { for j in 0..<d { y[j] += pb[j] } }
      }
    }
    var inputs = [self]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let x = self
    return Tensor.record(out, op: "layerNorm", inputs: inputs) { g in
      let pg = g.storage.pointer, px = x.storage.pointer, pw = weight?.storage.pointer
      var dx = Tensor(uninitializedShape: x.shape)
      var dw = [Float](repeating: 0, count: weight == nil ? 0 : d)
      var db = [Float](repeating: 0, count: bias == nil ? 0 : d)
      var xhat = [Float](repeating: 0, count: d), dxhat = [Float](repeating: 0, count: d)
      dx.withUnsafeMutableBufferPointer { dxp in
        for r in 0..<rows {
          let xr = px + r * d, gr = pg + r * d, dr = dxp.baseAddress! + r * d
          let mean = means[r], rstd = rstds[r]
          var sumDxhat: Float = 0, sumDxhatXhat: Float = 0
          for j in 0..<d {
            let xh = (xr[j] - mean) * rstd
            let dxh = pw.map { gr[j] * $0[j] } ?? gr[j]
            xhat[j] = xh
            dxhat[j] = dxh
            sumDxhat += dxh
            sumDxhatXhat += dxh * xh
          }
          let a = sumDxhat / Float(d), b = sumDxhatXhat / Float(d)
          for j in 0..<d { dr[j] = rstd * (dxhat[j] - a - xhat[j] * b) }
          if !dw.isEmpty { for j in 0..<d { dw[j] += gr[j] * xhat[j] } }
          if !db.isEmpty { for j in 0..<d { db[j] += gr[j] } }
        }
      }
      var grads: [Tensor?] = [x.requiresGrad ? dx : nil]
      if let weight { grads.append(weight.requiresGrad ? Tensor(shape: weight.shape, scalars: dw) : nil) }
      if let bias { grads.append(bias.requiresGrad ? Tensor(shape: bias.shape, scalars: db) : nil) }
      return grads
    }
  }
}
