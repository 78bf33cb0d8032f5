import CRecurKernels

extension Tensor {
  /// The recurrence of a minGRU or minLSTM layer (Feng et al. 2024) over precomputed gate
  /// projections, as one tape node (`recur_min_scan_forward` / `_backward`).
  ///
  /// Shapes: `pre` `[T, B, G·H]` (G = `kind.gateCount`), `h0` `[B, H]`, `lengths` nil or B values
  /// in 1…T → `[T + 1, B, H]`: rows 0..<T are the outputs (zero at and past a sequence's length),
  /// row T the final state (the state after each sequence's last valid step). Differentiable in
  /// `pre` and `h0`.
  static func minimalScan(_ kind: MinimalRecurrentKind, pre: Tensor, h0: Tensor, lengths: [Int]?) -> Tensor {
    precondition(pre.rank == 3 && h0.rank == 2 && pre.shape[2] == kind.gateCount * h0.shape[1] && pre.shape[1] == h0.shape[0],
                 "minimalScan: pre \(pre.shape) and h0 \(h0.shape) are not [T, B, \(kind.gateCount)·H] and [B, H]")
    let T = pre.shape[0], B = pre.shape[1], H = h0.shape[1], N = B * H
    precondition(lengths.map { $0.count == B && $0.allSatisfy { (1...T).contains($0) } } ?? true,
                 "minimalScan: lengths \(lengths!) must be \(B) values in 1...\(T)")
    let last = lengths ?? Array(repeating: T, count: B)
    var all = Tensor.zeros([T, B, H])
    all.withUnsafeMutableBufferPointer { h in
      recur_min_scan_forward(kind.kernelKind, Int32(T), Int32(B), Int32(H), pre.storage.pointer, h0.storage.pointer, h.baseAddress!)
    }
    var result = Tensor.zeros([T + 1, B, H])
    result.withUnsafeMutableBufferPointer { out in
      let h = all.storage.pointer, o = out.baseAddress!
      for b in 0..<B {
        for t in 0..<last[b] { (o + t * N + b * H).update(from: h + t * N + b * H, count: H) }
        (o + T * N + b * H).update(from: h + (last[b] - 1) * N + b * H, count: H)
      }
    }
    let states = all
    return record(result, op: "minimalScan", inputs: [pre, h0]) { g in
      // ∂L/∂h_t from outside: the output's gradient where the output is not masked, plus the
      // final state's at each sequence's last step.
      var dh = Tensor.zeros([T, B, H])
      dh.withUnsafeMutableBufferPointer { d in
        let gp = g.storage.pointer, dp = d.baseAddress!
        for b in 0..<B {
          for t in 0..<last[b] { (dp + t * N + b * H).update(from: gp + t * N + b * H, count: H) }
          let row = dp + (last[b] - 1) * N + b * H, final = gp + T * N + b * H
          for j in 0..<H { row[j] += final[j] }
        }
      }
      var dPre = Tensor.zeros(pre.shape), dH0 = Tensor.zeros(h0.shape)
      dPre.withUnsafeMutableBufferPointer { dp in
        dH0.withUnsafeMutableBufferPointer { d0 in
          recur_min_scan_backward(kind.kernelKind, Int32(T), Int32(B), Int32(H), pre.storage.pointer, h0.storage.pointer,
                                  states.storage.pointer, dh.storage.pointer, dp.baseAddress!, d0.baseAddress!)
        }
      }
      return [pre.requiresGrad ? dPre : nil, h0.requiresGrad ? dH0 : nil]
    }
  }
}
