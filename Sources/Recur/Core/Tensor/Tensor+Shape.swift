// MARK: - Reshaping and views

extension Tensor {
  /// The same elements with a new shape (one extent may be -1, inferred).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var resolved = newShape
    if let i = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != i }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "reshape: cannot infer -1 in \(newShape) for \(count) elements")
      resolved[i] = count / known
    }
    precondition(resolved.reduce(1, *) == count, "reshape: shape \(shape) (\(count) elements) cannot become \(newShape)")
    let out = Tensor(storage: storage, shape: resolved)
    let inputShape = shape
    return Tensor.record(out, op: "reshape", inputs: [self]) { g in
      [Tensor(storage: g.storage, shape: inputShape)]
    }
  }

  /// Inserts an axis of extent 1 at `axis`.
  public func unsqueezed(_ axis: Int) -> Tensor {
    var s = shape
    s.insert(1, at: axis)
    return reshaped(s)
  }

  /// Removes an axis of extent 1.
  public func squeezed(_ axis: Int) -> Tensor {
    precondition(shape[axis] == 1, "squeeze: axis \(axis) of \(shape) is not 1")
    var s = shape
    s.remove(at: axis)
    return reshaped(s)
  }

  /// Permutes the axes: result axis i is input axis `axes[i]` (copies the data).
  public func permuted(_ axes: [Int]) -> Tensor {
    precondition(axes.sorted() == Array(0..<rank), "permute: \(axes) is not a permutation of the \(rank) axes of \(shape)")
    let out = permuteRaw(axes)
    var inverse = [Int](repeating: 0, count: axes.count)
    for (i, a) in axes.enumerated() { inverse[a] = i }
    return Tensor.record(out, op: "permute", inputs: [self]) { g in [g.permuteRaw(inverse)] }
  }

  /// Swaps the last two axes (a matrix transpose for rank 2).
  public func transposed() -> Tensor {
    precondition(rank >= 2, "transposed needs rank >= 2, got shape \(shape)")
    var axes = Array(0..<rank)
    axes.swapAt(rank - 1, rank - 2)
    return permuted(axes)
  }

  /// Swaps two axes.
  public func transposed(_ a: Int, _ b: Int) -> Tensor {
    var axes = Array(0..<rank)
    axes.swapAt(a, b)
    return permuted(axes)
  }

  func permuteRaw(_ axes: [Int]) -> Tensor {
    let outShape = axes.map { shape[$0] }
    var out = Tensor(uninitializedShape: outShape)
    let inStrides = Tensor.strides(of: shape)
    let src = storage.pointer
    if rank == 2 && axes == [1, 0] {
      let r = shape[0], c = shape[1]
      out.withUnsafeMutableBufferPointer { o in
        let blk = 32
        for i0 in stride(from: 0, to: r, by: blk) {
          for j0 in stride(from: 0, to: c, by: blk) {
            for i in i0..<min(i0 + blk, r) { for j in j0..<min(j0 + blk, c) { o[j * r + i] = src[i * c + j] } }
          }
        }
      }
      return out
    }
    let st = axes.map { inStrides[$0] }
    let n = count
    out.withUnsafeMutableBufferPointer { o in
      var index = [Int](repeating: 0, count: outShape.count)
      var offset = 0
      for i in 0..<n {
        o[i] = src[offset]
        var axis = outShape.count - 1
        while axis >= 0 {
          index[axis] += 1
          offset += st[axis]
          if index[axis] < outShape[axis] { break }
          offset -= st[axis] * outShape[axis]
          index[axis] = 0
          axis -= 1
        }
      }
    }
    return out
  }
}

// MARK: - Slicing, concatenation, stacking

extension Tensor {
  /// Rows `range` of the first axis.
  public func slice(_ range: Range<Int>) -> Tensor {
    precondition(rank >= 1 && range.lowerBound >= 0 && range.upperBound <= shape[0],
                 "slice: range \(range) out of bounds for first axis of \(shape)")
    let inner = shape.dropFirst().reduce(1, *)
    var outShape = shape
    outShape[0] = range.count
    var out = Tensor(uninitializedShape: outShape)
    let src = storage.pointer + range.lowerBound * inner
    out.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: src, count: range.count * inner) }
    let inputShape = shape
    return Tensor.record(out, op: "slice", inputs: [self]) { g in
      var dx = Tensor.zeros(inputShape)
      dx.withUnsafeMutableBufferPointer {
        ($0.baseAddress! + range.lowerBound * inner).update(from: g.storage.pointer, count: g.count)
      }
      return [dx]
    }
  }

  /// Element `index` of the first axis (drops that axis).
  public subscript(row index: Int) -> Tensor {
    var s = shape
    s.removeFirst()
    return slice(index..<(index + 1)).reshaped(s)
  }

  /// Joins tensors along `axis`; all other extents must agree.
  public static func concatenate(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    precondition(!tensors.isEmpty, "concatenate needs at least one tensor")
    let first = tensors[0].shape
    for t in tensors {
      precondition(t.rank == first.count && (0..<first.count).allSatisfy { $0 == axis || t.shape[$0] == first[$0] },
                   "concatenate along axis \(axis): shape \(t.shape) does not match \(first)")
    }
    let outer = first.prefix(axis).reduce(1, *)
    let inner = first.suffix(from: axis + 1).reduce(1, *)
    var outShape = first
    outShape[axis] = tensors.map { $0.shape[axis] }.reduce(0, +)
    var out = Tensor(uninitializedShape: outShape)
    let widths = tensors.map { $0.shape[axis] * inner }
    let total = widths.reduce(0, +)
    out.withUnsafeMutableBufferPointer { o in
      var col = 0
      for (t, w) in zip(tensors, widths) {
        let src = t.storage.pointer
        for a in 0..<outer { (o.baseAddress! + a * total + col).update(from: src + a * w, count: w) }
        col += w
      }
    }
    return record(out, op: "concat", inputs: tensors) { g in
      var col = 0
      return zip(tensors, widths).map { t, w in
        defer { col += w }
        guard t.requiresGrad else { return nil }
        var d = Tensor(uninitializedShape: t.shape)
        d.withUnsafeMutableBufferPointer { dp in
          for a in 0..<outer { (dp.baseAddress! + a * w).update(from: g.storage.pointer + a * total + col, count: w) }
        }
        return d
      }
    }
  }

  /// Stacks equal-shaped tensors along a new axis.
  public static func stack(_ tensors: [Tensor], axis: Int = 0) -> Tensor {
    concatenate(tensors.map { $0.unsqueezed(axis) }, axis: axis)
  }
}
