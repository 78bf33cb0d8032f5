import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

/// Records an issue unless the tape gradient of `f` agrees with central differences.
private func expectGradients(_ inputs: [Tensor], _ label: String, sourceLocation: SourceLocation = #_sourceLocation,
                             _ f: @escaping ([Tensor]) -> Tensor) {
  let result = gradCheck(inputs: inputs, f)
  #expect(result.passed, "\(label): \(result)", sourceLocation: sourceLocation)
}

/// A tensor of `shape` with N(0, 1) entries from a fixed seed.
private func randn(_ shape: [Int], seed: UInt64, std: Float = 1) -> Tensor {
  var rng = RandomGenerator(seed: seed)
  return Tensor.normal(shape, std: std, generator: &rng)
}

/// A tensor of `shape` with entries in ±[0.3, 1.5): away from the kinks of relu/abs and from 0.
private func awayFromZero(_ shape: [Int], seed: UInt64) -> Tensor {
  var rng = RandomGenerator(seed: seed)
  let scalars = (0..<shape.reduce(1, *)).map { _ -> Float in
    let magnitude = 0.3 + 1.2 * rng.nextUniform()
    return rng.nextUniform() < 0.5 ? -magnitude : magnitude
  }
  return Tensor(shape: shape, scalars: scalars)
}

/// Distinct values (spacing 0.5, shuffled) so that max has no near-ties under perturbation.
private func distinct(_ shape: [Int], seed: UInt64) -> Tensor {
  var rng = RandomGenerator(seed: seed)
  let n = shape.reduce(1, *)
  var values = (0..<n).map { Float($0) * 0.5 - Float(n) / 4 }
  values.shuffle(using: &rng)
  return Tensor(shape: shape, scalars: values)
}

@Suite struct TensorOpsTests {
  // MARK: - Elementwise arithmetic with broadcasting

  static let broadcastCases: [([Int], [Int])] = [
    ([2, 3], [2, 3]),  // same shape
    ([2, 3, 4], [4]),  // trailing suffix (fast path)
    ([2, 3, 4], [3, 1]),  // general strided path
    ([3, 1], [1, 4]),  // both sides stretch
    ([2, 3], []),  // scalar right
    ([], [2, 3]),  // scalar left
    ([4], [2, 3, 4]),  // broadcast on the left operand
  ]

  @Test(arguments: broadcastCases)
  func binaryOpsGradCheck(_ shapes: ([Int], [Int])) {
    let a = randn(shapes.0, seed: 1), b = randn(shapes.1, seed: 2)
    let positive = awayFromZero(shapes.1, seed: 3).abs() + 0.5
    expectGradients([a, b], "add \(shapes)") { $0[0] + $0[1] }
    expectGradients([a, b], "sub \(shapes)") { $0[0] - $0[1] }
    expectGradients([a, b], "mul \(shapes)") { $0[0] * $0[1] }
    expectGradients([a, positive], "div \(shapes)") { $0[0] / $0[1] }
  }

  @Test func broadcastingValues() {
    let col = Tensor(shape: [3, 1], scalars: [1, 2, 3]), row = Tensor(shape: [1, 4], scalars: [10, 20, 30, 40])
    let sum = col + row
    #expect(sum.shape == [3, 4])
    #expect(sum.scalars == [11, 21, 31, 41, 12, 22, 32, 42, 13, 23, 33, 43])
    let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect((x - Tensor([1, 1, 1])).scalars == [0, 1, 2, 3, 4, 5])
    #expect((2 / Tensor([4, 8])).scalars == [0.5, 0.25])
    #expect((-x).scalars == [-1, -2, -3, -4, -5, -6])
    #expect(x.greater(Tensor(scalar: 3)).scalars == [0, 0, 0, 1, 1, 1])
    #expect(x.less(Tensor([2, 2, 7])).scalars == [1, 0, 1, 0, 0, 1])
    #expect(x.equal(Tensor([1, 5, 6])).scalars == [1, 0, 0, 0, 1, 1])
  }

  @Test func broadcastValuesMatchPyTorch() throws {
    let f = try loadFixture("foundation/ops")
    let x = try f.tensor("x"), c = try f.tensor("c")
    expectScaledClose(x / (c.abs() + 1), try f.tensor("broadcast_div"), "[2,3,4] / [3,1]")
  }

  @Test func scalarOperatorsGradCheck() {
    let x = awayFromZero([2, 3], seed: 4)
    expectGradients([x], "x + 2") { $0[0] + 2 }
    expectGradients([x], "2 - x") { 2 - $0[0] }
    expectGradients([x], "x * 3") { $0[0] * 3 }
    expectGradients([x], "3 / x") { 3 / $0[0] }
    expectGradients([x], "x / 4") { $0[0] / 4 }
    expectGradients([x], "-x") { -$0[0] }
  }

