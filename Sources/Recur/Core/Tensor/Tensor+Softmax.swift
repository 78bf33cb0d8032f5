import Foundation

// MARK: - Softmax over the last axis

extension Tensor {
  /// log(softmax(x)) over the last axis, computed stably.
  public func logSoftmax() -> Tensor {
    mapLastAxis(op: "logSoftmax", forward: { x, y, n in
      let m = (0..<n).reduce(-Float.infinity) { Swift.max($0, x[$1]) }
      var s: Float = 0
      for j in 0..<n { s += Foundation.exp(x[j] - m) }
      let lse = m + Foundation.log(s)
      for j in 0..<n { y[j] = x[j] - lse }
    }, backward: { g, y, d, n in
      // dx = g - softmax * sum(g)
      var s: Float = 0
      for j in 0..<n { s += g[j] }
      for j in 0..<n { d[j] = g[j] - Foundation.exp(y[j]) * s }
    })
  }

  /// softmax(x) over the last axis.
  public func softmax() -> Tensor {
    mapLastAxis(op: "softmax", forward: { x, y, n in
      let m = (0..<n).reduce(-Float.infinity) { Swift.max($0, x[$1]) }
      var s: Float = 0
      for j in 0..<n { y[j] = Foundation.exp(x[j] - m); s += y[j] }
      let inv = 1 / s
      for j in 0..<n { y[j] *= inv }
    }, backward: { g, y, d, n in
      // dx = y * (g - sum(g * y))
      var s: Float = 0
      for j in 0..<n { s += g[j] * y[j] }
      for j in 0..<n { d[j] = y[j] * (g[j] - s) }
    })
  }

  /// A row-wise map over the last axis as one tape node: `forward(x, y, n)` fills output row `y`
  /// from input row `x`; `backward(g, y, dx, n)` fills the input gradient row from the output
  /// gradient row `g` and the output row `y`.
  private func mapLastAxis(
    op: String,
    forward: (UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void,
    backward: @escaping (UnsafePointer<Float>, UnsafePointer<Float>, UnsafeMutablePointer<Float>, Int) -> Void
  ) -> Tensor {
    precondition(rank >= 1 && shape[rank - 1] > 0, "\(op) needs a non-empty last axis, got shape \(shape)")
    let n = shape[rank - 1], rows = count / n
    var out = Tensor(uninitializedShape: shape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for r in 0..<rows { forward(p + r * n, o.baseAddress! + r * n, n) }
    }
    return Tensor.record(out, op: op, inputs: [self]) { g in
      var dx = Tensor(uninitializedShape: out.shape)
      let pg = g.storage.pointer, py = out.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in
        for r in 0..<rows { backward(pg + r * n, py + r * n, d.baseAddress! + r * n, n) }
      }
      return [dx]
    }
  }
}
