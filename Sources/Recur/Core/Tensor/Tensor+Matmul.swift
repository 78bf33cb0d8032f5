import CRecurKernels

// MARK: - Matrix products

/// C = op(A)·op(B) (+ C when `accumulate`) through the dispatched GEMM kernel.
/// Shapes: op(A) [m, k], op(B) [k, n]; pointers are row-major with leading dimension = stored width.
@inline(__always)
func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
          a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, accumulate: Bool = false) {
  if m == 0 || n == 0 { return }
  recur_sgemm(transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha,
              a, Int32(transA ? m : k), b, Int32(transB ? k : n), accumulate ? 1 : 0, c, Int32(n))
}

extension Tensor {
  /// Matrix product. `self` is [..., M, K] and `other` is [K, N] (leading axes of `self` are
  /// folded into M), or both are [B, M, K] and [B, K, N] (batched).
  public func matmul(_ other: Tensor) -> Tensor {
    if other.rank == 2 {
      precondition(rank >= 2 && shape[rank - 1] == other.shape[0],
                   "matmul: shapes \(shape) and \(other.shape) are not aligned (inner extents \(shape.last ?? 0) vs \(other.shape[0]))")
      let k = other.shape[0], n = other.shape[1], m = shape.dropLast().reduce(1, *)  // not count / k: k may be 0
      var outShape = shape
      outShape[rank - 1] = n
      var out = Tensor(uninitializedShape: outShape)
      out.withUnsafeMutableBufferPointer { gemm(m: m, n: n, k: k, a: storage.pointer, b: other.storage.pointer, c: $0.baseAddress!) }
      let a = self, b = other
      return Tensor.record(out, op: "matmul", inputs: [a, b]) { g in
        var da: Tensor? = nil, db: Tensor? = nil
        if a.requiresGrad {
          var d = Tensor(uninitializedShape: a.shape)
          d.withUnsafeMutableBufferPointer { gemm(transB: true, m: m, n: k, k: n, a: g.storage.pointer, b: b.storage.pointer, c: $0.baseAddress!) }
          da = d
        }
        if b.requiresGrad {
          var d = Tensor(uninitializedShape: b.shape)
          d.withUnsafeMutableBufferPointer { gemm(transA: true, m: k, n: n, k: m, a: a.storage.pointer, b: g.storage.pointer, c: $0.baseAddress!) }
          db = d
        }
        return [da, db]
      }
    }
    precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0] && shape[2] == other.shape[1],
                 "matmul: batched shapes \(shape) and \(other.shape) are not aligned")
    let batch = shape[0], m = shape[1], k = shape[2], n = other.shape[2]
    var out = Tensor(uninitializedShape: [batch, m, n])
    out.withUnsafeMutableBufferPointer { o in
      for i in 0..<batch {
        gemm(m: m, n: n, k: k, a: storage.pointer + i * m * k, b: other.storage.pointer + i * k * n, c: o.baseAddress! + i * m * n)
      }
    }
    let a = self, b = other
    return Tensor.record(out, op: "bmm", inputs: [a, b]) { g in
      var da: Tensor? = nil, db: Tensor? = nil
      if a.requiresGrad {
        var d = Tensor(uninitializedShape: a.shape)
        d.withUnsafeMutableBufferPointer { dp in
          for i in 0..<batch {
            gemm(transB: true, m: m, n: k, k: n, a: g.storage.pointer + i * m * n, b: b.storage.pointer + i * k * n, c: dp.baseAddress! + i * m * k)
          }
        }
        da = d
      }
      if b.requiresGrad {
        var d = Tensor(uninitializedShape: b.shape)
        d.withUnsafeMutableBufferPointer { dp in
          for i in 0..<batch {
            gemm(transA: true, m: k, n: n, k: m, a: a.storage.pointer + i * m * k, b: g.storage.pointer + i * m * n, c: dp.baseAddress! + i * k * n)
          }
        }
        db = d
      }
      return [da, db]
    }
  }
}
