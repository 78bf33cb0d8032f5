import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

@Suite struct RecurrentBehaviourTests {
  // MARK: - Shapes and semantics

  @Test func bidirectionalFinalStateMatchesOutputEnds() throws {
    var g = RandomGenerator(seed: 1)
    let lstm = LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, bidirectional: true, seed: 2)
    let x = Tensor.normal([5, 2, 3], generator: &g)
    let (out, state) = try lstm(x)
    #expect(out.shape == [5, 2, 8])
    #expect(state.h.shape == [4, 2, 4] && state.c?.shape == [4, 2, 4])
    // Last layer: forward half at t = T-1 is h_n[-2]; reverse half at t = 0 is h_n[-1].
    let forwardEnd = out[row: 4].scalars.enumerated().filter { $0.offset % 8 < 4 }.map(\.element)
    let reverseStart = out[row: 0].scalars.enumerated().filter { $0.offset % 8 >= 4 }.map(\.element)
    #expect(forwardEnd == state.h[row: 2].scalars)
    #expect(reverseStart == state.h[row: 3].scalars)
  }

  @Test func unbatchedInputMatchesBatchOfOne() throws {
    var g = RandomGenerator(seed: 3)
    let gru = GRU(inputSize: 3, hiddenSize: 5, numLayers: 2, seed: 4)
    let x = Tensor.normal([6, 3], generator: &g)
    let h0 = Tensor.normal([2, 5], generator: &g)
    let (o1, s1) = try gru(x, RecurrentState(h: h0))
    let (o2, s2) = try gru(x.unsqueezed(1), RecurrentState(h: h0.unsqueezed(1)))
    #expect(o1.shape == [6, 5] && s1.h.shape == [2, 5])
    #expect(o1.scalars == o2.scalars && s1.h.scalars == s2.h.scalars)
    #expect(s1.c == nil && s2.c == nil)
  }

  @Test func batchFirstEqualsTimeMajor() throws {
    var g = RandomGenerator(seed: 5)
    let a = LSTM(inputSize: 3, hiddenSize: 4, batchFirst: true, seed: 9)
    let b = LSTM(inputSize: 3, hiddenSize: 4, seed: 9)
    let x = Tensor.normal([2, 5, 3], generator: &g)
    let (oa, sa) = try a(x)
    let (ob, sb) = try b(x.transposed(0, 1))
    #expect(oa.scalars == ob.transposed(0, 1).scalars)
    #expect(sa.h.scalars == sb.h.scalars)
  }

  @Test func sameBitsOnOneAndTwoThreads() throws {
    // On 2 threads the batch rows of each recurrence run as 2 parts (here 20 + 21 rows, some
    // past their length); every output, state and gradient must be the 1-thread value, bit for bit.
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var g = RandomGenerator(seed: 21)
    let x = Tensor.normal([9, 41, 6], generator: &g)
    let lengths = (0..<41).map { 1 + $0 % 9 }
    let layers: [RecurrentLayer] = [
      LSTM(inputSize: 6, hiddenSize: 20, numLayers: 2, bidirectional: true, seed: 3),
      LSTM(inputSize: 6, hiddenSize: 20, projSize: 7, seed: 4),
      GRU(inputSize: 6, hiddenSize: 20, numLayers: 2, seed: 5),
      RNN(inputSize: 6, hiddenSize: 20, nonlinearity: .relu, bidirectional: true, seed: 6),
    ]
    for layer in layers {
      var results: [[[Float]]] = []
      for threads in [1, 2] {
        Kernels.numThreads = threads
        layer.zeroGrad()
        let (out, state) = try layer(x, nil, lengths: lengths)
        ((out * out).sum() + state.h.sum() + (state.c?.sum() ?? Tensor(scalar: 0))).backward()
        results.append([out.scalars, state.h.scalars, state.c?.scalars ?? []] + layer.parameters.map { $0.grad?.scalars ?? [] })
      }
      #expect(results[0] == results[1], "\(type(of: layer)): 1 and 2 threads differ")
      #expect(results[0].count > 3 && results[0][3...].allSatisfy { !$0.isEmpty })
    }
  }

  @Test func unitSplitGivesTheSameBitsAsOneThread() throws {
    // 3 rows are too few for the batch split: on 2 threads each step of this LSTM is split by
    // hidden units (128 + 136, a partial vector at the end), with rows past their length.
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var g = RandomGenerator(seed: 22)
    let x = Tensor.normal([9, 3, 6], generator: &g)
    let lstm = LSTM(inputSize: 6, hiddenSize: 264, numLayers: 2, bidirectional: true, seed: 8)
    var results: [[[Float]]] = []
    for threads in [1, 2] {
      Kernels.numThreads = threads
      lstm.zeroGrad()
      let (out, state) = try lstm(x, nil, lengths: [9, 4, 1])
      ((out * out).sum() + state.h.sum() + state.c!.sum()).backward()
      results.append([out.scalars, state.h.scalars, state.c!.scalars] + lstm.parameters.map { $0.grad?.scalars ?? [] })
    }
    #expect(results[0] == results[1], "1 and 2 threads differ")
    #expect(results[0][0].contains { $0 != 0 })
  }

  @Test func truncatedBPTTCarriesDetachedState() throws {
    var g = RandomGenerator(seed: 6)
    let lstm = LSTM(inputSize: 2, hiddenSize: 3, seed: 1)
    let x = Tensor.normal([8, 2, 2], generator: &g)
    let (whole, wholeState) = try lstm(x)
    let (first, s1) = try lstm(x.slice(0..<4))
    let (second, s2) = try lstm(x.slice(4..<8), s1.detached())
    #expect(Tensor.concatenate([first, second]).scalars == whole.scalars)
    #expect(s2.h.scalars == wholeState.h.scalars)
    // The second window's gradient stops at the carried state.
    second.sum().backward()
    #expect(s1.h.requiresGrad && !s1.detached().h.requiresGrad && s1.detached().c?.requiresGrad == false)
    #expect(lstm.weightIH(layer: 0).grad != nil)
  }

  @Test func mediumMatmulPrecisionStaysCloseAndSwitchesBack() throws {
    var g = RandomGenerator(seed: 11)
    let lstm = LSTM(inputSize: 16, hiddenSize: 64, numLayers: 2, seed: 12)
    let x = Tensor.normal([20, 8, 16], generator: &g)
    func run(_ precision: Kernels.MatmulPrecision) throws -> (output: [Float], grads: [[Float]]) {
      try Kernels.withMatmulPrecision(precision) {
        lstm.parameters.forEach { $0.zeroGrad() }
        let (out, state) = try lstm(x)
        (out.sum() + (try #require(state.c)).sum()).backward()
        return (out.scalars, lstm.parameters.map { $0.grad!.scalars })
      }
    }
    let exact = try run(.highest)
    let medium = try run(.medium)
    let again = try run(.highest)
    // the packed W_hh follows the precision both ways
    #expect(again.output == exact.output && again.grads == exact.grads)
    func relativeError(_ a: [Float], _ b: [Float]) -> Double {
      let d = zip(a, b).map { Double($0 - $1) * Double($0 - $1) }.reduce(0, +)
      return (d / max(1e-30, b.map { Double($0) * Double($0) }.reduce(0, +))).squareRoot()
    }
    if Kernels.bfloat16Available {
      // bfloat16 operands carry 8 significant bits: ~0.4 % per operand, averaged over sums
      let outputError = relativeError(medium.output, exact.output)
      #expect(outputError > 0 && outputError < 1e-2, "output relative error \(outputError)")
      for (i, (m, e)) in zip(medium.grads, exact.grads).enumerated() {
        let error = relativeError(m, e)
        #expect(error > 0 && error < 2e-2, "gradient of \(lstm.parameters[i].shape): relative error \(error)")
      }
    } else {
      #expect(medium.output == exact.output && medium.grads == exact.grads, "medium is float32 without AVX512_BF16")
    }
  }

  @Test func dropoutIsReproducibleAndOnlyInTraining() throws {
    var g = RandomGenerator(seed: 7)
    let x = Tensor.normal([4, 2, 3], generator: &g)
    let a = GRU(inputSize: 3, hiddenSize: 6, numLayers: 3, dropout: 0.5, seed: 42)
    let b = GRU(inputSize: 3, hiddenSize: 6, numLayers: 3, dropout: 0.5, seed: 42)
    var ca = ForwardContext(training: true, seed: 5), cb = ForwardContext(training: true, seed: 5)
    let (oa, _) = try a(x, state: nil, lengths: nil, context: &ca)
    let (ob, _) = try b(x, state: nil, lengths: nil, context: &cb)
    #expect(oa.scalars == ob.scalars)
    #expect(ca.generator == cb.generator, "both layers drew the same masks from their contexts")
    let (oa2, _) = try a(x, state: nil, lengths: nil, context: &ca)
    #expect(oa2.scalars != oa.scalars, "a new mask on every call that continues the context")
    let noDrop = GRU(inputSize: 3, hiddenSize: 6, numLayers: 3, seed: 42)
    var evaluation = ForwardContext(training: false, seed: 5)
    let before = evaluation.generator
    let (e1, _) = try a(x, state: nil, lengths: nil, context: &evaluation), (e2, _) = try noDrop(x)
    #expect(e1.scalars == e2.scalars, "eval mode applies no dropout")
    #expect(evaluation.generator == before, "eval mode draws nothing")
    let (e3, _) = try a(x)
    #expect(e3.scalars == e2.scalars, "the convenience call runs in eval mode")
  }

  /// A layer holds no random state: called twice with contexts of the same seed it gives the same
  /// bits (outputs and final state), however it was used in between.
  @Test func layerDropoutDrawsOnlyFromTheContext() throws {
    var g = RandomGenerator(seed: 8)
    let x = Tensor.normal([5, 3, 4], generator: &g)
    for kind in [RecurrentCellKind.lstm, .gru, .rnnTanh] {
      let layer = RecurrentLayer.make(kind, inputSize: 4, hiddenSize: 6, numLayers: 2, dropout: 0.3, seed: 3)
      var c1 = ForwardContext(training: true, seed: 99)
      let (o1, s1) = try layer(x, state: nil, lengths: nil, context: &c1)
      var other = ForwardContext(training: true, seed: 1234)
      _ = try layer(x, state: nil, lengths: nil, context: &other)
      var c2 = ForwardContext(training: true, seed: 99)
      let (o2, s2) = try layer(x, state: nil, lengths: nil, context: &c2)
      #expect(bits(o1) == bits(o2) && bits(s1.h) == bits(s2.h), "\(kind): same seed, same bits")
      #expect(s1.c.map(bits) == s2.c.map(bits))
      let (eval, _) = try layer(x)
      #expect(bits(o1) != bits(eval), "\(kind): training applies dropout between layers")
    }
  }

  /// `RecurrentState` carries `c` for the LSTM only; GRU and RNN states have `c == nil`, and a
  /// cell state given to them is an error.
  @Test func recurrentStateHasACellStateOnlyForLSTM() throws {
    var g = RandomGenerator(seed: 9)
    let x = Tensor.normal([4, 2, 3], generator: &g)
    for kind in [RecurrentCellKind.gru, .rnnTanh, .rnnRelu] {
      let layer = RecurrentLayer.make(kind, inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, seed: 1)
      let (out, state) = try layer(x)
      #expect(out.shape == [4, 2, 10] && layer.outputSize == 10 && layer.stateSize == 5)
      #expect(state.h.shape == [4, 2, 5] && state.c == nil, "\(kind)")
      #expect(state.tensors.count == 1 && state.detached().c == nil)
      let zero = layer.zeroState(batchSize: 2)
      #expect(zero.h.shape == [4, 2, 5] && zero.c == nil)
      #expect(try layer(x, zero).output.scalars == out.scalars, "nil state means zeros")
      #expect(throws: RecurrentError("\(kind == .gru ? "GRU" : "RNN"): a cell state was given, but only LSTM has one")) {
        try layer(x, RecurrentState(h: zero.h, c: .zeros([4, 2, 5])))
      }
    }
    let lstm = LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 1)
    let (out, state) = try lstm(x)
    #expect(out.shape == [4, 2, 4] && lstm.outputSize == 4 && lstm.stateSize == 2)
    let c = try #require(state.c, "the LSTM returns a cell state")
    #expect(state.h.shape == [4, 2, 2] && c.shape == [4, 2, 5])
    #expect(state.tensors.map(\.shape) == [[4, 2, 2], [4, 2, 5]])
    let zero = lstm.zeroState(batchSize: 2)
    #expect(zero.h.shape == [4, 2, 2] && zero.c?.shape == [4, 2, 5])
    #expect(try lstm(x, zero).output.scalars == out.scalars, "nil state means zeros")
    #expect(throws: RecurrentError.self, "an LSTM state needs its cell state to match") {
      try lstm(x, RecurrentState(h: zero.h, c: .zeros([4, 2, 2])))
    }
  }

  @Test func stateDictRoundTrip() throws {
    let a = LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 1)
    let b = LSTM(inputSize: 3, hiddenSize: 5, numLayers: 2, bidirectional: true, projSize: 2, seed: 2)
    #expect(a.stateDict().map(\.name) == [
      "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_hr_l0",
      "weight_ih_l0_reverse", "weight_hh_l0_reverse", "bias_ih_l0_reverse", "bias_hh_l0_reverse", "weight_hr_l0_reverse",
      "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "weight_hr_l1",
      "weight_ih_l1_reverse", "weight_hh_l1_reverse", "bias_ih_l1_reverse", "bias_hh_l1_reverse", "weight_hr_l1_reverse",
    ])
    #expect(a.weightIH(layer: 1).shape == [20, 4] && a.weightHH(layer: 0).shape == [20, 2] && a.weightHR(layer: 0)!.shape == [2, 5])
    try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) }))
    var g = RandomGenerator(seed: 1)
    let x = Tensor.normal([3, 2, 3], generator: &g)
    #expect(try a(x).output.scalars == b(x).output.scalars)
  }

  @Test func initialisationFollowsPyTorch() {
    let gru = GRU(inputSize: 10, hiddenSize: 25, seed: 3)
    let bound = 1 / Float(25).squareRoot()
    for (_, p) in gru.namedParameters() {
      let v = p.data.scalars
      #expect(v.allSatisfy { abs($0) <= bound })
      #expect(v.max()! > 0.8 * bound && v.min()! < -0.8 * bound, "spread over U(-1/√H, 1/√H)")
    }
  }

  // MARK: - Initialisation helpers

  @Test func orthogonalInitialisationIsOrthogonalPerGate() {
    let lstm = LSTM(inputSize: 3, hiddenSize: 6, seed: 1)
    lstm.initializeRecurrentWeightsOrthogonally(seed: 5)
    let w = lstm.weightHH(layer: 0).data  // [24, 6]
    for block in 0..<4 {
      let q = w.slice((block * 6)..<(block * 6 + 6))
      let qqt = q.matmul(q.transposed())
      #expect(closeness(qqt, Tensor(shape: [6, 6], scalars: (0..<36).map { $0 % 7 == 0 ? 1 : 0 }), atol: 1e-5).ok)
    }
    var generator = RandomGenerator(seed: 6)
    let rect = orthogonalMatrix(rows: 3, cols: 5, generator: &generator)
    let m = Tensor(shape: [3, 5], scalars: rect)
    #expect(closeness(m.matmul(m.transposed()), Tensor(shape: [3, 3], scalars: [1, 0, 0, 0, 1, 0, 0, 0, 1]), atol: 1e-5).ok)
  }

  @Test func forgetGateBias() {
    let lstm = LSTM(inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 1)
    lstm.initializeForgetGateBias(1)
    for l in 0..<2 {
      let bih = lstm.biasIH(layer: l)!.data.scalars, bhh = lstm.biasHH(layer: l)!.data.scalars
      for j in 4..<8 { #expect(bih[j] + bhh[j] == 1) }
    }
  }

  // MARK: - Gradient flow

  /// A tanh RNN with small recurrent weights forgets: ‖∂L/∂h_t‖ falls geometrically going back
  /// from the step the loss reads; an LSTM with forget-gate bias 1 keeps it far larger.
  @Test func gradientNormsShowVanishingGradients() throws {
    let T = 30, B = 4, I = 3, H = 16
    var g = RandomGenerator(seed: 2)
    let x = Tensor.normal([T, B, I], generator: &g)
    let lossWeights = Tensor.normal([B, H], generator: &g)

    let rnn = RNN(inputSize: I, hiddenSize: H, seed: 1)
    rnn.weightHH(layer: 0).assign(rnn.weightHH(layer: 0).data * 0.3)
    let (ro, _) = try rnn(x)
    (ro[row: T - 1] * lossWeights).sum().backward()
    let rn = rnn.gradientFlow.norms(layer: 0)
    #expect(rn.count == T)
    // Geometric decay: every 5 steps back the norm shrinks by a roughly constant factor < 0.5.
    let ratios = stride(from: T - 1, to: 5, by: -5).map { rn[$0 - 5] / rn[$0] }
    #expect(ratios.allSatisfy { $0 < 0.5 }, "ratios \(ratios)")
    #expect(rn[0] < 1e-4 * rn[T - 1], "after 30 steps the gradient has vanished: \(rn[0]) vs \(rn[T - 1])")

    let lstm = LSTM(inputSize: I, hiddenSize: H, seed: 1)
    lstm.initializeForgetGateBias(1)
    let (lo, _) = try lstm(x)
    (lo[row: T - 1] * lossWeights).sum().backward()
    let ln = lstm.gradientFlow.norms(layer: 0)
    #expect(ln[0] / ln[T - 1] > 1000 * (rn[0] / rn[T - 1]), "LSTM keeps the gradient: \(ln[0] / ln[T - 1]) vs RNN \(rn[0] / rn[T - 1])")
  }

  // MARK: - Bad input

  @Test func wrongShapesAreReportedWithBothShapes() throws {
    let lstm = LSTM(inputSize: 3, hiddenSize: 20, numLayers: 2)
    let x = Tensor.zeros([5, 3, 3])
    #expect(throws: RecurrentError("input.size(-1) must be equal to input_size. Expected 3, got 4")) {
      try lstm(Tensor.zeros([5, 3, 4]))
    }
    #expect(throws: RecurrentError("Expected hidden size (2, 3, 20), got [2, 5, 20]")) {
      try lstm(x, RecurrentState(h: Tensor.zeros([2, 5, 20]), c: Tensor.zeros([2, 3, 20])))
    }
    #expect(throws: RecurrentError("Expected cell size (2, 3, 20), got [1, 3, 20]")) {
      try lstm(x, RecurrentState(h: Tensor.zeros([2, 3, 20]), c: Tensor.zeros([1, 3, 20])))
    }
    #expect(throws: RecurrentError.self) { try lstm(Tensor.zeros([5])) }
    #expect(throws: RecurrentError("Expected 3 sequence lengths (one per batch element), got 2")) {
      try lstm(x, lengths: [5, 4])
    }
    #expect(throws: RecurrentError("Sequence length 6 is out of range: lengths must be between 1 and the padded length 5")) {
      try lstm(x, lengths: [5, 6, 1])
    }
    #expect(throws: RecurrentError.self) { try lstm(x, lengths: [5, 0, 1]) }
    var nan = Tensor.zeros([5, 3, 3])
    nan[0, 0, 0] = .nan
    #expect(throws: RecurrentError.self) { try lstm(nan) }
    let cell = GRUCell(inputSize: 3, hiddenSize: 4)
    #expect(throws: RecurrentError("Expected hidden size (2, 4), got [2, 5]")) {
      try cell(Tensor.zeros([2, 3]), Tensor.zeros([2, 5]))
    }
  }
}
