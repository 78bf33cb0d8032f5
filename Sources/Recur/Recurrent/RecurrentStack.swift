import CRecurKernels

/// The engine behind `RNN`, `LSTM`, `GRU` and the cells: a stack of layers × directions run as one
/// node of the autodiff tape.
///
/// Forward per layer and direction: one GEMM for the input projection of all T steps, then per step
/// one GEMM with the packed recurrent weight and one fused pointwise kernel. Backward per step: a
/// fused pointwise kernel and one GEMM for dh; after the loop one GEMM each for dW_ih, dW_hh (and
/// dW_hr) over all T·B rows, and one for dX (none for the first layer when the input takes no
/// gradient). The per-step loops run the batch rows in parts, one per thread, each from the first
/// step to the last (`recurrenceParts(batch:)`); an LSTM's forward at small batch splits each step
/// by hidden units instead (`hiddenUnitBounds(batch:)`).
final class RecurrentStack {
  let kind: RecurrentCellKind
  let inputSize, hiddenSize, numLayers, numDirections, projSize: Int
  let dropout: Float
  /// weights[layer * numDirections + direction]
  let weights: [RecurrentWeights]
  let gradientFlow = GradientFlow()

  var outputSize: Int { projSize > 0 ? projSize : hiddenSize }
  var gates: Int { kind.gateCount * hiddenSize }

