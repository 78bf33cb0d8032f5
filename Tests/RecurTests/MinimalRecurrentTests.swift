import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// The configuration a minGRU/minLSTM fixture was generated with (Tools/Reference/mingru.py).
struct MinimalFixtureConfig: Decodable {
  var kind: String
  var input: Int
  var hidden: Int
  var layers: Int

  static func load(_ name: String) throws -> MinimalFixtureConfig {
    try loadFixtureConfig("mingru/\(name)")
  }
}

/// Largest error against the minGRU/minLSTM references, relative to max(1, max |reference|).
let minimalFixtureTolerance: Float = 1e-5

/// The layer's equations in Double, one step at a time: the float64 sequential reference.
func minimalReference(_ layer: MinimalRecurrentLayer, x: Tensor, h0: Tensor?) -> (output: [Double], hn: [Double]) {
  let T = x.shape[0], B = x.shape[1], H = layer.hiddenSize, G = layer.kind.gateCount
  func sigmoid(_ v: Double) -> Double { 1 / (1 + exp(-v)) }
  func g(_ v: Double) -> Double { v >= 0 ? v + 0.5 : sigmoid(v) }
  var input = x.scalars.map(Double.init), width = layer.inputSize, finals: [Double] = []
  for l in 0..<layer.numLayers {
    let w = layer.weights[l].value.scalars.map(Double.init), bias = layer.biases[l].value.scalars.map(Double.init)
    var h = h0.map { Array($0.scalars[(l * B * H)..<((l + 1) * B * H)].map(Double.init)) } ?? Array(repeating: 0, count: B * H)
    var output = [Double](repeating: 0, count: T * B * H)
    for t in 0..<T {
      for b in 0..<B {
        var pre = [Double](repeating: 0, count: G * H)
        for r in 0..<(G * H) {
          var s = bias[r]
          for i in 0..<width { s += w[r * width + i] * input[(t * B + b) * width + i] }
          pre[r] = s
        }
        for j in 0..<H {
          let candidate = g(pre[(G - 1) * H + j])
          let decay: Double
          if layer.kind == .minGRU {
            decay = 1 - sigmoid(pre[j])
          } else {
            let f = sigmoid(pre[j]), i = sigmoid(pre[H + j])
            decay = f / (f + i)
          }
          h[b * H + j] = decay * h[b * H + j] + (1 - decay) * candidate
          output[(t * B + b) * H + j] = h[b * H + j]
        }
      }
    }
    finals += h
    input = output
    width = H
  }
  return (input, finals)
}

@Suite struct MinimalRecurrentTests {
  static let fixtures = ["mingru_1l", "mingru_2l_lengths", "mingru_zero_state", "mingru_saturated", "minlstm_1l",
                         "minlstm_2l_lengths", "minlstm_saturated"]

  func makeLayer(_ c: MinimalFixtureConfig) -> MinimalRecurrentLayer {
    MinimalRecurrentLayer(kind: MinimalRecurrentKind(rawValue: c.kind)!, inputSize: c.input, hiddenSize: c.hidden, numLayers: c.layers)
  }

  @Test(arguments: fixtures)
  func matchesThePapersLogSpaceFormInPyTorch(_ name: String) throws {
    let f = try loadFixture("mingru/\(name)")
    let layer = makeLayer(try MinimalFixtureConfig.load(name))
    try layer.loadStateDict(f.filter { $0.key.hasPrefix("weight_ih") || $0.key.hasPrefix("bias_ih") })
    let x = try f.tensor("x").requiringGrad()
    let h0 = f["h0"].map { $0.requiringGrad() }
    let lengths = try f["lengths"] != nil ? f.indices("lengths") : nil
    let (out, state) = try layer(x, h0.map { RecurrentState(h: $0) }, lengths: lengths)

    func check(_ actual: Tensor?, _ key: String) throws {
      expectScaledClose(actual, try f.tensor(key), "\(name) \(key)", tolerance: minimalFixtureTolerance)
    }
    try check(out, "output")
    try check(state.h, "h_n")
    let loss = try (out * f.tensor("wo")).sum() + (state.h * f.tensor("wh")).sum()
    loss.backward()
    try check(x.grad, "grad.x")
    if let h0 { try check(h0.grad, "grad.h0") }
    for (pname, p) in layer.namedParameters() { try check(p.grad, "grad.\(pname)") }
  }

