// MARK: - Depthwise convolution over time (the op behind `CausalDepthwiseConv1d`)

extension Tensor {
  /// A depthwise ("valid") convolution along the first axis of a time-major input, one filter per
  /// channel, as one tape node:
  /// ```
  /// y[t, b, d] = bias[d] + Σ_k weight[d, k] · x[t + k, b, d]      k = 0 ..< K
  /// ```
  /// `self` is `[T + K − 1, B, D]` (the first K − 1 steps are the left context), `weight` has D·K
  /// elements in `[D, K]` order (PyTorch's `[D, 1, K]` depthwise `Conv1d` weight), `bias` `[D]`;
  /// the result is `[T, B, D]`. With the context made of the K − 1 steps before the window, this is
  /// a causal convolution: step t sees only steps t − K + 1 … t.
  func depthwiseConvolution(weight: Tensor, bias: Tensor?) -> Tensor {
    precondition(rank == 3 && weight.count % shape[2] == 0 && weight.count >= shape[2],
                 "depthwiseConvolution: input \(shape) (time, batch, channels) and weight \(weight.shape) do not fit")
    let D = shape[2], K = weight.count / D, B = shape[1], T = shape[0] - (K - 1)
    precondition(T >= 1, "depthwiseConvolution: \(shape[0]) steps are fewer than the kernel's \(K)")
    if let bias { precondition(bias.count == D, "depthwiseConvolution: bias \(bias.shape) should have \(D) elements") }
    let row = B * D
    // Taps per channel, transposed to [K, D] so the inner loops run over contiguous channels.
    var taps = [Float](repeating: 0, count: K * D)
    let pw = weight.storage.pointer
    for d in 0..<D { for k in 0..<K { taps[k * D + d] = pw[d * K + k] } }
    var out = Tensor(uninitializedShape: [T, B, D])
    let px = storage.pointer, pb = bias?.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      let po = o.baseAddress!
      taps.withUnsafeBufferPointer { w in
        for t in 0..<T {
          for b in 0..<B {
            let y = po + t * row + b * D
            if let pb { y.update(from: pb, count: D) } else { y.update(repeating: 0, count: D) }
            for k in 0..<K {
              let x = px + (t + k) * row + b * D, wk = w.baseAddress! + k * D
              for d in 0..<D { y[d] += wk[d] * x[d] }
            }
          }
        }
      }
    }
    let input = self
    let inputs = [self, weight] + (bias.map { [$0] } ?? [])
    return Tensor.record(out, op: "depthwise_conv", inputs: inputs) { g in
      let pg = g.storage.pointer, px = input.storage.pointer
      var dx: Tensor? = nil
      if input.requiresGrad {
        var d = Tensor.zeros(input.shape)
        d.withUnsafeMutableBufferPointer { dp in
          let pdx = dp.baseAddress!
          taps.withUnsafeBufferPointer { w in
            for t in 0..<T {
              for b in 0..<B {
                let gy = pg + t * row + b * D
                for k in 0..<K {
                  let dxr = pdx + (t + k) * row + b * D, wk = w.baseAddress! + k * D
                  for c in 0..<D { dxr[c] += gy[c] * wk[c] }
                }
              }
            }
          }
        }
        dx = d
      }
      // dW in [K, D] order, then back to the weight's [D, K].
      var dTaps = [Float](repeating: 0, count: K * D), dBias = [Float](repeating: 0, count: D)
      dTaps.withUnsafeMutableBufferPointer { dw in dBias.withUnsafeMutableBufferPointer { db in
        for t in 0..<T {
          for b in 0..<B {
            let gy = pg + t * row + b * D
            for c in 0..<D { db[c] += gy[c] }
            for k in 0..<K {
              let x = px + (t + k) * row + b * D, dwk = dw.baseAddress! + k * D
              for c in 0..<D { dwk[c] += gy[c] * x[c] }
            }
          }
        }
      } }
      var dWeight = Tensor(uninitializedShape: weight.shape)
      dWeight.withUnsafeMutableBufferPointer { p in for d in 0..<D { for k in 0..<K { p[d * K + k] = dTaps[k * D + d] } } }
      var grads: [Tensor?] = [dx, dWeight]
      if let bias { grads.append(Tensor(shape: bias.shape, scalars: dBias)) }
      return grads
    }
  }
}