  // MARK: - Unary functions

  @Test func unaryFunctionsGradCheck() {
    let x = randn([3, 4], seed: 5)
    let signed = awayFromZero([3, 4], seed: 6)
    let positive = signed.abs() + 0.2
    expectGradients([x], "exp") { $0[0].exp() }
    expectGradients([positive], "log") { $0[0].log() }
    expectGradients([x], "tanh") { $0[0].tanh() }
    expectGradients([x], "sigmoid") { $0[0].sigmoid() }
    expectGradients([signed], "relu") { $0[0].relu() }
    expectGradients([positive], "sqrt") { $0[0].sqrt() }
    expectGradients([x], "squared") { $0[0].squared() }
    expectGradients([signed], "abs") { $0[0].abs() }
    expectGradients([x], "pow 3") { $0[0].pow(3) }
    expectGradients([positive], "pow 0.5") { $0[0].pow(0.5) }
    let spread = Tensor(shape: [2, 4], scalars: [-1.4, -0.6, -0.2, 0.3, 0.5, 1.1, 1.3, -1.0])  // no value within ε of a bound
    expectGradients([spread], "clamped") { $0[0].clamped(min: -0.9, max: 0.8) }
  }

  @Test func unaryValues() {
    let x = Tensor([-2, -0.5, 0, 1.5])
    #expect(x.relu().scalars == [0, 0, 0, 1.5])
    #expect(x.abs().scalars == [2, 0.5, 0, 1.5])
    #expect(x.clamped(min: -1, max: 1).scalars == [-1, -0.5, 0, 1])
    #expect(x.squared().scalars == [4, 0.25, 0, 2.25])
    #expect(closeness(x.sigmoid(), Tensor([0.11920292, 0.37754067, 0.5, 0.81757448])).ok)
    #expect(closeness(x.tanh(), Tensor([-0.96402758, -0.46211716, 0, 0.90514825])).ok)
    #expect(closeness(Tensor([1, 4, 9]).sqrt(), Tensor([1, 2, 3])).ok)
    #expect(closeness(Tensor([0, 1]).exp().log(), Tensor([0, 1]), atol: 1e-6).ok)
    #expect(Tensor([2, 3]).pow(3).scalars == [8, 27])
  }

  // MARK: - Matrix products

  @Test func matmulGradCheck() {
    expectGradients([randn([3, 4], seed: 7), randn([4, 5], seed: 8)], "matmul 2-D") { $0[0].matmul($0[1]) }
    expectGradients([randn([2, 3, 4], seed: 9), randn([4, 5], seed: 10)], "matmul folded") { $0[0].matmul($0[1]) }
    expectGradients([randn([2, 3, 4], seed: 11), randn([2, 4, 5], seed: 12)], "matmul batched") { $0[0].matmul($0[1]) }
    expectGradients([randn([1, 4], seed: 13), randn([4, 1], seed: 14)], "matmul vector") { $0[0].matmul($0[1]) }
  }