  @Test(arguments: MinimalRecurrentKind.allCases)
  func parallelAndStepwiseRunsAgreeWithTheFloat64Reference(_ kind: MinimalRecurrentKind) throws {
    let T = 37, B = 3, H = 24
    let layer = MinimalRecurrentLayer(kind: kind, inputSize: 10, hiddenSize: H, numLayers: 2, seed: 7)
    var generator = RandomGenerator(seed: 11)
    let x = Tensor.uniform([T, B, 10], low: -2, high: 2, generator: &generator)
    let h0 = Tensor.uniform([2, B, H], low: -1, high: 1, generator: &generator)
    var context = ForwardContext.inference
    let (whole, final) = try layer(x, state: RecurrentState(h: h0), lengths: nil, context: &context)
    let reference = minimalReference(layer, x: x, h0: h0)
    let scale = max(1, reference.output.map(abs).max()!)
    let outputError = zip(whole.scalars, reference.output).map { abs(Double($0) - $1) }.max()! / scale
    let stateError = zip(final.h.scalars, reference.hn).map { abs(Double($0) - $1) }.max()! / scale
    #expect(outputError <= 1e-5 && stateError <= 1e-5, "\(kind): parallel run vs float64 reference \(outputError), \(stateError)")

    var state = RecurrentState(h: h0), steps: [Tensor] = []
    for t in 0..<T {
      let (y, next) = try layer(x.slice(t..<(t + 1)), state: state, lengths: nil, context: &context)
      steps.append(y)
      state = next
    }
    let stepwise = Tensor.concatenate(steps, axis: 0)
    #expect(scaledMaxError(stepwise, whole) <= 1e-6, "\(kind): one step at a time vs the whole sequence")
    #expect(scaledMaxError(state.h, final.h) <= 1e-6, "\(kind): carried state vs final state")
  }

  /// Central differences (step 1e-2, the loss summed in Double) for every element of the input, the
  /// initial state and the parameters. g has a kink at 0 (slope 1/4 below, 1 above): an element
  /// whose step moves a candidate pre-activation across it shows as one-sided differences that
  /// disagree and is skipped (at most 5 % of the elements); every other element must match.
  @Test(arguments: MinimalRecurrentKind.allCases)
  func finiteDifferencesAgreeWithTheBackward(_ kind: MinimalRecurrentKind) throws {
    let layer = MinimalRecurrentLayer(kind: kind, inputSize: 3, hiddenSize: 4, numLayers: 2, seed: 3)
    var generator = RandomGenerator(seed: 5)
    var x = Tensor.uniform([6, 2, 3], low: -1.5, high: 1.5, generator: &generator)
    var h0 = Tensor.uniform([2, 2, 4], low: -1, high: 1, generator: &generator)
    let wo = Tensor.uniform([6, 2, 4], low: -1, high: 1, generator: &generator)
    let lengths = [6, 3]
    func value() throws -> Double {
      try withoutGradients {
        let (y, s) = try layer(x, RecurrentState(h: h0), lengths: lengths)
        return zip(y.scalars, wo.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) } + s.h.scalars.reduce(0) { $0 + Double($1) }
      }
    }
    let xLeaf = x.requiringGrad(), h0Leaf = h0.requiringGrad()
    let (y, s) = try layer(xLeaf, RecurrentState(h: h0Leaf), lengths: lengths)
    ((y * wo).sum() + s.h.sum()).backward()

    let l0 = try value(), eps: Float = 1e-2
    var (checked, kinks) = (0, 0)
    func check(_ name: String, _ analytic: [Float], _ read: (Int) -> Float, _ write: (Int, Float) -> Void) throws {
      for i in 0..<analytic.count {
        let v = read(i)
        write(i, v + eps)
        let lp = try value()
        write(i, v - eps)
        let lm = try value()
        write(i, v)
        let numeric = (lp - lm) / (2 * Double(eps)), tolerance = 1e-3 + 1e-2 * abs(numeric)
        if abs((lp - l0) - (l0 - lm)) / Double(eps) > tolerance { kinks += 1; continue }
        #expect(abs(Double(analytic[i]) - numeric) <= tolerance, "\(kind) \(name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
        checked += 1
      }
    }
    try check("x", try #require(xLeaf.grad).scalars, { x.scalars[$0] }, { i, v in x.withUnsafeMutableBufferPointer { $0[i] = v } })
    try check("h0", try #require(h0Leaf.grad).scalars, { h0.scalars[$0] }, { i, v in h0.withUnsafeMutableBufferPointer { $0[i] = v } })
    for (name, p) in layer.namedParameters() {
      try check(name, try #require(p.grad, "\(kind): no gradient for \(name)").scalars, { p.data.scalars[$0] },
                { i, v in p.update { $0[i] = v } })
    }
    let total = x.count + h0.count + layer.parameterCount
    #expect(checked + kinks == total && kinks * 20 <= total, "\(kind): \(kinks) of \(total) elements at the kink of g")
  }

  @Test func badInputsThrowWhatToChange() throws {
    let layer = MinGRU(inputSize: 4, hiddenSize: 3, numLayers: 2)
    var context = ForwardContext.inference
    #expect(throws: RecurrentError.self) { try layer(.zeros([5, 2, 3]), state: nil, lengths: nil, context: &context) }
    #expect(throws: RecurrentError.self) { try layer(.zeros([5, 2, 4]), state: RecurrentState(h: .zeros([1, 2, 3])), lengths: nil, context: &context) }
    #expect(throws: RecurrentError.self) { try layer(.zeros([5, 2, 4]), state: nil, lengths: [6, 1], context: &context) }
    #expect(throws: RecurrentError.self) {
      try layer(Tensor(shape: [1, 1, 4], scalars: [.nan, 0, 0, 0]), state: nil, lengths: nil, context: &context)
    }
    #expect(layer.namedParameters().map(\.name) == ["weight_ih_l0", "bias_ih_l0", "weight_ih_l1", "bias_ih_l1"])
    #expect(layer.weights[1].shape == [6, 3])
  }
}
