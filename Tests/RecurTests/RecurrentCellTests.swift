import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

@Suite struct RecurrentCellTests {
  static let cells = ["lstm_cell", "gru_cell", "rnn_tanh_cell", "rnn_relu_cell_nobias", "lstm_cell_unbatched"]

  func makeCell(_ config: RecurrentFixtureConfig) -> RecurrentCell {
    switch config.mode {
    case "lstm": LSTMCell(inputSize: config.input_size, hiddenSize: config.hidden_size, bias: config.bias)
    case "gru": GRUCell(inputSize: config.input_size, hiddenSize: config.hidden_size, bias: config.bias)
    default: RNNCell(inputSize: config.input_size, hiddenSize: config.hidden_size, bias: config.bias,
                     nonlinearity: config.mode == "rnn_relu" ? .relu : .tanh)
    }
  }

  func step(_ cell: RecurrentCell, _ x: Tensor, _ h: Tensor, _ c: Tensor?) throws -> (Tensor, Tensor?) {
    switch cell {
    case let lstm as LSTMCell:
      let s = try lstm(x, RecurrentState(h: h, c: c!))
      return (s.h, try #require(s.c, "an LSTM cell returns a cell state"))
    case let gru as GRUCell: return (try gru(x, h), nil)
    case let rnn as RNNCell: return (try rnn(x, h), nil)
    default: fatalError()
    }
  }

  @Test(arguments: cells)
  func matchesPyTorch(_ name: String) throws {
    let f = try loadFixture("recurrent/\(name)")
    let config = try RecurrentFixtureConfig.load(name)
    let cell = makeCell(config)
    #expect(cell.namedParameters().map(\.name) == config.param_names)
    try cell.loadStateDict(f.filter { config.param_names.contains($0.key) })
    let x = try f.tensor("x").requiringGrad(), h0 = try f.tensor("h0").requiringGrad()
    let c0 = f["c0"].map { $0.requiringGrad() }
    let (h1, c1) = try step(cell, x, h0, c0)
    #expect(scaledMaxError(h1, try f.tensor("h1")) <= recurrentFixtureTolerance)
    var loss = try (h1 * f.tensor("wh")).sum()
    if let c1 {
      #expect(scaledMaxError(c1, try f.tensor("c1")) <= recurrentFixtureTolerance)
      loss = try loss + (c1 * f.tensor("wc")).sum()
    }
    loss.backward()
    #expect(scaledMaxError(x.grad!, try f.tensor("grad.x")) <= recurrentFixtureTolerance)
    #expect(scaledMaxError(h0.grad!, try f.tensor("grad.h0")) <= recurrentFixtureTolerance)
    if let c0 { #expect(scaledMaxError(c0.grad!, try f.tensor("grad.c0")) <= recurrentFixtureTolerance) }
    for (pname, p) in cell.namedParameters() {
      #expect(scaledMaxError(p.grad!, try f.tensor("grad.\(pname)")) <= recurrentFixtureTolerance, "grad.\(pname)")
    }
  }

  /// Finite differences through each cell: input, state and every parameter.
  @Test(arguments: [RecurrentCellKind.rnnTanh, .rnnRelu, .lstm, .gru])
  func finiteDifferences(_ kind: RecurrentCellKind) throws {
    var g = RandomGenerator(seed: 11)
    let (I, H, B) = (3, 4, 2)
    let cell: RecurrentCell = switch kind {
    case .lstm: LSTMCell(inputSize: I, hiddenSize: H, seed: 3)
    case .gru: GRUCell(inputSize: I, hiddenSize: H, seed: 3)
    case .rnnTanh: RNNCell(inputSize: I, hiddenSize: H, seed: 3)
    case .rnnRelu: RNNCell(inputSize: I, hiddenSize: H, nonlinearity: .relu, seed: 3)
    }
    let inputs = [Tensor.normal([B, I], generator: &g), Tensor.normal([B, H], std: 0.5, generator: &g),
                  Tensor.normal([B, H], std: 0.5, generator: &g)]
    let result = gradCheck(inputs: kind == .lstm ? inputs : Array(inputs.prefix(2))) { xs in
      let (h, c) = try! step(cell, xs[0], xs[1], kind == .lstm ? xs[2] : nil)
      return c.map { Tensor.concatenate([h, $0], axis: 1) } ?? h
    }
    #expect(result.passed, "\(result)")
    try checkParameterGradients(cell, kind: kind)
  }

  /// Finite differences of a scalar loss with respect to each parameter element.
  func checkParameterGradients(_ cell: RecurrentCell, kind: RecurrentCellKind) throws {
    var g = RandomGenerator(seed: 5)
    let x = Tensor.normal([2, cell.inputSize], generator: &g)
    let h = Tensor.normal([2, cell.hiddenSize], std: 0.5, generator: &g)
    let c = Tensor.normal([2, cell.hiddenSize], std: 0.5, generator: &g)
    let w = Tensor.uniform([2, cell.hiddenSize], low: -1, high: 1, generator: &g)
    func loss() throws -> Double {
      let (h1, c1) = try step(cell, x, h, kind == .lstm ? c : nil)
      var l = (h1 * w).sum()
      if let c1 { l = l + (c1 * w).sum() }
      return Double(l.item)
    }
    cell.zeroGrad()
    let (h1, c1) = try step(cell, x, h, kind == .lstm ? c : nil)
    var l = (h1 * w).sum()
    if let c1 { l = l + (c1 * w).sum() }
    l.backward()
    for (name, p) in cell.namedParameters() {
      let analytic = p.grad!.scalars
      for i in 0..<p.count {
        let x0 = p.data.scalars[i], eps: Float = 1e-2
        p.update { $0[i] = x0 + eps }
        let lp = try withoutGradients { try loss() }
        p.update { $0[i] = x0 - eps }
        let lm = try withoutGradients { try loss() }
        p.update { $0[i] = x0 }
        let numeric = Float((lp - lm) / (2 * Double(eps)))
        #expect(abs(analytic[i] - numeric) <= 1e-3 + 1e-2 * abs(numeric), "\(kind) \(name)[\(i)]: \(analytic[i]) vs \(numeric)")
      }
    }
  }
}