  init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int, numDirections: Int,
       projSize: Int, dropout: Float, weights: [RecurrentWeights]) {
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.numDirections = numDirections
    self.projSize = projSize
    self.dropout = dropout
    self.weights = weights
  }

  /// The sizes of one layer and direction's work on `x` [T, B, I]: steps, batch, input width,
  /// hidden width, state width, gate width, and the kernels' ReLU flag.
  func dimensions(of x: Tensor) -> (T: Int, B: Int, I: Int, H: Int, hOut: Int, G: Int, relu: Int32) {
    (x.shape[0], x.shape[1], x.shape[2], hiddenSize, outputSize, gates, kind == .rnnRelu ? 1 : 0)
  }

  /// How many parts the batch rows of one layer and direction's recurrence are split into, each
  /// run start to end on its own thread: rows never mix in a recurrence, so the parts need no
  /// synchronisation at all, where splitting each step's GEMM and pointwise kernel across the
  /// threads costs two hand-offs per step. One part per thread, of at least 8 rows (a GEMM
  /// micro-tile of A); below 16 rows the steps' kernels split their own work instead. Every
  /// element is computed the same way whatever the split (the GEMM's sums run in one order).
  func recurrenceParts(batch B: Int) -> Int { max(1, min(Kernels.numThreads, B / 8)) }

  /// Where an LSTM's recurrence is split by hidden units instead (recur_lstm_forward_sequence):
  /// the unit boundaries of one part per thread, each a multiple of 16 units (a vector of the
  /// cell kernel) but the last. Only where the batch split leaves threads idle (fewer than 8 rows
  /// per thread, as in generation) and a step's GEMM has at least 1 MFLOP: each part then runs
  /// the GEMM of its units' gate columns over all B rows, its slice of W_hh staying in its core's
  /// cache, and the parts meet once per step (h_prev is read whole), where one part per step costs
  /// a GEMM dispatch and a pointwise dispatch. nil for one thread, fewer than 32 units or a
  /// projection. (With enough rows per thread the batch split measured as fast or faster on the
  /// loaded 2-core machine: its parts never wait for each other.)
  func hiddenUnitBounds(batch B: Int) -> [Int32]? {
    let parts = min(Kernels.numThreads, hiddenSize / 16)
    guard kind == .lstm, projSize == 0, parts > 1, recurrenceParts(batch: B) < parts,
          8 * Double(B) * Double(hiddenSize) * Double(hiddenSize) >= 1e6 else { return nil }
    return (0...parts).map { p in Int32(p == parts ? hiddenSize : (p * hiddenSize / parts + 8) / 16 * 16) }
  }

  /// Input width of layer `l`.
  func layerInputSize(_ l: Int) -> Int { l == 0 ? inputSize : numDirections * outputSize }

  /// Runs the stack on time-major `x` [T, B, I] with initial states h0 [L·D, B, H_out] and (LSTM)
  /// c0 [L·D, B, H]. Returns output [T, B, D·H_out], h_n, c_n as one tape node.
  /// `lengths` (validated by the caller) masks steps t ≥ lengths[b].
  func run(x: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?, training: Bool,
           generator: inout RandomGenerator) -> (output: Tensor, h: Tensor, c: Tensor?) {
    let T = x.shape[0], B = x.shape[1]
    let L = numLayers, D = numDirections, hOut = outputSize, H = hiddenSize
    let h0v = h0 ?? Tensor.zeros([L * D, B, hOut])
    let c0v = kind == .lstm ? (c0 ?? Tensor.zeros([L * D, B, H])) : nil
    let masks = lengths.map { StepMask(lengths: $0, steps: T) }

    var caches: [DirectionCache] = []
    var layerInputs: [Tensor] = []
    var dropoutMasks: [Tensor?] = []
    var layerInput = x
    var hN = Tensor(uninitializedShape: [L * D, B, hOut])
    var cN = kind == .lstm ? Tensor(uninitializedShape: [L * D, B, H]) : nil
    var output = x  // each layer's output in turn (numLayers ≥ 1)
    for l in 0..<L {
      // not zero-filled: every direction writes its columns of every step and row (zeros past a length)
      output = Tensor(uninitializedShape: [T, B, D * hOut])
      layerInputs.append(layerInput)
      for d in 0..<D {
        let i = l * D + d
        let cache = forwardDirection(
          weights: weights[i], x: layerInput, reverse: d == 1, mask: masks,
          h0: h0v.storage.pointer + i * B * hOut, c0: c0v.map { $0.storage.pointer + i * B * H },
          output: output.storage.pointer + d * hOut, outputStride: D * hOut)
        (hN.storage.pointer + i * B * hOut).update(from: cache.finalState, count: B * hOut)
        if let cN, let fc = cache.finalCell { (cN.storage.pointer + i * B * H).update(from: fc, count: B * H) }
        caches.append(cache)
      }
      if l < L - 1 && training && dropout > 0 {
        let keep = 1 - dropout
        var m = Tensor(uninitializedShape: output.shape)
        m.withUnsafeMutableBufferPointer { mb in
          for j in mb.indices { mb[j] = generator.nextUniform() < keep ? 1 / keep : 0 }
        }
        dropoutMasks.append(m)
        layerInput = Tensor.broadcastMap(output, m, "dropout", *)
      } else {
        dropoutMasks.append(nil)
        layerInput = output
      }
    }

    var inputs = [x, h0v]
    if let c0v { inputs.append(c0v) }
    let params = weights.flatMap(\.parameters)
    inputs += params.map(\.value)
    // Nothing to record (inference): the tensors as they are, without the copies below.
    guard GradientRecording.enabled, inputs.contains(where: \.requiresGrad) else { return (output, hN, cN) }

    // One flat result tensor so that output, h_n and c_n share one tape node.
    let sizes = [output.count, hN.count, cN?.count ?? 0]
    var flat = Tensor(uninitializedShape: [sizes.reduce(0, +)])
    let fp = flat.storage.pointer
    fp.update(from: output.storage.pointer, count: sizes[0])
    (fp + sizes[0]).update(from: hN.storage.pointer, count: sizes[1])
    if let cN { (fp + sizes[0] + sizes[1]).update(from: cN.storage.pointer, count: sizes[2]) }
    let hasC = c0v != nil, inputGradient = x.requiresGrad
    flat = Tensor.record(flat, op: "\(kind.rawValue)Stack", inputs: inputs) { [self] g in
      let gp = g.storage.pointer
      let grads = backward(
        dOutput: gp, dhN: gp + sizes[0], dcN: hasC ? gp + sizes[0] + sizes[1] : nil,
        caches: caches, layerInputs: layerInputs, dropoutMasks: dropoutMasks, masks: masks, T: T, B: B,
        inputGradient: inputGradient)
      var result: [Tensor?] = [grads.dx, grads.dh0]
      if hasC { result.append(grads.dc0) }
      result += grads.params
      return result
    }
    let out = flat.segment(offset: 0, shape: [T, B, D * hOut])
    let h = flat.segment(offset: sizes[0], shape: [L * D, B, hOut])
    let c = hasC ? flat.segment(offset: sizes[0] + sizes[1], shape: [L * D, B, H]) : nil
    return (out, h, c)
  }
}

