import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

@Suite struct LayerTests {
  // MARK: - Linear

  @Test func linearMatchesPyTorch() throws {
    let f = try loadFixture("foundation/layers")
    var rng = RandomGenerator(seed: 0)
    let layer = Linear(inputSize: 4, outputSize: 5, generator: &rng)
    try layer.loadStateDict(["weight": f.tensor("linear.weight"), "bias": f.tensor("linear.bias")])
    let x = try f.tensor("linear.x").requiringGrad()  // [2, 3, 4]: leading axes fold into rows
    let y = layer(x)
    expectScaledClose(y, try f.tensor("linear.y"), "output")
    try (y * f.tensor("linear.upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("linear.dx"), "d input")
    expectScaledClose(layer.weight.grad, try f.tensor("linear.dweight"), "d weight")
    expectScaledClose(layer.bias?.grad, try f.tensor("linear.dbias"), "d bias")
  }

  @Test func linearWithoutBiasMatchesPyTorch() throws {
    let f = try loadFixture("foundation/layers")
    var rng = RandomGenerator(seed: 0)
    let layer = Linear(inputSize: 3, outputSize: 2, bias: false, generator: &rng)
    #expect(layer.namedParameters().map(\.name) == ["weight"])
    try layer.loadStateDict(["weight": f.tensor("linear_nobias.weight")])
    expectScaledClose(layer(try f.tensor("linear_nobias.x")), try f.tensor("linear_nobias.y"), "output")
  }

  @Test func linearGradCheck() {
    var rng = RandomGenerator(seed: 2)
    let x = Tensor.normal([2, 3, 4], generator: &rng)
    let w = Tensor.normal([5, 4], generator: &rng), b = Tensor.normal([5], generator: &rng)
    let withBias = gradCheck(inputs: [x, w, b]) { t in t[0].linear(weight: t[1], bias: t[2]) }
    #expect(withBias.passed, "\(withBias)")
    let noBias = gradCheck(inputs: [x, w]) { t in t[0].linear(weight: t[1]) }
    #expect(noBias.passed, "\(noBias)")
    // Same as the composed ops.
    let composed = x.matmul(w.transposed()) + b
    #expect(closeness(x.linear(weight: w, bias: b), composed, rtol: 1e-5, atol: 1e-6).ok)
  }

  @Test func linearInitialisationIsPyTorchsUniformBound() {
    var rng = RandomGenerator(seed: 42)
    let layer = Linear(inputSize: 64, outputSize: 48, generator: &rng)
    #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(layer.weight.shape == [48, 64] && layer.bias?.shape == [48])
    let bound: Float = 1 / 8  // 1/√64
    let w = layer.weight.data.scalars, b = layer.bias!.data.scalars
    #expect(w.allSatisfy { Swift.abs($0) <= bound } && b.allSatisfy { Swift.abs($0) <= bound })
    // Uniform on [−bound, bound]: extremes near the bound, mean near 0, variance bound²/3.
    #expect(w.max()! > 0.95 * bound && w.min()! < -0.95 * bound)
    let mean = w.reduce(0, +) / Float(w.count)
    let variance = w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(w.count)
    #expect(Swift.abs(mean) < 0.04 * bound, "mean \(mean)")  // 3.8 standard errors
    #expect(Swift.abs(variance / (bound * bound / 3) - 1) < 0.1)
    // Reproducible under a seed.
    var again = RandomGenerator(seed: 42)
    #expect(Linear(inputSize: 64, outputSize: 48, generator: &again).weight.data == layer.weight.data)
  }

  @Test func linearStateDictRoundTrip() throws {
    var rng = RandomGenerator(seed: 9)
    let a = Linear(inputSize: 3, outputSize: 2, generator: &rng)
    let b = Linear(inputSize: 3, outputSize: 2, generator: &rng)
    #expect(a.weight.data != b.weight.data)
    try b.loadStateDict(Dictionary(uniqueKeysWithValues: a.stateDict().map { ($0.name, $0.tensor) }))
    #expect(a.weight.data == b.weight.data && a.bias!.data == b.bias!.data)
    #expect(throws: StateDictError.self) { try b.loadStateDict(["weight": .zeros([2, 3])]) }
  }

  // MARK: - Embedding

  @Test func embeddingMatchesPyTorch() throws {
    let f = try loadFixture("foundation/layers")
    var rng = RandomGenerator(seed: 0)
    let layer = Embedding(count: 10, dimension: 4, generator: &rng)
    #expect(layer.namedParameters().map(\.name) == ["weight"])
    try layer.loadStateDict(["weight": f.tensor("embedding.weight")])
    let y = layer(try f.indices("embedding.indices"), shape: [2, 3])
    expectScaledClose(y, try f.tensor("embedding.y"), "output")
    try (y * f.tensor("embedding.upstream")).sum().backward()
    expectScaledClose(layer.weight.grad, try f.tensor("embedding.dweight"), "d weight (repeated indices add up)")
  }

  @Test func embeddingInitialisationIsStandardNormal() {
    var rng = RandomGenerator(seed: 7)
    let layer = Embedding(count: 100, dimension: 50, generator: &rng)
    #expect(layer.weight.shape == [100, 50])
    let w = layer.weight.data.scalars.map(Double.init)
    let mean = w.reduce(0, +) / Double(w.count)
    let std = (w.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(w.count)).squareRoot()
    #expect(Swift.abs(mean) < 0.05 && Swift.abs(std - 1) < 0.05, "mean \(mean), std \(std)")
    #expect(w.contains { $0 > 3 } && w.contains { $0 < -3 }, "tails of a normal over 5000 draws")
  }

  @Test func embeddingGradCheck() {
    var rng = RandomGenerator(seed: 4)
    let table = Tensor.normal([6, 3], generator: &rng)
    let result = gradCheck(inputs: [table]) { t in t[0].gatherRows([5, 0, 5, 2], indexShape: [2, 2]) }
    #expect(result.passed, "\(result)")
  }

  // MARK: - Dropout

  @Test func dropoutIsReproducibleAndInverted() {
    let layer = Dropout(p: 0.25)
    let x = Tensor(repeating: 2, shape: [40, 50])
    var c1 = ForwardContext(training: true, seed: 123), c2 = ForwardContext(training: true, seed: 123)
    var c3 = ForwardContext(training: true, seed: 124)
    let a = layer(x, context: &c1), b = layer(x, context: &c2), c = layer(x, context: &c3)
    #expect(a == b, "same seed, same mask")
    #expect(a != c, "another seed, another mask")
    #expect(c1.generator == c2.generator, "the generator advances the same way")
    let values = a.scalars
    #expect(values.allSatisfy { $0 == 0 || $0 == Float(2) / 0.75 }, "survivors are scaled by 1/(1−p)")
    let dropped = Double(values.filter { $0 == 0 }.count) / Double(values.count)
    #expect(Swift.abs(dropped - 0.25) < 0.03, "dropped fraction \(dropped)")
  }

  @Test func dropoutBackwardUsesTheSameMask() {
    let x = Tensor.ones([8, 8]).requiringGrad()
    var context = ForwardContext(training: true, seed: 5)
    let y = Dropout(p: 0.5)(x, context: &context)
    y.sum().backward()
    #expect(x.grad == y.detached(), "with x = 1, ∂Σy/∂x equals y (the scaled mask)")
    var fixed = RandomGenerator(seed: 8)
    let result = gradCheck(inputs: [Tensor.normal([3, 4], generator: &fixed)]) { t in
      var r = RandomGenerator(seed: 99)  // the same mask on every evaluation
      return t[0].dropout(p: 0.3, generator: &r)
    }
    #expect(result.passed, "\(result)")
  }

  @Test func dropoutInEvaluationAndEdgeProbabilities() {
    let x = Tensor([1, -2, 3, 4])
    let layer = Dropout(p: 0.5)
    var evaluation = ForwardContext(training: false, seed: 1)
    let before = evaluation.generator
    #expect(layer(x, context: &evaluation) == x)
    #expect(evaluation.generator == before, "evaluation mode draws no random numbers")
    var inference = ForwardContext.inference
    #expect(layer(x, context: &inference) == x, "the inference context is the identity too")
    var training = ForwardContext(training: true, seed: 1)
    #expect(Dropout(p: 0)(x, context: &training) == x)
    #expect(Dropout(p: 1)(x, context: &training) == .zeros([4]))
    #expect(layer.namedParameters().isEmpty)
  }

  /// Dropout holds no random state: the mask comes only from the context, so the same module
  /// (or two modules) given contexts with the same seed produce the same bits, call after call.
  @Test func dropoutDrawsOnlyFromTheContext() {
    var g = RandomGenerator(seed: 2)
    let x = Tensor.normal([16, 16], generator: &g)
    let layer = Dropout(p: 0.4), other = Dropout(p: 0.4)
    var first = ForwardContext(training: true, seed: 77)
    let a = layer(x, context: &first)
    _ = layer(x, context: &first)  // using the layer in between changes nothing it holds
    var second = ForwardContext(training: true, seed: 77)
    let b = layer(x, context: &second)
    var third = ForwardContext(training: true, seed: 77)
    let c = other(x, context: &third)
    #expect(bits(a) == bits(b), "the same layer with the same context seed gives the same bits")
    #expect(bits(a) == bits(c), "another layer with the same context seed gives the same bits")
    #expect(a != x, "training mode drops something")
    // Continuing one context draws a new mask.
    var continuing = ForwardContext(training: true, seed: 77)
    let m1 = layer(x, context: &continuing), m2 = layer(x, context: &continuing)
    #expect(bits(m1) == bits(a) && bits(m2) != bits(m1), "a new mask on each draw from the stream")
  }

  // MARK: - LayerNorm

  @Test func layerNormMatchesPyTorch() throws {
    let f = try loadFixture("foundation/layers")
    let layer = LayerNorm(6)
    #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(layer.weight!.data == .ones([6]) && layer.bias!.data == .zeros([6]))
    try layer.loadStateDict(["weight": f.tensor("layernorm.weight"), "bias": f.tensor("layernorm.bias")])
    let x = try f.tensor("layernorm.x").requiringGrad()
    let y = layer(x)
    expectScaledClose(y, try f.tensor("layernorm.y"), "output")
    try (y * f.tensor("layernorm.upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("layernorm.dx"), "d input")
    expectScaledClose(layer.weight?.grad, try f.tensor("layernorm.dweight"), "d weight")
    expectScaledClose(layer.bias?.grad, try f.tensor("layernorm.dbias"), "d bias")
  }

  @Test func layerNormOverTwoAxesWithoutAffineMatchesPyTorch() throws {
    let f = try loadFixture("foundation/layers")
    let layer = LayerNorm(normalizedShape: [2, 3], eps: 1e-3, elementwiseAffine: false)
    #expect(layer.namedParameters().isEmpty)
    let x = try f.tensor("layernorm_plain.x").requiringGrad()
    let y = layer(x)
    expectScaledClose(y, try f.tensor("layernorm_plain.y"), "output")
    try (y * f.tensor("layernorm_plain.upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("layernorm_plain.dx"), "d input")
  }

  @Test func layerNormGradCheck() {
    var rng = RandomGenerator(seed: 6)
    let x = Tensor.normal([3, 5], std: 2, generator: &rng) + 1
    let w = Tensor.normal([5], generator: &rng), b = Tensor.normal([5], generator: &rng)
    let affine = gradCheck(inputs: [x, w, b]) { t in t[0].layerNorm(width: 5, eps: 1e-5, weight: t[1], bias: t[2]) }
    #expect(affine.passed, "\(affine)")
    let weightOnly = gradCheck(inputs: [x, w]) { t in t[0].layerNorm(width: 5, eps: 1e-5, weight: t[1], bias: nil) }
    #expect(weightOnly.passed, "\(weightOnly)")
    #expect(LayerNorm(5, bias: false).namedParameters().map(\.name) == ["weight"])
  }

  @Test func layerNormAndGELUKernelsMatchFloat64AndGiveTheSameBitsOnOneAndTwoThreads() {
    // 400 rows of 100 (vector bodies and scalar tails; on 2 threads the rows split in two and the
    // weight and bias gradients in column blocks of 64 and 36) and 40,000 GELU elements (10 chunks,
    // the last partial, split in two).
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var rng = RandomGenerator(seed: 31)
    let x = Tensor.normal([400, 100], std: 2, generator: &rng) + 0.5, upstream = Tensor.normal([400, 100], generator: &rng)
    let w = Tensor.normal([100], generator: &rng), b = Tensor.normal([100], generator: &rng)
    let u = Tensor.normal([40_000], std: 3, generator: &rng), gu = Tensor.normal([40_000], generator: &rng)
    var results: [[[Float]]] = []
    for threads in [1, 2] {
      Kernels.numThreads = threads
      let xs = x.requiringGrad(), ws = w.requiringGrad(), bs = b.requiringGrad(), us = u.requiringGrad()
      let y = xs.layerNorm(width: 100, eps: 1e-5, weight: ws, bias: bs), v = us.gelu(approximate: .tanh)
      ((y * upstream).sum() + (v * gu).sum()).backward()
      results.append([y.scalars, xs.grad!.scalars, ws.grad!.scalars, bs.grad!.scalars, v.scalars, us.grad!.scalars])
    }
    #expect(results[0] == results[1], "1 and 2 threads differ")
    // Float64 references (the normalised rows and their backward, GELU's tanh form and its
    // derivative), compared relative to max(1, |reference|); dw relative to the sum of |terms|.
    var worst = 0.0
    func check(_ got: Float, _ want: Double, scale: Double = 0) { worst = max(worst, abs(Double(got) - want) / max(1, abs(want), scale)) }
    var dw = [Double](repeating: 0, count: 100), dwScale = [Double](repeating: 0, count: 100)
    for r in 0..<400 {
      let row = (0..<100).map { Double(x[r, $0]) }
      let mean = row.reduce(0, +) / 100, rstd = 1 / ((row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 100) + 1e-5).squareRoot()
      let xhat = row.map { ($0 - mean) * rstd }, dxhat = (0..<100).map { Double(upstream[r, $0]) * Double(w[$0]) }
      let a = dxhat.reduce(0, +) / 100, c = zip(dxhat, xhat).map(*).reduce(0, +) / 100
      for j in 0..<100 {
        check(results[0][0][r * 100 + j], xhat[j] * Double(w[j]) + Double(b[j]))
        check(results[0][1][r * 100 + j], rstd * (dxhat[j] - a - xhat[j] * c))
        dw[j] += Double(upstream[r, j]) * xhat[j]
        dwScale[j] += abs(Double(upstream[r, j]) * xhat[j])
      }
    }
    for j in 0..<100 { check(results[0][2][j], dw[j], scale: dwScale[j]) }
    for i in 0..<40_000 {
      let t = Double(u[i]), th = Foundation.tanh(0.7978845608028654 * (t + 0.044715 * t * t * t))
      check(results[0][4][i], 0.5 * t * (1 + th))
      check(results[0][5][i], Double(gu[i]) * (0.5 * (1 + th) + 0.5 * t * (1 - th * th) * 0.7978845608028654 * (1 + 3 * 0.044715 * t * t)))
    }
    #expect(worst < 1e-5, "largest difference from float64 \(worst)")
  }

  @Test func layerNormNormalises() {
    let y = LayerNorm(4, eps: 0)(Tensor(shape: [2, 4], scalars: [1, 2, 3, 4, 10, 10, 10, 14]))
    for r in 0..<2 {
      let row = (0..<4).map { y[r, $0] }
      let mean = row.reduce(0, +) / 4
      let variance = row.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 4
      #expect(Swift.abs(mean) < 1e-6 && Swift.abs(variance - 1) < 1e-5)
    }
  }
}
