// MARK: - Gathering rows (embedding lookup)

extension Tensor {
  /// Rows of a 2-D table selected by `indices`: result shape `indexShape + [width]`.
  /// The backward scatters (adds) into the selected rows.
  public func gatherRows(_ indices: [Int], indexShape: [Int]? = nil) -> Tensor {
    precondition(rank == 2, "gatherRows needs a 2-D table, got shape \(shape)")
    let rows = shape[0], width = shape[1]
    for i in indices { precondition(i >= 0 && i < rows, "gatherRows: index \(i) out of range 0..<\(rows)") }
    let idxShape = indexShape ?? [indices.count]
    precondition(idxShape.reduce(1, *) == indices.count, "gatherRows: index shape \(idxShape) does not fit \(indices.count) indices")
    var out = Tensor(uninitializedShape: idxShape + [width])
    let src = storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for (r, i) in indices.enumerated() { (o.baseAddress! + r * width).update(from: src + i * width, count: width) }
    }
    let tableShape = shape
    return Tensor.record(out, op: "gatherRows", inputs: [self]) { g in
      var d = Tensor.zeros(tableShape)
      let pg = g.storage.pointer
      d.withUnsafeMutableBufferPointer { dp in
        for (r, i) in indices.enumerated() {
          let dst = dp.baseAddress! + i * width, s = pg + r * width
          for j in 0..<width { dst[j] += s[j] }
        }
      }
      return [d]
    }
  }
}
