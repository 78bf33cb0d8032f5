// MARK: - Dropout (the op behind `Dropout`)

extension Tensor {
  /// Inverted dropout with probability `p` (always active; callers decide on training mode).
  /// One tape node; the backward multiplies by the same mask.
  public func dropout(p: Float, generator: inout RandomGenerator) -> Tensor {
    precondition(p >= 0 && p <= 1, "dropout probability has to be between 0 and 1, but got \(p)")
    // mask[i] = 1/(1-p) with probability 1-p, else 0.
    var mask = Tensor(uninitializedShape: shape)
    let scale: Float = p < 1 ? 1 / (1 - p) : 0
    mask.withUnsafeMutableBufferPointer { m in
      for i in m.indices { m[i] = generator.nextUniform() < p ? 0 : scale }
    }
    var out = Tensor(uninitializedShape: shape)
    let px = storage.pointer, pm = mask.storage.pointer
    out.withUnsafeMutableBufferPointer { o in for i in o.indices { o[i] = px[i] * pm[i] } }
    return Tensor.record(out, op: "dropout", inputs: [self]) { g in
      var dx = Tensor(uninitializedShape: g.shape)
      let pg = g.storage.pointer, pm = mask.storage.pointer
      dx.withUnsafeMutableBufferPointer { d in for i in d.indices { d[i] = pg[i] * pm[i] } }
      return [dx]
    }
  }
}
