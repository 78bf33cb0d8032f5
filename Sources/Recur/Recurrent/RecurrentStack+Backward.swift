import CRecurKernels

extension RecurrentStack {
  struct Gradients {
    /// nil when the stack's input needs no gradient (the first layer's dX GEMM is skipped).
    var dx: Tensor?
    var dh0: Tensor
    var dc0: Tensor?
    /// In the order of `weights.flatMap(\.parameters)`.
    var params: [Tensor]
  }

  /// Backward through the whole stack, top layer first, each direction reversed in time.
  /// dOutput [T, B, D·H_out], dhN [L·D, B, H_out], dcN [L·D, B, H] point into the flat gradient.
  /// Without `inputGradient` the first layer's dX = dGates · W_ih (a GEMM as large as its input
  /// projection) is not computed: nothing upstream of the stack would read it.
  func backward(
    dOutput: UnsafePointer<Float>, dhN: UnsafePointer<Float>, dcN: UnsafePointer<Float>?,
    caches: [DirectionCache], layerInputs: [Tensor], dropoutMasks: [Tensor?], masks: StepMask?, T: Int, B: Int,
    inputGradient: Bool
  ) -> Gradients {
    let L = numLayers, D = numDirections, hOut = outputSize, H = hiddenSize
    let dh0 = Tensor(uninitializedShape: [L * D, B, hOut])
    let dc0 = kind == .lstm ? Tensor(uninitializedShape: [L * D, B, H]) : nil
    var paramGrads = [[Tensor]](repeating: [], count: L * D)
    var norms = [[Float]](repeating: [], count: L * D)

    // Gradient w.r.t. the current layer's output [T, B, D·H_out].
    var dY = Tensor(uninitializedShape: [T, B, D * hOut])
    dY.storage.pointer.update(from: dOutput, count: dY.count)
    var dX: Tensor?
    for l in stride(from: L - 1, through: 0, by: -1) {
      let x = layerInputs[l]
      dX = l > 0 || inputGradient ? Tensor(uninitializedShape: x.shape) : nil
      for d in 0..<D {
        let i = l * D + d
        let r = backwardDirection(
          weights: weights[i], cache: caches[i], x: x, mask: masks,
          dOutput: UnsafePointer(dY.storage.pointer + d * hOut), outputStride: D * hOut,
          dhN: dhN + i * B * hOut, dcN: dcN.map { $0 + i * B * H },
          dx: dX?.storage.pointer, accumulateDX: d > 0)
        (dh0.storage.pointer + i * B * hOut).update(from: r.dh0, count: B * hOut)
        if let dc0, let rc = r.dc0 { (dc0.storage.pointer + i * B * H).update(from: rc, count: B * H) }
        paramGrads[i] = r.params
        norms[i] = r.norms
      }
      if l > 0, let dX {
        dY = dX
        if let m = dropoutMasks[l - 1] { dY = Tensor.broadcastMap(dY, m, "dropout", *) }
      }
    }
    gradientFlow.norms = norms
    gradientFlow.numDirections = D
    return Gradients(dx: dX, dh0: dh0, dc0: dc0, params: paramGrads.flatMap { $0 })
  }

  struct DirectionGradients {
    var dh0: UnsafePointer<Float>
    var dc0: UnsafePointer<Float>?
    var params: [Tensor]
    var norms: [Float]
    /// Keeps the buffers dh0/dc0 point into alive.
    var buffers: [Tensor]
  }