/// Which (step, batch row) pairs lie past a sequence's length.
struct StepMask {
  let lengths: [Int]
  let steps: Int
  /// Rows masked at step t (t ≥ length).
  func maskedRows(at t: Int) -> [Int] { maskedRows(at: t, in: lengths.indices) }
  /// Rows among `rows` masked at step t.
  func maskedRows(at t: Int, in rows: Range<Int>) -> [Int] { rows.filter { t >= lengths[$0] } }
  func isMasked(t: Int, b: Int) -> Bool { t >= lengths[b] }
}

/// What the forward pass of one layer and direction keeps for backward.
final class DirectionCache {
  let reverse: Bool
  /// Gate activations per step [T, B, G] (LSTM i|f|g|o, GRU r|z|n; unused by RNN).
  var gates: Tensor
  /// Hidden states [T+1, B, H_out]: slot t is the state before step t going forward, slot t+1 the
  /// state after it (mirrored for the reverse direction: slot t+1 before, slot t after).
  var states: Tensor
  /// LSTM cell states [T+1, B, H], same slot convention; tanh(c_t) [T, B, H].
  var cells: Tensor?
  var tanhCells: Tensor?
  /// LSTM with projection: o⊙tanh(c) before projection [T, B, H].
  var unprojected: Tensor?
  /// GRU: W_hh h + b_hh per step [T, B, 3H].
  var hiddenProjections: Tensor?

  init(reverse: Bool, gates: Tensor, states: Tensor) {
    self.reverse = reverse
    self.gates = gates
    self.states = states
  }

  var steps: Int { gates.shape[0] }
  /// Slot holding the state before step t.
  func previousSlot(_ t: Int) -> Int { reverse ? t + 1 : t }
  /// Slot holding the state after step t.
  func nextSlot(_ t: Int) -> Int { reverse ? t : t + 1 }
  /// Start of the states-before-each-step block [T, B, H_out], in time order.
  var previousStatesOffset: Int { reverse ? 1 : 0 }
  var finalState: UnsafePointer<Float> {
    let rowSize = states.count / (steps + 1)
    return UnsafePointer(states.storage.pointer + (reverse ? 0 : steps) * rowSize)
  }
  var finalCell: UnsafePointer<Float>? {
    guard let cells else { return nil }
    let rowSize = cells.count / (steps + 1)
    return UnsafePointer(cells.storage.pointer + (reverse ? 0 : steps) * rowSize)
  }
}

extension Tensor {
  /// A copy of `shape.product` elements starting at flat `offset`; its gradient lands in that
  /// range of the source (the other elements get zero).
  func segment(offset: Int, shape newShape: [Int]) -> Tensor {
    let n = newShape.reduce(1, *)
    precondition(offset >= 0 && offset + n <= count, "segment out of range")
    var out = Tensor(uninitializedShape: newShape)
    out.withUnsafeMutableBufferPointer { $0.baseAddress!.update(from: storage.pointer + offset, count: n) }
    let sourceShape = shape
    return Tensor.record(out, op: "segment", inputs: [self]) { g in
      var d = Tensor.zeros(sourceShape)
      d.withUnsafeMutableBufferPointer { ($0.baseAddress! + offset).update(from: g.storage.pointer, count: n) }
      return [d]
    }
  }
}
