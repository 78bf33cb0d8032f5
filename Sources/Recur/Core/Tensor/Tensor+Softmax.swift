import Foundation

// MARK: - Softmax over the last axis

extension Tensor {
  /// log(softmax(x)) over the last axis, computed stably.
  public func logSoftmax() -> Tensor {
    precondition(rank >= 1 && shape[rank - 1] > 0, "logSoftmax needs a non-empty last axis, got shape \(shape)")
    let n = shape[rank - 1], rows = count / n
    var out = Tensor(uninitializedShape: shape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for r in 0..<rows {
        let x = p + r * n, y = o.baseAddress! + r * n
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, x[j]) }
        var s: Float = 0
        for j in 0..<n { s += Foundation.exp(x[j] - m) }
        let lse = m + Foundation.log(s)
        for j in 0..<n { y[j] = x[j] - lse }
      }
    }
    return Tensor.record(out, op: "logSoftmax", inputs: [self]) { g in
      // dx = g - softmax * sum(g)
      var dx = Tensor(uninitializedShape: out.shape)
      let pg = g.storage.pointer, py = out.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in
        for r in 0..<rows {
          var s: Float = 0
          for j in 0..<n { s += pg[r * n + j] }
          for j in 0..<n { d[r * n + j] = pg[r * n + j] - Foundation.exp(py[r * n + j]) * s }
        }
      }
      return [dx]
    }
  }

  /// softmax(x) over the last axis.
  public func softmax() -> Tensor {
    precondition(rank >= 1 && shape[rank - 1] > 0, "softmax needs a non-empty last axis, got shape \(shape)")
    let n = shape[rank - 1], rows = count / n
    var out = Tensor(uninitializedShape: shape)
    let p = storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for r in 0..<rows {
        let x = p + r * n, y = o.baseAddress! + r * n
        var m = -Float.infinity
        for j in 0..<n { m = Swift.max(m, x[j]) }
        var s: Float = 0
        for j in 0..<n { y[j] = Foundation.exp(x[j] - m); s += y[j] }
        let inv = 1 / s
        for j in 0..<n { y[j] *= inv }
      }
    }
    return Tensor.record(out, op: "softmax", inputs: [self]) { g in
      // dx = y * (g - sum(g * y))
      var dx = Tensor(uninitializedShape: out.shape)
      let pg = g.storage.pointer, py = out.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in
        for r in 0..<rows {
          var s: Float = 0
          for j in 0..<n { s += pg[r * n + j] * py[r * n + j] }
          for j in 0..<n { d[r * n + j] = py[r * n + j] * (pg[r * n + j] - s) }
        }
      }
      return [dx]
    }
  }
}
