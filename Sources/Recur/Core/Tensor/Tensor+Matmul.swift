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
    let batch: Int, m: Int, k: Int, n: Int, outShape: [Int]
    if other.rank == 2 {
      precondition(rank >= 2 && shape[rank - 1] == other.shape[0],
                   "matmul: shapes \(shape) and \(other.shape) are not aligned (inner extents \(shape.last ?? 0) vs \(other.shape[0]))")
      (batch, k, n, m) = (1, other.shape[0], other.shape[1], shape.dropLast().reduce(1, *))  // not count / k: k may be 0
      outShape = shape.dropLast() + [n]
    } else {
      precondition(rank == 3 && other.rank == 3 && shape[0] == other.shape[0] && shape[2] == other.shape[1],
                   "matmul: batched shapes \(shape) and \(other.shape) are not aligned")
      (batch, m, k, n) = (shape[0], shape[1], shape[2], other.shape[2])
      outShape = [batch, m, n]
    }
    /// A tensor of `shape` whose `batch` slices are filled by `body(slice, destination)`.
    func batched(_ shape: [Int], _ body: (Int, UnsafeMutablePointer<Float>) -> Void) -> Tensor {
      var d = Tensor(uninitializedShape: shape)
      let stride = shape.reduce(1, *) / Swift.max(batch, 1)
      d.withUnsafeMutableBufferPointer { p in for i in 0..<batch { body(i, p.baseAddress! + i * stride) } }
      return d
    }
    let a = self, b = other
    let out = batched(outShape) { i, c in gemm(m: m, n: n, k: k, a: a.storage.pointer + i * m * k, b: b.storage.pointer + i * k * n, c: c) }
    return Tensor.record(out, op: other.rank == 2 ? "matmul" : "bmm", inputs: [a, b]) { g in
      let da = a.requiresGrad ? batched(a.shape) { i, c in
        gemm(transB: true, m: m, n: k, k: n, a: g.storage.pointer + i * m * n, b: b.storage.pointer + i * k * n, c: c)
      } : nil
      let db = b.requiresGrad ? batched(b.shape) { i, c in
        gemm(transA: true, m: k, n: n, k: m, a: a.storage.pointer + i * m * k, b: g.storage.pointer + i * m * n, c: c)
      } : nil
      return [da, db]
    }
  }
}
