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
        let mean = vectorSum(x, d) / Float(d)
        for j in 0..<d { y[j] = x[j] - mean }  // centred first: a two-pass variance, no cancellation
        let rstd = 1 / (vectorDot(y, y, d) / Float(d) + eps).squareRoot()
        means[r] = mean
        rstds[r] = rstd
        switch (pw, pb) {
        case let (w?, b?): for j in 0..<d { y[j] = y[j] * rstd * w[j] + b[j] }
        case let (w?, nil): for j in 0..<d { y[j] = y[j] * rstd * w[j] }
        case let (nil, b?): for j in 0..<d { y[j] = y[j] * rstd + b[j] }
        case (nil, nil): for j in 0..<d { y[j] = y[j] * rstd }
        }
      }
    }
    var inputs = [self]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let x = self
    return Tensor.record(out, op: "layerNorm", inputs: inputs) { g in
      // x̂ = (x − mean)·rstd, dx̂ = g·w, dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)),
      // dw = Σ_rows g·x̂, db = Σ_rows g.
      let pg = g.storage.pointer, px = x.storage.pointer, pw = weight?.storage.pointer
      var dx = Tensor(uninitializedShape: x.shape)
      var dw = Tensor.zeros([weight == nil ? 0 : d]), db = Tensor.zeros([bias == nil ? 0 : d])
      let pdw = dw.storage.pointer, pdb = db.storage.pointer  // fresh, unshared: written in place
      let xhat = UnsafeMutablePointer<Float>.allocate(capacity: d), dxhat = UnsafeMutablePointer<Float>.allocate(capacity: d)
      defer { xhat.deallocate(); dxhat.deallocate() }
      dx.withUnsafeMutableBufferPointer { dxp in
        for r in 0..<rows {
          let xr = px + r * d, gr = pg + r * d, dr = dxp.baseAddress! + r * d
          let mean = means[r], rstd = rstds[r]
          for j in 0..<d { xhat[j] = (xr[j] - mean) * rstd }
          if let pw { for j in 0..<d { dxhat[j] = gr[j] * pw[j] } } else { dxhat.update(from: gr, count: d) }
          let a = vectorSum(dxhat, d) / Float(d), b = vectorDot(dxhat, xhat, d) / Float(d)
          for j in 0..<d { dr[j] = rstd * (dxhat[j] - a - xhat[j] * b) }
          if weight != nil { for j in 0..<d { pdw[j] += gr[j] * xhat[j] } }
          if bias != nil { for j in 0..<d { pdb[j] += gr[j] } }
        }
      }
      var grads: [Tensor?] = [x.requiresGrad ? dx : nil]
      if let weight { grads.append(weight.requiresGrad ? dw.reshaped(weight.shape) : nil) }
      if let bias { grads.append(bias.requiresGrad ? db.reshaped(bias.shape) : nil) }
      return grads
    }
  }
}

// MARK: - Reductions with partial sums (vectorisable; the order differs from a serial loop)

/// Σ p[0..<n], accumulated in 8 interleaved partial sums.
@inline(__always)
func vectorSum(_ p: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc = SIMD8<Float>()
  var j = 0
  let raw = UnsafeRawPointer(p)
  while j + 8 <= n {
    acc += raw.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
    j += 8
  }
  var s = acc.sum()
  while j < n { s += p[j]; j += 1 }
  return s
}

/// Σ a[i]·b[i] over 0..<n, accumulated in 8 interleaved partial sums.
@inline(__always)
func vectorDot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var acc = SIMD8<Float>()
  var j = 0
  let ra = UnsafeRawPointer(a), rb = UnsafeRawPointer(b)
  while j + 8 <= n {
    acc += ra.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self) * rb.loadUnaligned(fromByteOffset: j * 4, as: SIMD8<Float>.self)
    j += 8
  }
  var s = acc.sum()
  while j < n { s += a[j] * b[j]; j += 1 }
  return s
}
