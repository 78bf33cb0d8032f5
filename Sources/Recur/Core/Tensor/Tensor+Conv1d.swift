// MARK: - One-dimensional convolution (the op behind `Conv1d`)

/// The geometry of a 1-D convolution: everything but the values.
struct Conv1dGeometry: Equatable, Sendable {
  var batch: Int, inChannels: Int, outChannels: Int, length: Int, kernelSize: Int
  var stride: Int, padLeft: Int, padRight: Int, dilation: Int, groups: Int

  /// Output length: ⌊(L + padding − dilation·(K − 1) − 1) / stride⌋ + 1, as in PyTorch.
  var outputLength: Int { (length + padLeft + padRight - dilation * (kernelSize - 1) - 1) / stride + 1 }
  /// Input channels per group.
  var groupInChannels: Int { inChannels / groups }
  /// Output channels per group.
  var groupOutChannels: Int { outChannels / groups }
  /// Rows of one group's column matrix: C_in/groups · K.
  var columnRows: Int { groupInChannels * kernelSize }

  /// Calls `body(column, input)` for every entry of the column matrix of batch row `b`, group `g`
  /// (`[C_in/groups·K, L_out]`, row-major): col[c·K + k, t] reads x[b, g·C_in/groups + c,
  /// t·stride + k·dilation − padLeft], whose flat index is `input`, or nil in the zero padding.
  @inline(__always)
  func forEachColumnEntry(b: Int, g: Int, _ body: (_ column: Int, _ input: Int?) -> Void) {
    let lOut = outputLength
    for c in 0..<groupInChannels {
      let channel = (b * inChannels + g * groupInChannels + c) * length
      for k in 0..<kernelSize {
        let row = (c * kernelSize + k) * lOut, offset = k * dilation - padLeft
        for t in 0..<lOut {
          let i = t * stride + offset
          body(row + t, i >= 0 && i < length ? channel + i : nil)
        }
      }
    }
  }

  /// Fills `col` with the input windows of batch row `b`, group `g` (zero outside the input).
  func im2col(_ x: UnsafePointer<Float>, b: Int, g: Int, into col: UnsafeMutablePointer<Float>) {
    forEachColumnEntry(b: b, g: g) { column, input in col[column] = input.map { x[$0] } ?? 0 }
  }

  /// The adjoint of `im2col`: adds each column entry back to the input position it was read from.
  func col2imAdding(_ col: UnsafePointer<Float>, b: Int, g: Int, into dx: UnsafeMutablePointer<Float>) {
    forEachColumnEntry(b: b, g: g) { column, input in if let input { dx[input] += col[column] } }
  }
}

extension Tensor {
  /// Cross-correlation of `self` (`[B, C_in, L]`) with `weight` (`[C_out, C_in/groups, K]`) plus
  /// `bias` (`[C_out]`), as one tape node: `torch.nn.functional.conv1d` with zero padding of
  /// `padLeft` and `padRight` elements. The result is `[B, C_out, L_out]`.
  ///
  /// Forward: per batch row and group, im2col then one GEMM W_g·col. Backward: the same columns
  /// (rebuilt, not kept) give dW_g += g·colᵀ, and dcol = W_gᵀ·g is scattered back into dx.
  func conv1d(weight: Tensor, bias: Tensor?, stride: Int, padLeft: Int, padRight: Int, dilation: Int, groups: Int) -> Tensor {
    precondition(rank == 3 && weight.rank == 3, "conv1d: input \(shape) and weight \(weight.shape) must be 3-D")
    precondition(stride >= 1 && dilation >= 1 && groups >= 1 && padLeft >= 0 && padRight >= 0,
                 "conv1d: stride \(stride), dilation \(dilation), groups \(groups) must be positive and padding (\(padLeft), \(padRight)) non-negative")
    let geo = Conv1dGeometry(batch: shape[0], inChannels: shape[1], outChannels: weight.shape[0], length: shape[2],
                             kernelSize: weight.shape[2], stride: stride, padLeft: padLeft, padRight: padRight,
                             dilation: dilation, groups: groups)
    precondition(geo.inChannels % groups == 0 && geo.outChannels % groups == 0 && weight.shape[1] == geo.groupInChannels,
                 "conv1d: input \(shape), weight \(weight.shape) and groups \(groups) do not fit")
    precondition(geo.kernelSize >= 1 && geo.outputLength >= 1,
                 "conv1d: kernel \(geo.kernelSize) (dilation \(dilation)) is longer than the padded input \(geo.length + padLeft + padRight)")
    if let bias { precondition(bias.shape == [geo.outChannels], "conv1d: bias shape \(bias.shape) should be [\(geo.outChannels)]") }
    let lOut = geo.outputLength, og = geo.groupOutChannels, rows = geo.columnRows
    let col = UnsafeMutablePointer<Float>.allocate(capacity: rows * lOut)
    defer { col.deallocate() }
    var out = Tensor(uninitializedShape: [geo.batch, geo.outChannels, lOut])
    let px = storage.pointer, pw = weight.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      let po = o.baseAddress!
      for b in 0..<geo.batch {
        for g in 0..<groups {
          geo.im2col(px, b: b, g: g, into: col)
          gemm(m: og, n: lOut, k: rows, a: pw + g * og * rows, b: col, c: po + (b * geo.outChannels + g * og) * lOut)
        }
        if let bias {
          let pb = bias.storage.pointer
          for o in 0..<geo.outChannels {
            let row = po + (b * geo.outChannels + o) * lOut
            for t in 0..<lOut { row[t] += pb[o] }
          }
        }
      }
    }
    let x = self
    var inputs = [x, weight]
    if let bias { inputs.append(bias) }
    return Tensor.record(out, op: "conv1d", inputs: inputs) { grad in
      let pg = grad.storage.pointer, px = x.storage.pointer, pw = weight.storage.pointer
      let dx = x.requiresGrad ? Tensor.zeros(x.shape) : nil
      let dw = weight.requiresGrad ? Tensor.zeros(weight.shape) : nil
      let pdx = dx?.storage.pointer, pdw = dw?.storage.pointer  // fresh, unshared: written in place
      let col = UnsafeMutablePointer<Float>.allocate(capacity: rows * lOut)
      defer { col.deallocate() }
      for b in 0..<geo.batch {
        for g in 0..<groups {
          let gbg = pg + (b * geo.outChannels + g * og) * lOut
          if let pdw {
            geo.im2col(px, b: b, g: g, into: col)
            gemm(transB: true, m: og, n: rows, k: lOut, a: gbg, b: col, c: pdw + g * og * rows, accumulate: true)
          }
          if let pdx {
            gemm(transA: true, m: rows, n: lOut, k: og, a: pw + g * og * rows, b: gbg, c: col)
            geo.col2imAdding(col, b: b, g: g, into: pdx)
          }
        }
      }
      var grads: [Tensor?] = [dx, dw]
      if let bias {
        var db: Tensor? = nil
        if bias.requiresGrad {
          var d = Tensor.zeros([geo.outChannels])
          d.withUnsafeMutableBufferPointer { dp in
            for b in 0..<geo.batch {
              for o in 0..<geo.outChannels { dp[o] += vectorSum(pg + (b * geo.outChannels + o) * lOut, lOut) }
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

// MARK: - A sum with partial sums (vectorisable; the order differs from a serial loop)

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
