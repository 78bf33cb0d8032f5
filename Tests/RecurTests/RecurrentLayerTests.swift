import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// The configuration a recurrent fixture was generated with (Tools/Reference/recurrent.py).
struct RecurrentFixtureConfig: Decodable {
  var mode: String
  var input_size: Int
  var hidden_size: Int
  var num_layers: Int
  var bias: Bool
  var batch_first: Bool
  var bidirectional: Bool
  var proj_size: Int
  var param_names: [String]

  static func load(_ name: String) throws -> RecurrentFixtureConfig {
    try loadFixtureConfig("recurrent/\(name)")
  }

  func makeLayer() -> RecurrentLayer {
    switch mode {
    case "lstm":
      LSTM(inputSize: input_size, hiddenSize: hidden_size, numLayers: num_layers, bias: bias, batchFirst: batch_first,
           bidirectional: bidirectional, projSize: proj_size)
    case "gru":
      GRU(inputSize: input_size, hiddenSize: hidden_size, numLayers: num_layers, bias: bias, batchFirst: batch_first,
          bidirectional: bidirectional)
    default:
      RNN(inputSize: input_size, hiddenSize: hidden_size, numLayers: num_layers,
          nonlinearity: mode == "rnn_relu" ? .relu : .tanh, bias: bias, batchFirst: batch_first, bidirectional: bidirectional)
    }
  }
}

let recurrentFixtureNames = [
  "rnn_tanh_1l", "rnn_relu_2l", "rnn_tanh_bidir_2l", "rnn_relu_nobias_bf", "lstm_1l", "lstm_3l", "lstm_bidir_2l",
  "lstm_nobias", "lstm_batch_first", "lstm_batch1", "lstm_seq1", "lstm_proj", "lstm_proj_bidir_2l", "lstm_lengths",
  "lstm_lengths_bidir_bf", "lstm_proj_lengths_bidir", "gru_1l", "gru_3l", "gru_bidir_2l", "gru_nobias_bf",
  "gru_lengths_bidir", "rnn_tanh_lengths_bidir", "gru_batch1_seq1", "rnn_relu_seq1_bidir", "gru_lengths", "rnn_relu_lengths",
]

/// Largest error, relative to max(1, max |reference|), against the small fixtures: 2e-6 ≈ 32 float32
/// roundings (2^-24 each). The references are exact for the float32 inputs the tests load (measured
/// ≤ 3.6e-7 over every layer and cell fixture).
let recurrentFixtureTolerance: Float = 2e-6

/// Runs a layer of any kind on (x, h0, c0) and returns output, h_n, c_n.
func runAny(_ layer: RecurrentLayer, _ x: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?) throws -> (Tensor, Tensor, Tensor?) {
  let state = h0.map { RecurrentState(h: $0, c: c0) }
  let (o, s) = try layer(x, state, lengths: lengths)
  #expect((s.c != nil) == (layer.kind == .lstm), "only the LSTM has a cell state")
  return (o, s.h, s.c)
}

@Suite struct RecurrentLayerTests {
  @Test(arguments: recurrentFixtureNames)
  func matchesPyTorch(_ name: String) throws {
    let f = try loadFixture("recurrent/\(name)")
    let config = try RecurrentFixtureConfig.load(name)
    let layer = config.makeLayer()
    #expect(layer.namedParameters().map(\.name) == config.param_names)
    try layer.loadStateDict(f.filter { config.param_names.contains($0.key) })
    let x = try f.tensor("x").requiringGrad()
    let h0 = try f.tensor("h0").requiringGrad()
    let c0 = try f["c0"].map { $0.requiringGrad() }
    let lengths = try f["lengths"] != nil ? f.indices("lengths") : nil
    let (out, hn, cn) = try runAny(layer, x, h0: h0, c0: c0, lengths: lengths)

    func check(_ actual: Tensor?, _ key: String) throws {
      let expected = try f.tensor(key)
      guard let actual else { Issue.record("\(name): no value for \(key)"); return }
      #expect(actual.shape == expected.shape, "\(name) \(key): shape \(actual.shape) vs \(expected.shape)")
      guard actual.shape == expected.shape else { return }
      let err = scaledMaxError(actual, expected)
      #expect(err <= recurrentFixtureTolerance, "\(name) \(key): max scaled error \(err)")
    }
    try check(out, "output")
    try check(hn, "h_n")
    var loss = try (out * f.tensor("wo")).sum() + (hn * f.tensor("wh")).sum()
    if let cn {
      try check(cn, "c_n")
      loss = try loss + (cn * f.tensor("wc")).sum()
    }
    loss.backward()
    try check(x.grad, "grad.x")
    try check(h0.grad, "grad.h0")
    if let c0 { try check(c0.grad, "grad.c0") }
    for (pname, p) in layer.namedParameters() { try check(p.grad, "grad.\(pname)") }
  }
}
