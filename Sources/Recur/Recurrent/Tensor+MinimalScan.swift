import CRecurKernels

extension Tensor {
  /// The recurrence of a minGRU or minLSTM layer (Feng et al. 2024) over precomputed gate
  /// projections, as one tape node (`recur_min_scan_forward` / `_backward`).
  ///
  /// Shapes: `pre` `[T, B, G·H]` (G = `kind.gateCount`), `h0` `[B, H]`, `lengths` nil or B values
  /// in 1…T → the states `[T, B, H]`, zero at and past a sequence's length (the final state of
  /// sequence b is row `lengths[b] − 1`). Differentiable in `pre` and `h0`. Keeps the decays
  /// `[T, B, H]` for the backward while the tape holds the result.
  static func minimalScan(_ kind: MinimalRecurrentKind, pre: Tensor, h0: Tensor, lengths: [Int]?) -> Tensor {
    precondition(pre.rank == 3 && h0.rank == 2 && pre.shape[2] == kind.gateCount * h0.shape[1] && pre.shape[1] == h0.shape[0],
                 "minimalScan: pre \(pre.shape) and h0 \(h0.shape) are not [T, B, \(kind.gateCount)·H] and [B, H]")
    let T = pre.shape[0], B = pre.shape[1], H = h0.shape[1], N = B * H
    precondition(lengths.map { $0.count == B && $0.allSatisfy { (1...T).contains($0) } } ?? true,
                 "minimalScan: lengths \(lengths!) must be \(B) values in 1...\(T)")
    var states = Tensor(uninitializedShape: [T, B, H])
    let decays = Tensor(uninitializedShape: [T, B, H])
    states.withUnsafeMutableBufferPointer { h in
      recur_min_scan_forward(kind.kernelKind, Int32(T), Int32(B), Int32(H), pre.storage.pointer, h0.storage.pointer,
                             h.baseAddress!, decays.storage.pointer)
    }
    // Zeros past each length, in place: the backward never reads those states (their gradient is
    // zero, and so is every gradient they would carry back).
    /// Zeros the rows of each sequence at and past its length in a `[T, B, H]` buffer.
    func zeroPastLengths(_ values: inout Tensor) {
      guard let lengths else { return }
      values.withUnsafeMutableBufferPointer { v in
        for b in 0..<B { for t in lengths[b]..<T { (v.baseAddress! + t * N + b * H).update(repeating: 0, count: H) } }
      }
    }
    zeroPastLengths(&states)
    let result = states
    return record(result, op: "minimalScan", inputs: [pre, h0]) { g in
      var dh = lengths == nil ? g : g.copied()
      zeroPastLengths(&dh)
      var dPre = Tensor(uninitializedShape: pre.shape), dH0 = Tensor(uninitializedShape: h0.shape)
      dPre.withUnsafeMutableBufferPointer { dp in
        dH0.withUnsafeMutableBufferPointer { d0 in
          recur_min_scan_backward(kind.kernelKind, Int32(T), Int32(B), Int32(H), pre.storage.pointer, decays.storage.pointer,
                                  h0.storage.pointer, result.storage.pointer, dh.storage.pointer, dp.baseAddress!, d0.baseAddress!)
        }
      }
      return [pre.requiresGrad ? dPre : nil, h0.requiresGrad ? dH0 : nil]
    }
  }
}