  /// Backward of one layer and direction. Writes (or adds, when `accumulateDX`) dX [T, B, I]
  /// when `dx` is given.
  func backwardDirection(
    weights w: RecurrentWeights, cache: DirectionCache, x: Tensor, mask: StepMask?,
    dOutput: UnsafePointer<Float>, outputStride: Int,
    dhN: UnsafePointer<Float>, dcN: UnsafePointer<Float>?,
    dx: UnsafeMutablePointer<Float>?, accumulateDX: Bool
  ) -> DirectionGradients {
    let (T, B, I, H, hOut, G, relu) = dimensions(of: x)
    let reverse = cache.reverse

    // dGates for the input side [T, B, G] and (GRU only) the hidden side.
    let dGx = Tensor(uninitializedShape: [T, B, G])
    let dGh = kind == .gru ? Tensor(uninitializedShape: [T, B, G]) : dGx
    let dh = Tensor(uninitializedShape: [B, hOut])
    dh.storage.pointer.update(from: dhN, count: B * hOut)
    let dhTotal = Tensor(uninitializedShape: [B, hOut])
    let dc = kind == .lstm ? Tensor(uninitializedShape: [B, H]) : nil
    if let dc, let dcN { dc.storage.pointer.update(from: dcN, count: B * H) }
    let dHistory = projSize > 0 ? Tensor(uninitializedShape: [T, B, hOut]) : nil
    let dm = projSize > 0 ? Tensor(uninitializedShape: [B, H]) : nil
    let dcSaved = Tensor(uninitializedShape: [B, H])
    // ‖∂L/∂h_t‖² per step and row, summed over the rows afterwards (the same sum for any split)
    var rowSquares = [Double](repeating: 0, count: T * B)

    let packed = w.packedHHForBackward()
    let states = cache.states.storage.pointer
    let parts = recurrenceParts(batch: B)
    rowSquares.withUnsafeMutableBufferPointer { rowSquares in
      Kernels.forEachPart(parts) { part in
        // rows batchRows of every step (as in forwardDirection)
        let batchRows = DataShard(index: part, count: parts).range(of: B)
        let b0 = batchRows.lowerBound, rows = batchRows.count
        let tot = dhTotal.storage.pointer + b0 * hOut, dhp = dh.storage.pointer + b0 * hOut
        for s in 0..<T {
          let t = reverse ? s : T - 1 - s
          let masked = mask?.maskedRows(at: t, in: batchRows) ?? []
          // ∂L/∂h_t = from the output at t (unless past the length) + from step t+1.
          for b in batchRows {
            let src = dOutput + (t * B + b) * outputStride
            let isMasked = mask?.isMasked(t: t, b: b) ?? false
            var sq: Double = 0
            for j in 0..<hOut {
              let v = dhp[(b - b0) * hOut + j] + (isMasked ? 0 : src[j])
              tot[(b - b0) * hOut + j] = v
              sq += Double(v) * Double(v)
            }
            rowSquares[t * B + b] = sq
          }
          let gx = dGx.storage.pointer + t * B * G + b0 * G
          let gh = dGh.storage.pointer + t * B * G + b0 * G
          switch kind {
          case .lstm:
            var dmPtr = UnsafePointer(tot)
            if let dm, let dHistory {
              let history = dHistory.storage.pointer + t * B * hOut + b0 * hOut
              history.update(from: tot, count: rows * hOut)
              for b in masked { (history + (b - b0) * hOut).update(repeating: 0, count: hOut) }  // no projection ran there
              gemm(m: rows, n: H, k: hOut, a: tot, b: w.weightHR!.storage.pointer, c: dm.storage.pointer + b0 * H)
              dmPtr = UnsafePointer(dm.storage.pointer + b0 * H)
            }
            let dcp = dc!.storage.pointer + b0 * H, saved = dcSaved.storage.pointer + b0 * H
            for b in masked { (saved + (b - b0) * H).update(from: dcp + (b - b0) * H, count: H) }
            let cells = cache.cells!.storage.pointer
            recur_lstm_backward_step(Int32(rows), Int32(H), cache.gates.storage.pointer + t * B * G + b0 * G,
                                     cells + cache.previousSlot(t) * B * H + b0 * H,
                                     cache.tanhCells!.storage.pointer + t * B * H + b0 * H, dmPtr, dcp, gx)
            for b in masked { (dcp + (b - b0) * H).update(from: saved + (b - b0) * H, count: H) }
          case .gru:
            recur_gru_backward_step(Int32(rows), Int32(H), cache.gates.storage.pointer + t * B * G + b0 * G,
                                    cache.hiddenProjections!.storage.pointer + t * B * G + b0 * G,
                                    states + cache.previousSlot(t) * B * hOut + b0 * hOut, tot, gx, gh, dhp)
          case .rnnTanh, .rnnRelu:
            recur_rnn_backward_step(Int32(rows), Int32(H), states + cache.nextSlot(t) * B * hOut + b0 * hOut, tot, relu, gx)
          }
          for b in masked {
            (gx + (b - b0) * G).update(repeating: 0, count: G)
            if kind == .gru { (gh + (b - b0) * G).update(repeating: 0, count: G) }
          }
          // dh_{t-1} = dGates_t · W_hh (+ the direct path for GRU, + pass-through for masked rows).
          recur_sgemm_packed(Int32(rows), Int32(hOut), Int32(G), 1, gh, Int32(G), packed, kind == .gru ? 1 : 0, dhp, Int32(hOut))
          for b in masked { (dhp + (b - b0) * hOut).update(from: tot + (b - b0) * hOut, count: hOut) }
        }
      }
    }
    let norms = (0..<T).map { t in Float(rowSquares[t * B..<(t + 1) * B].reduce(0, +).squareRoot()) }

    // Weight gradients over all T·B rows at once.
    let rows = T * B
    let dWih = Tensor(uninitializedShape: w.weightIH.shape)
    gemm(transA: true, m: G, n: I, k: rows, a: dGx.storage.pointer, b: x.storage.pointer, c: dWih.storage.pointer)
    let dWhh = Tensor(uninitializedShape: w.weightHH.shape)
    gemm(transA: true, m: G, n: hOut, k: rows, a: dGh.storage.pointer,
         b: states + cache.previousStatesOffset * B * hOut, c: dWhh.storage.pointer)
    var params = [dWih, dWhh]
    if w.biasIH != nil {
      let dbih = Tensor(uninitializedShape: [G]), dbhh = Tensor(uninitializedShape: [G])
      recur_sum_rows(Int32(rows), Int32(G), dGx.storage.pointer, dbih.storage.pointer)
      if kind == .gru {
        recur_sum_rows(Int32(rows), Int32(G), dGh.storage.pointer, dbhh.storage.pointer)
      } else {
        dbhh.storage.pointer.update(from: dbih.storage.pointer, count: G)  // the same gate gradients
      }
      params += [dbih, dbhh]
    }
    if let dHistory, let m = cache.unprojected {
      let dWhr = Tensor(uninitializedShape: w.weightHR!.shape)
      gemm(transA: true, m: hOut, n: H, k: rows, a: dHistory.storage.pointer, b: m.storage.pointer, c: dWhr.storage.pointer)
      params.append(dWhr)
    }
    // dX = dGates · W_ih
    if let dx { gemm(m: rows, n: I, k: G, a: dGx.storage.pointer, b: w.weightIH.storage.pointer, c: dx, accumulate: accumulateDX) }
    return DirectionGradients(dh0: UnsafePointer(dh.storage.pointer), dc0: dc.map { UnsafePointer($0.storage.pointer) },
                              params: params, norms: norms, buffers: [dh] + (dc.map { [$0] } ?? []))
  }
}
