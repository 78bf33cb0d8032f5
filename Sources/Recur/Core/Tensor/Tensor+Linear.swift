// MARK: - Affine map (the op behind `Linear`)

extension Tensor {
  /// `self·weightᵀ + bias` over the last axis, as one tape node (`torch.nn.functional.linear`).
  /// `self` is `[*, K]`, `weight` `[N, K]`, `bias` `[N]` or nil; the result is `[*, N]`.
  public func linear(weight: Tensor, bias: Tensor? = nil) -> Tensor {
    precondition(rank >= 1 && weight.rank == 2 && shape[rank - 1] == weight.shape[1],
                 "linear: input shape \(shape) does not end in the weight's input size (weight shape \(weight.shape))")
    let k = weight.shape[1], n = weight.shape[0], m = shape.dropLast().reduce(1, *)
    if let bias {
      precondition(bias.shape == [n], "linear: bias shape \(bias.shape) should be [\(n)] to match weight \(weight.shape)")
    }
    var outShape = shape
    outShape[rank - 1] = n
    var out = Tensor(uninitializedShape: outShape)
    out.withUnsafeMutableBufferPointer { o in
      let c = o.baseAddress!
      gemm(transB: true, m: m, n: n, k: k, a: storage.pointer, b: weight.storage.pointer, c: c)
      if let bias {
        let pb = bias.storage.pointer
        for r in 0..<m {
          let row = c + r * n
          for j in 0..<n { row[j] += pb[j] }
        }
      }
    }
    let x = self
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tensor.record(out, op: "linear", inputs: inputs) { g in
      let pg = g.storage.pointer
      var grads: [Tensor?] = [nil, nil]
      if x.requiresGrad {
        // dx[m, k] = g[m, n] · W[n, k]
        var dx = Tensor(uninitializedShape: x.shape)
        dx.withUnsafeMutableBufferPointer { gemm(m: m, n: k, k: n, a: pg, b: weight.storage.pointer, c: $0.baseAddress!) }
        grads[0] = dx
      }
      if weight.requiresGrad {
        // dW[n, k] = gᵀ[n, m] · x[m, k]
        var dw = Tensor(uninitializedShape: weight.shape)
        dw.withUnsafeMutableBufferPointer { gemm(transA: true, m: n, n: k, k: m, a: pg, b: x.storage.pointer, c: $0.baseAddress!) }
        grads[1] = dw
      }
      if let bias {
        var db: Tensor? = nil
        if bias.requiresGrad {
          var d = Tensor.zeros([n])
          d.withUnsafeMutableBufferPointer { dp in
            for r in 0..<m {
              let row = pg + r * n
              for j in 0..<n { dp[j] += row[j] }
            }
          }
          db = d
        }
        grads.append(db)
      }
      return grads
    }
  }
}
