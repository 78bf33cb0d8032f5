import CRecurKernels

extension RecurrentStack {
  /// Forward of one layer and direction over all T steps.
  /// - x: layer input [T, B, I]; h0/c0: initial state rows [B, H_out] / [B, H];
  /// - output: where step t row b goes (`output + (t·B + b)·outputStride`), zero past a length.
  func forwardDirection(
    weights w: RecurrentWeights, x: Tensor, reverse: Bool, mask: StepMask?,
    h0: UnsafePointer<Float>, c0: UnsafePointer<Float>?,
    output: UnsafeMutablePointer<Float>, outputStride: Int
  ) -> DirectionCache {
    let (T, B, I, H, hOut, G, relu) = dimensions(of: x)

    // 1. Input projection of all steps: XW = X·W_ihᵀ + b_ih   [T·B, G]
    let xw = Tensor(uninitializedShape: [T, B, G])
    gemm(transB: true, m: T * B, n: G, k: I, a: x.storage.pointer, b: w.weightIH.storage.pointer, c: xw.storage.pointer)
    if let bih = w.biasIH { recur_add_row_bias(Int32(T * B), Int32(G), xw.storage.pointer, bih.storage.pointer) }

    let cache = DirectionCache(reverse: reverse, gates: xw, states: Tensor(uninitializedShape: [T + 1, B, hOut]))
    let states = cache.states.storage.pointer
    (states + (reverse ? T : 0) * B * hOut).update(from: h0, count: B * hOut)
    if kind == .lstm {
      cache.cells = Tensor(uninitializedShape: [T + 1, B, H])
      cache.tanhCells = Tensor(uninitializedShape: [T, B, H])
      (cache.cells!.storage.pointer + (reverse ? T : 0) * B * H).update(from: c0!, count: B * H)
      if projSize > 0 { cache.unprojected = Tensor(uninitializedShape: [T, B, H]) }
    }
    if kind == .gru { cache.hiddenProjections = Tensor(uninitializedShape: [T, B, G]) }

    let bhh = w.biasHH.map { UnsafePointer($0.storage.pointer) }
    if let bounds = hiddenUnitBounds(batch: B) {
      let slices = w.packedHiddenSlices(bounds: bounds)
      let lengths = mask.map { $0.lengths.map { Int32(min($0, T)) } }
      slices.withUnsafeBufferPointer { packedSlices in
        (lengths ?? []).withUnsafeBufferPointer { lengthBuffer in
          recur_lstm_forward_sequence(
            Int32(T), Int32(B), Int32(H), reverse ? 1 : 0, xw.storage.pointer, packedSlices.baseAddress,
            Int32(bounds.count - 1), bounds, bhh, states, cache.cells!.storage.pointer,
            cache.tanhCells!.storage.pointer, lengths == nil ? nil : lengthBuffer.baseAddress, output, outputStride)
        }
      }
      return cache
    }
    let packed = w.packedTransposedHH()
    let parts = recurrenceParts(batch: B)
    Kernels.forEachPart(parts) { part in
      // rows batchRows of every step: batch rows never mix in a recurrence
      let batchRows = DataShard(index: part, count: parts).range(of: B)
      let b0 = batchRows.lowerBound, rows = batchRows.count
      for s in 0..<T {
        let t = reverse ? T - 1 - s : s
        let prev = states + cache.previousSlot(t) * B * hOut + b0 * hOut
        let next = states + cache.nextSlot(t) * B * hOut + b0 * hOut
        let gt = xw.storage.pointer + t * B * G + b0 * G
        let masked = mask?.maskedRows(at: t, in: batchRows) ?? []
        switch kind {
        case .lstm:
          recur_sgemm_packed(Int32(rows), Int32(G), Int32(hOut), 1, prev, Int32(hOut), packed, 1, gt, Int32(G))
          let cells = cache.cells!.storage.pointer
          let cPrev = cells + cache.previousSlot(t) * B * H + b0 * H, cNext = cells + cache.nextSlot(t) * B * H + b0 * H
          let m = projSize > 0 ? cache.unprojected!.storage.pointer + t * B * H + b0 * H : next
          recur_lstm_forward_step(Int32(rows), Int32(H), gt, bhh, cPrev, cNext,
                                  cache.tanhCells!.storage.pointer + t * B * H + b0 * H, m)
          if projSize > 0 {
            gemm(transB: true, m: rows, n: hOut, k: H, a: m, b: w.weightHR!.storage.pointer, c: next)
          }
          for b in masked { (cNext + (b - b0) * H).update(from: cPrev + (b - b0) * H, count: H) }
        case .gru:
          let hh = cache.hiddenProjections!.storage.pointer + t * B * G + b0 * G
          recur_sgemm_packed(Int32(rows), Int32(G), Int32(hOut), 1, prev, Int32(hOut), packed, 0, hh, Int32(G))
          recur_gru_forward_step(Int32(rows), Int32(H), gt, hh, bhh, prev, next)
        case .rnnTanh, .rnnRelu:
          recur_sgemm_packed(Int32(rows), Int32(G), Int32(hOut), 1, prev, Int32(hOut), packed, 1, gt, Int32(G))
          recur_rnn_forward_step(Int32(rows), Int32(H), gt, bhh, relu, next)
        }
        for b in masked { (next + (b - b0) * hOut).update(from: prev + (b - b0) * hOut, count: hOut) }
        for b in batchRows {
          let dst = output + (t * B + b) * outputStride
          if masked.contains(b) {
            dst.update(repeating: 0, count: hOut)
          } else {
            dst.update(from: next + (b - b0) * hOut, count: hOut)
          }
        }
      }
    }
    return cache
  }
}