  @Test func matmulValues() throws {
    let a = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), b = Tensor(shape: [3, 2], scalars: [7, 8, 9, 10, 11, 12])
    #expect(a.matmul(b) == Tensor(shape: [2, 2], scalars: [58, 64, 139, 154]))
    let f = try loadFixture("foundation/ops")
    let x = try f.tensor("x")
    expectScaledClose(x.matmul(try f.tensor("w")), try f.tensor("matmul_folded"), "[2,3,4]·[4,5]")
    expectScaledClose(x.matmul(try f.tensor("b")), try f.tensor("bmm"), "[2,3,4]·[2,4,3]")
    // An empty inner dimension gives zeros, not uninitialised memory.
    #expect(Tensor.zeros([2, 0]).matmul(.zeros([0, 3])) == .zeros([2, 3]))
    #expect(Tensor.zeros([2, 2, 0]).matmul(.zeros([2, 0, 3])) == .zeros([2, 2, 3]))
  }

  // MARK: - Shapes

  @Test func shapeOpsGradCheck() {
    let x = randn([2, 3, 4], seed: 15)
    expectGradients([x], "reshape") { $0[0].reshaped([4, -1]) }
    expectGradients([x], "unsqueeze") { $0[0].unsqueezed(1) }
    expectGradients([randn([2, 1, 3], seed: 16)], "squeeze") { $0[0].squeezed(1) }
    expectGradients([x], "permute 2,0,1") { $0[0].permuted([2, 0, 1]) }
    expectGradients([x], "permute 1,0,2") { $0[0].permuted([1, 0, 2]) }
    expectGradients([randn([3, 5], seed: 17)], "transpose 2-D") { $0[0].transposed() }
    expectGradients([x], "transpose 0,2") { $0[0].transposed(0, 2) }
    expectGradients([x], "slice") { $0[0].reshaped([6, 4]).slice(1..<4) }
    expectGradients([x], "row") { $0[0][row: 1] }
  }

  @Test func concatenateAndStackGradCheck() {
    let a = randn([2, 3], seed: 18), b = randn([1, 3], seed: 19), c = randn([2, 2], seed: 20)
    expectGradients([a, b], "concatenate axis 0") { Tensor.concatenate([$0[0], $0[1]], axis: 0) }
    expectGradients([a, c], "concatenate axis 1") { Tensor.concatenate([$0[0], $0[1]], axis: 1) }
    let p = randn([2, 2, 3], seed: 21), q = randn([2, 1, 3], seed: 22)
    expectGradients([p, q, p], "concatenate 3-D middle axis, repeated input") { Tensor.concatenate($0, axis: 1) }
    let s = randn([2, 3], seed: 23), t = randn([2, 3], seed: 24)
    expectGradients([s, t], "stack axis 0") { Tensor.stack($0, axis: 0) }
    expectGradients([s, t], "stack axis 1") { Tensor.stack($0, axis: 1) }
    expectGradients([s, t], "stack axis 2") { Tensor.stack($0, axis: 2) }
  }

  @Test func shapeValues() throws {
    let x = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
    #expect(x.reshaped([3, -1]).shape == [3, 2])
    #expect(x.transposed() == Tensor(shape: [3, 2], scalars: [1, 4, 2, 5, 3, 6]))
    #expect(x.slice(1..<2) == Tensor(shape: [1, 3], scalars: [4, 5, 6]))
    #expect(x[row: 0] == Tensor([1, 2, 3]))
    #expect(Tensor.concatenate([x, Tensor(shape: [2, 1], scalars: [7, 8])], axis: 1)
      == Tensor(shape: [2, 4], scalars: [1, 2, 3, 7, 4, 5, 6, 8]))
    #expect(Tensor.stack([Tensor([1, 2]), Tensor([3, 4])], axis: 1) == Tensor(shape: [2, 2], scalars: [1, 3, 2, 4]))
    #expect(x.unsqueezed(0).shape == [1, 2, 3] && x.unsqueezed(2).squeezed(2) == x)
    let f = try loadFixture("foundation/ops")
    #expect(try f.tensor("x").permuted([2, 0, 1]) == (try f.tensor("permute_201")), "permute moves elements exactly")
    // The blocked 2-D transpose, with sizes that are not multiples of the block.
    let big = randn([37, 45], seed: 25)
    let t = big.transposed()
    #expect(t.shape == [45, 37])
    #expect((0..<37).allSatisfy { i in (0..<45).allSatisfy { j in t[j, i] == big[i, j] } })
  }

  // MARK: - Reductions

  @Test func reductionsGradCheck() {
    let x = randn([2, 3, 4], seed: 26)
    expectGradients([x], "sum") { $0[0].sum() }
    expectGradients([x], "mean") { $0[0].mean() }
    for axis in [0, 1, 2, -1] {
      for keep in [false, true] {
        expectGradients([x], "sum axis \(axis) keep \(keep)") { $0[0].sum(axis: axis, keepingDims: keep) }
        expectGradients([x], "mean axis \(axis) keep \(keep)") { $0[0].mean(axis: axis, keepingDims: keep) }
      }
    }
    let d = distinct([2, 3, 4], seed: 27)
    for axis in [0, 1, 2] {
      expectGradients([d], "max axis \(axis)") { $0[0].max(axis: axis) }
      expectGradients([d], "max axis \(axis) keep") { $0[0].max(axis: axis, keepingDims: true) }
    }
  }

  @Test func reductionValues() throws {
    let f = try loadFixture("foundation/ops")
    let x = try f.tensor("x")
    expectScaledClose(x.sum(axis: 1), try f.tensor("sum_axis1"), "sum axis 1")
    expectScaledClose(x.mean(axis: 2), try f.tensor("mean_axis2"), "mean axis 2")
    #expect(x.max(axis: 1) == (try f.tensor("max_axis1")))
    #expect(x.argmax(axis: 1) == (try f.indices("argmax_axis1")))
    let y = Tensor(shape: [2, 3], scalars: [1, 5, 5, -1, -3, -2])
    #expect(y.sum().item == 5 && y.mean().item == 5.0 / 6)
    #expect(y.argmax() == [1, 0], "first index on ties")
    #expect(y.max(axis: 0, keepingDims: true) == Tensor(shape: [1, 3], scalars: [1, 5, 5]))
    #expect(y.sum(axis: 1, keepingDims: true) == Tensor(shape: [2, 1], scalars: [11, -6]))
  }

  // MARK: - Softmax

  @Test func softmaxGradCheck() {
    expectGradients([randn([3, 5], seed: 28, std: 2)], "softmax") { $0[0].softmax() }
    expectGradients([randn([3, 5], seed: 29, std: 2)], "logSoftmax") { $0[0].logSoftmax() }
    expectGradients([randn([2, 2, 4], seed: 30)], "logSoftmax 3-D") { $0[0].logSoftmax() }
  }

  @Test func softmaxValues() throws {
    let f = try loadFixture("foundation/ops")
    let x = try f.tensor("x")
    expectScaledClose(x.softmax(), try f.tensor("softmax"), "softmax")
    expectScaledClose(x.logSoftmax(), try f.tensor("log_softmax"), "logSoftmax")
    let huge = Tensor([1000, 0, -1000]).logSoftmax()
    #expect(huge.isFinite && huge[0] == 0 && huge[1] == -1000)
  }

  // MARK: - Gathering and the fused ops

  @Test func gatherRowsGradCheckAndValues() {
    let table = randn([5, 3], seed: 31)
    expectGradients([table], "gatherRows with repeats") { $0[0].gatherRows([4, 1, 4, 0, 4, 2], indexShape: [3, 2]) }
    let t = Tensor(shape: [3, 2], scalars: [0, 1, 10, 11, 20, 21])
    #expect(t.gatherRows([2, 0, 2], indexShape: [3]) == Tensor(shape: [3, 2], scalars: [20, 21, 0, 1, 20, 21]))
  }

  @Test func fusedOpsGradCheck() {
    let x = randn([2, 3, 4], seed: 32), w = randn([5, 4], seed: 33), b = randn([5], seed: 34)
    expectGradients([x, w, b], "linear") { $0[0].linear(weight: $0[1], bias: $0[2]) }
    let g = randn([6], seed: 35), h = randn([6], seed: 36)
    expectGradients([randn([4, 6], seed: 37, std: 2), g, h], "layerNorm") {
      $0[0].layerNorm(width: 6, eps: 1e-5, weight: $0[1], bias: $0[2])
    }
    expectGradients([randn([4, 6], seed: 38)], "layerNorm plain") { $0[0].layerNorm(width: 6, eps: 1e-5, weight: nil, bias: nil) }
    expectGradients([randn([4, 6], seed: 39)], "dropout") {
      var rng = RandomGenerator(seed: 40)
      return $0[0].dropout(p: 0.4, generator: &rng)
    }
  }

  // MARK: - The tape

  @Test func gradientsAccumulateAndFlowThroughSharedInputs() {
    let x = Tensor([1, 2, 3]).requiringGrad()
    (x * x).sum().backward()  // d/dx Σx² = 2x
    #expect(x.grad == Tensor([2, 4, 6]))
    (x * 3).sum().backward()  // accumulates
    #expect(x.grad == Tensor([5, 7, 9]))
    let y = x.detached()
    #expect(!y.requiresGrad)
    let z = withoutGradients { x * 2 }
    #expect(!z.requiresGrad)
    // A longer chain: d/dx mean(tanh(x·w)) through matmul, tanh and mean.
    let result = gradCheck(inputs: [randn([2, 3], seed: 41), randn([3, 2], seed: 42)]) { t in
      (t[0].matmul(t[1]).tanh() * t[0].sum(axis: 1, keepingDims: true)).mean(axis: 0)
    }
    #expect(result.passed, "\(result)")
  }

  @Test func gradCheckFailsOnNonFiniteGradients() {
    // log at 0: the tape gives inf, the differences NaN — neither may pass.
    let atZero = gradCheck(inputs: [Tensor([0, 1])]) { $0[0].log() }
    #expect(!atZero.passed && atZero.maxAbsError.isNaN, "\(atZero)")
    // A backward that returns NaN where the function is smooth.
    let nanBackward = gradCheck(inputs: [Tensor([0.5, 1])]) { t in
      t[0].unary("nan-grad", { $0 * 2 }, derivative: { _, _ in .nan })
    }
    #expect(!nanBackward.passed, "\(nanBackward)")
    #expect(gradCheck(inputs: [Tensor([0.5, 1])]) { $0[0].log() }.passed)
  }

  @Test func emptyTensors() {
    let e = Tensor(shape: [0, 3], scalars: [])
    #expect(e.count == 0 && e.shape == [0, 3])
    #expect(e.sum().item == 0)
    #expect(Tensor.concatenate([e, Tensor(shape: [1, 3], scalars: [1, 2, 3])]) == Tensor(shape: [1, 3], scalars: [1, 2, 3]))
  }
}
