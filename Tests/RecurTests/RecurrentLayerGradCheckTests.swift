import Foundation
import Testing
@testable import Recur

/// Finite differences through whole recurrent layers (the fused multi-layer, bidirectional,
/// variable-length forward and backward), independently of the PyTorch fixtures: the gradient of
/// L = Σ output·wo + Σ h_n·wh (+ Σ c_n·wc) with respect to the input, the initial state and every
/// parameter element.
@Suite struct RecurrentLayerGradCheckTests {
  struct Case: CustomStringConvertible, Sendable {
    var kind: RecurrentCellKind
    var bidirectional: Bool
    var projSize = 0
    var description: String { "\(kind.rawValue)\(bidirectional ? " bidirectional" : "")\(projSize > 0 ? " proj \(projSize)" : "")" }
  }

  static let cases: [Case] = [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru].flatMap { kind in
    [Case(kind: kind, bidirectional: false), Case(kind: kind, bidirectional: true)]
  } + [Case(kind: .lstm, bidirectional: false, projSize: 3), Case(kind: .lstm, bidirectional: true, projSize: 3)]

  // Two layers, T = 5, B = 3; the lengths have a full-length item, a short one and one of length 1.
  static let (inputSize, hiddenSize, numLayers, T, B) = (3, 4, 2, 5, 3)
  static let lengths = [5, 2, 1]

  /// The layer, its inputs (x, h0, c0) and the loss weights, all from one seed.
  struct Setup {
    var layer: RecurrentLayer
    var x, h0, c0: Tensor
    var wo, wh, wc: Tensor

    init(_ c: Case) {
      layer = RecurrentLayer.make(c.kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                                  bidirectional: c.bidirectional, projSize: c.projSize, seed: 5)
      var g = RandomGenerator(seed: 17)
      let d = c.bidirectional ? 2 : 1, hOut = c.projSize > 0 ? c.projSize : hiddenSize
      x = Tensor.normal([T, B, inputSize], generator: &g)
      h0 = Tensor.normal([numLayers * d, B, hOut], std: 0.5, generator: &g)
      c0 = Tensor.normal([numLayers * d, B, hiddenSize], std: 0.5, generator: &g)
      wo = Tensor.uniform([T, B, d * hOut], low: -1, high: 1, generator: &g)
      wh = Tensor.uniform(h0.shape, low: -1, high: 1, generator: &g)
      wc = Tensor.uniform(c0.shape, low: -1, high: 1, generator: &g)
    }

    var isLSTM: Bool { layer.kind == .lstm }

    func loss(_ x: Tensor, _ h0: Tensor, _ c0: Tensor) throws -> Tensor {
      let (out, state) = try layer(x, RecurrentState(h: h0, c: isLSTM ? c0 : nil), lengths: lengths)
      var l = (out * wo).sum() + (state.h * wh).sum()
      if let c = state.c { l = l + (c * wc).sum() }
      return l
    }

    /// The same loss without the tape, summed in Double (less rounding noise in the differences).
    func lossValue() throws -> Double {
      try withoutGradients {
        let (out, state) = try layer(x, RecurrentState(h: h0, c: isLSTM ? c0 : nil), lengths: lengths)
        func dot(_ a: Tensor, _ b: Tensor) -> Double { zip(a.scalars, b.scalars).reduce(0) { $0 + Double($1.0) * Double($1.1) } }
        return dot(out, wo) + dot(state.h, wh) + (state.c.map { dot($0, wc) } ?? 0)
      }
    }
  }

  @Test(arguments: cases)
  func inputAndStateGradientsMatchFiniteDifferences(_ c: Case) throws {
    let s = Setup(c)
    let inputs = s.isLSTM ? [s.x, s.h0, s.c0] : [s.x, s.h0]
    let result = gradCheck(inputs: inputs) { t in
      try! s.loss(t[0], t[1], s.isLSTM ? t[2] : s.c0)
    }
    #expect(result.passed, "\(c): \(result)")
  }

  /// ReLU is not differentiable at 0: a step in a weight (1e-3 for ReLU, 1e-2 for the smooth kinds)
  /// can move a pre-activation across the kink. Such elements show it as one-sided differences
  /// that disagree; they are skipped (at most 5 % of a ReLU layer's elements). Every other kind is
  /// smooth and no element is skipped.
  @Test(arguments: cases)
  func parameterGradientsMatchFiniteDifferences(_ c: Case) throws {
    let s = Setup(c)
    s.layer.zeroGrad()
    try s.loss(s.x, s.h0, s.c0).backward()
    let l0 = try s.lossValue()
    let eps: Float = c.kind == .rnnRelu ? 1e-3 : 1e-2
    var (checked, kinks) = (0, 0)
    for (name, p) in s.layer.namedParameters() {
      let analytic = try #require(p.grad, "\(c): no gradient for \(name)").scalars
      for i in 0..<p.count {
        let x0 = p.data.scalars[i]
        p.update { $0[i] = x0 + eps }
        let lp = try s.lossValue()
        p.update { $0[i] = x0 - eps }
        let lm = try s.lossValue()
        p.update { $0[i] = x0 }
        let numeric = (lp - lm) / (2 * Double(eps))
        let tolerance = 1e-3 + 1e-2 * abs(numeric)
        if c.kind == .rnnRelu && abs((lp - l0) - (l0 - lm)) / Double(eps) > tolerance {
          kinks += 1
          continue
        }
        let error = abs(Double(analytic[i]) - numeric)
        #expect(error <= tolerance, "\(c) \(name)[\(i)]: analytic \(analytic[i]), numeric \(numeric)")
        checked += 1
      }
    }
    let total = s.layer.namedParameters().map(\.parameter.count).reduce(0, +)
    #expect(checked + kinks == total)
    #expect(kinks * 20 <= total, "\(c): \(kinks) of \(total) elements at a ReLU kink")
  }
}
