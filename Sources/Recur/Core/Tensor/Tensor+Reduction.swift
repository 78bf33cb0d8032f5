// MARK: - Reductions

extension Tensor {
  /// Sum of all elements (a scalar).
  public func sum() -> Tensor {
    var acc: Double = 0
    let p = storage.pointer
    for i in 0..<count { acc += Double(p[i]) }
    let inputShape = shape
    return Tensor.record(Tensor(scalar: Float(acc)), op: "sum", inputs: [self]) { g in
      [Tensor(repeating: g.item, shape: inputShape)]
    }
  }

  /// Mean of all elements (a scalar).
  public func mean() -> Tensor { sum() / Float(Swift.max(count, 1)) }

  /// Sum over `axis`.
  public func sum(axis: Int, keepingDims: Bool = false) -> Tensor {
    let a = axis < 0 ? axis + rank : axis
    precondition(a >= 0 && a < rank, "sum: axis \(axis) out of range for shape \(shape)")
    let out = rawSum(axis: a, keepingDims: keepingDims)
    let inputShape = shape
    return Tensor.record(out, op: "sumAxis", inputs: [self]) { g in
      var kept = inputShape
      kept[a] = 1
      return [Tensor.broadcastMap(Tensor.zeros(inputShape), g.reshaped(kept), "+", +)]
    }
  }

  /// Mean over `axis`.
  public func mean(axis: Int, keepingDims: Bool = false) -> Tensor {
    let a = axis < 0 ? axis + rank : axis
    return sum(axis: a, keepingDims: keepingDims) / Float(shape[a])
  }

  /// Maximum over the last axis and its position (no gradient to the index).
  public func max(axis: Int = -1, keepingDims: Bool = false) -> Tensor {
    let a = axis < 0 ? axis + rank : axis
    let (values, indices) = maxWithIndices(axis: a)
    var outShape = shape
    if keepingDims { outShape[a] = 1 } else { outShape.remove(at: a) }
    let out = Tensor(storage: values.storage, shape: outShape)
    let inputShape = shape
    let inner = shape.suffix(from: a + 1).reduce(1, *), n = shape[a]
    return Tensor.record(out, op: "max", inputs: [self]) { g in
      var dx = Tensor.zeros(inputShape)
      let pg = g.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in
        for (k, idx) in indices.enumerated() {
          let o = k / inner, j = k % inner
          d[(o * n + idx) * inner + j] += pg[k]
        }
      }
      return [dx]
    }
  }

  /// Index of the largest element along `axis` (first one on ties).
  public func argmax(axis: Int = -1) -> [Int] {
    maxWithIndices(axis: axis < 0 ? axis + rank : axis).1
  }

  private func maxWithIndices(axis a: Int) -> (Tensor, [Int]) {
    precondition(a >= 0 && a < rank && shape[a] > 0, "max/argmax: axis \(a) invalid or empty for shape \(shape)")
    let outer = shape.prefix(a).reduce(1, *), n = shape[a], inner = shape.suffix(from: a + 1).reduce(1, *)
    var values = Tensor(uninitializedShape: [outer * inner])
    var indices = [Int](repeating: 0, count: outer * inner)
    let p = storage.pointer
    values.withUnsafeMutableBufferPointer { v in
      for o in 0..<outer {
        for j in 0..<inner {
          var best = p[o * n * inner + j], bi = 0
          for k in 1..<Swift.max(n, 1) {
            let x = p[(o * n + k) * inner + j]
            if x > best || (best.isNaN == false && x.isNaN) { best = x; bi = k }
          }
          v[o * inner + j] = best
          indices[o * inner + j] = bi
        }
      }
    }
    return (values, indices)
  }
}

// MARK: - Comparisons (no gradient)

extension Tensor {
  /// 1 where `self > other` (broadcast), else 0.
  public func greater(_ other: Tensor) -> Tensor { Tensor.broadcastMap(self, other, ">") { $0 > $1 ? 1 : 0 } }
  /// 1 where `self < other` (broadcast), else 0.
  public func less(_ other: Tensor) -> Tensor { Tensor.broadcastMap(self, other, "<") { $0 < $1 ? 1 : 0 } }
  /// 1 where `self == other` (broadcast), else 0.
  public func equal(_ other: Tensor) -> Tensor { Tensor.broadcastMap(self, other, "==") { $0 == $1 ? 1 : 0 } }
  /// Whether every element is finite.
  public var isFinite: Bool { withUnsafeBufferPointer { $0.allSatisfy { $0.isFinite } } }
}
