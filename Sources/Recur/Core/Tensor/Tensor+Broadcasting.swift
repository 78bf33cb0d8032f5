/// Broadcasting rules (NumPy/PyTorch): shapes are aligned at the right; an axis of extent 1 (or a
/// missing axis) stretches to the other's extent.
extension Tensor {
  /// The broadcast shape of `a` and `b`, or nil when they are incompatible.
  static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
    let rank = Swift.max(a.count, b.count)
    var out = [Int](repeating: 1, count: rank)
    for i in 0..<rank {
      let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
      let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
      if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
    }
    return out
  }

  /// Strides for reading a tensor of `shape` as if it had `target` shape (0 on broadcast axes).
  static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
    let own = strides(of: shape)
    let offset = target.count - shape.count
    return (0..<target.count).map { i in
      i < offset || shape[i - offset] == 1 ? 0 : own[i - offset]
    }
  }

  /// Applies `op` elementwise over the broadcast of `a` and `b`.
  static func broadcastMap(_ a: Tensor, _ b: Tensor, _ opName: String, _ op: (Float, Float) -> Float) -> Tensor {
    guard let shape = broadcastShape(a.shape, b.shape) else {
      preconditionFailure("\(opName): shapes \(a.shape) and \(b.shape) cannot be broadcast together")
    }
    var out = Tensor(uninitializedShape: shape)
    let n = out.count
    let pa = a.storage.pointer, pb = b.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      let po = o.baseAddress!
      if a.shape == b.shape {
        for i in 0..<n { po[i] = op(pa[i], pb[i]) }
      } else if b.count == 1 {
        let s = pb[0]
        for i in 0..<n { po[i] = op(pa[i], s) }
      } else if a.count == 1 {
        let s = pa[0]
        for i in 0..<n { po[i] = op(s, pb[i]) }
      } else if a.shape == shape, shape.count >= b.shape.count, Array(shape.suffix(b.shape.count)) == b.shape {
        let inner = b.count
        var base = 0
        while base < n {
          for j in 0..<inner { po[base + j] = op(pa[base + j], pb[j]) }
          base += inner
        }
      } else {
        let sa = broadcastStrides(a.shape, to: shape), sb = broadcastStrides(b.shape, to: shape)
        var index = [Int](repeating: 0, count: shape.count)
        var ia = 0, ib = 0
        for i in 0..<n {
          po[i] = op(pa[ia], pb[ib])
          var axis = shape.count - 1
          while axis >= 0 {
            index[axis] += 1
            ia += sa[axis]; ib += sb[axis]
            if index[axis] < shape[axis] { break }
            ia -= sa[axis] * shape[axis]; ib -= sb[axis] * shape[axis]
            index[axis] = 0
            axis -= 1
          }
        }
      }
    }
    return out
  }

  /// Sums a broadcast gradient back down to `target` shape (the backward of broadcasting).
  func sumToShape(_ target: [Int]) -> Tensor {
    if shape == target { return self }
    let offset = shape.count - target.count
    precondition(offset >= 0, "sumToShape: \(shape) cannot reduce to \(target)")
    var result = self
    // Sum away leading axes.
    if offset > 0 {
      let rows = shape.prefix(offset).reduce(1, *)
      let inner = count / Swift.max(rows, 1)
      var out = Tensor.zeros(Array(shape.suffix(target.count)))
      let p = storage.pointer
      out.withUnsafeMutableBufferPointer { o in
        for r in 0..<rows { for j in 0..<inner { o[j] += p[r * inner + j] } }
      }
      result = out
    }
    for axis in 0..<target.count where target[axis] == 1 && result.shape[axis] != 1 {
      result = result.rawSum(axis: axis, keepingDims: true)
    }
    return result
  }

  /// Sum over one axis without recording (used by backward passes).
  func rawSum(axis: Int, keepingDims: Bool) -> Tensor {
    let outer = shape.prefix(axis).reduce(1, *)
    let n = shape[axis]
    let inner = shape.suffix(from: axis + 1).reduce(1, *)
    var outShape = shape
    if keepingDims { outShape[axis] = 1 } else { outShape.remove(at: axis) }
    var out = Tensor.zeros(outShape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for a in 0..<outer {
        for k in 0..<n {
          let src = p + (a * n + k) * inner
          let dst = o.baseAddress! + a * inner
          for j in 0..<inner { dst[j] += src[j] }
        }
      }
    }
    return out
  }
}
