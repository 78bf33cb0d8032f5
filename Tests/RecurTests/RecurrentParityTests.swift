import Foundation
import Testing
@testable import Recur

/// Recurrent layers against PyTorch at realistic sizes (2 × 512, T = 100, batch 32; bidirectional
/// and projected stacks with lengths): the large-matrix GEMM paths, the split over two threads and
/// the reuse of freed buffers, which the small fixtures never reach.
///
/// The fixtures (Tools/Reference/recurrent_large.py) store no inputs: x, the initial state, the
/// weights and the loss weights come from a seeded formula implemented here and in the script. They
/// hold 1,024 sampled elements and the L2 norm of the output, the final states and every gradient,
/// computed in float64 from the same float32 values.
@Suite struct RecurrentParityTests {
  struct Config: Decodable {
    var mode: String
    var input_size: Int
    var hidden_size: Int
    var num_layers: Int
    var bidirectional: Bool
    var proj_size: Int
    var seq_len: Int
    var batch: Int
    var weight_scale: Double
    var param_names: [String]
  }

  static let names = ["lstm_2x512", "gru_2x512", "rnn_tanh_2x512", "lstm_bidir_lengths_2x256", "gru_bidir_lengths_2x256",
                      "rnn_relu_lengths_2x256", "lstm_proj_bidir_lengths_256"]

  /// Largest error allowed, relative to the tensor's root mean square (‖e‖/√n), for a sampled
  /// element and, relative to ‖e‖, for the norm. float32: 2^-13 ≈ 1.2e-4 for elements (2^11 float32
  /// roundings of 2^-24: room for sums of 3,200 products per weight-gradient element over 100
  /// recurrent steps; measured ≤ 1.3e-5) and 2^-18 ≈ 3.8e-6 for norms (measured ≤ 1.7e-7).
  /// bfloat16 operands (`.medium` where the CPU has AVX512_BF16) keep 8 significant bits, a
  /// rounding of up to 2^-9 each: 2^-4 (32 roundings; measured ≤ 0.025) for elements and 2^-7 for
  /// norms (measured ≤ 0.003). A wrong index, a stale buffer or a missed step is off by O(1).
  static func tolerance(_ precision: Kernels.MatmulPrecision) -> (element: Double, norm: Double) {
    precision == .medium && Kernels.bfloat16Available ? (0x1p-4, 0x1p-7) : (0x1p-13, 0x1p-18)
  }

  /// Whether elements are compared, or only the norm: ReLU's derivative is a step, so operands
  /// rounded to bfloat16 move some pre-activations across 0 and change whole gradient entries
  /// (up to 0.7 × rms here); its outputs and every gradient's norm still agree within the tolerance.
  static func comparesElements(_ key: String, mode: String, precision: Kernels.MatmulPrecision) -> Bool {
    !(mode == "rnn_relu" && key.hasPrefix("grad.") && precision == .medium && Kernels.bfloat16Available)
  }

  /// The fixture generator's formula: exact float32 values in [−scale, scale).
  static func formula(stream: UInt64, count: Int, scale: Double) -> [Float] {
    (0..<count).map { i in
      var z = (stream << 32) &+ UInt64(i) &+ 0x9E37_79B9_7F4A_7C15
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      z ^= z >> 31
      return Float((Double(z >> 40) - 0x1p23) / 0x1p23 * scale)
    }
  }

  static func formulaTensor(stream: UInt64, shape: [Int], scale: Double) -> Tensor {
    Tensor(shape: shape, scalars: formula(stream: stream, count: shape.reduce(1, *), scale: scale))
  }

  /// Output, final states and gradients of one forward and backward pass, by fixture key.
  static func run(_ config: Config, lengths: [Int]?) throws -> [String: Tensor] {
    let kind = RecurrentCellKind(rawValue: config.mode)!
    let layer = RecurrentLayer.make(kind, inputSize: config.input_size, hiddenSize: config.hidden_size, numLayers: config.num_layers,
                                    bidirectional: config.bidirectional, projSize: config.proj_size)
    #expect(layer.namedParameters().map(\.name) == config.param_names)
    for (j, (_, p)) in layer.namedParameters().enumerated() {
      p.assign(formulaTensor(stream: 10 + UInt64(j), shape: p.shape, scale: config.weight_scale))
    }
    let d = config.bidirectional ? 2 : 1, hOut = config.proj_size > 0 ? config.proj_size : config.hidden_size
    let (T, B, L) = (config.seq_len, config.batch, config.num_layers)
    let x = formulaTensor(stream: 1, shape: [T, B, config.input_size], scale: 1).requiringGrad()
    let h0 = formulaTensor(stream: 2, shape: [L * d, B, hOut], scale: 0.5).requiringGrad()
    let c0 = formulaTensor(stream: 3, shape: [L * d, B, config.hidden_size], scale: 0.5).requiringGrad()
    let (out, state) = try layer(x, RecurrentState(h: h0, c: kind == .lstm ? c0 : nil), lengths: lengths)
    var loss = (out * formulaTensor(stream: 4, shape: out.shape, scale: 1)).sum()
      + (state.h * formulaTensor(stream: 5, shape: state.h.shape, scale: 1)).sum()
    if let c = state.c { loss = loss + (c * formulaTensor(stream: 6, shape: c.shape, scale: 1)).sum() }
    loss.backward()
    var results: [String: Tensor?] = ["output": out, "h_n": state.h, "grad.x": x.grad, "grad.h0": h0.grad]
    if let c = state.c { results["c_n"] = c; results["grad.c0"] = c0.grad }
    for (name, p) in layer.namedParameters() { results["grad." + name] = p.grad }
    return results.compactMapValues { $0?.detached() }
  }

  @Test(arguments: names)
  func matchesPyTorchOnOneAndTwoThreadsInBothPrecisions(_ name: String) throws {
    let fixture = try loadFixture("recurrent_large/\(name)")
    let metadata = try loadFixtureMetadata("recurrent_large/\(name)")
    let config = try JSONDecoder().decode(Config.self, from: Data(try #require(metadata["config"]).utf8))
    let lengths = fixture["lengths"] != nil ? try fixture.indices("lengths") : nil
    let keys = fixture.keys.filter { $0.hasSuffix(".norm") }.map { String($0.dropLast(5)) }.sorted()
    #expect(keys.count >= 6)

    let savedThreads = Kernels.numThreads
    defer { Kernels.numThreads = savedThreads }
    for precision in Kernels.MatmulPrecision.allCases {
      var byThreads: [[String: Tensor]] = []
      for threads in [1, 2] {
        Kernels.numThreads = threads
        let results = try Kernels.withMatmulPrecision(precision) { try Self.run(config, lengths: lengths) }
        byThreads.append(results)
        let tol = Self.tolerance(precision)
        for key in keys {
          let label = "\(name) \(precision) \(threads) thread(s) \(key)"
          let actual = try #require(results[key], "\(label): not computed").scalars
          let positions = try fixture.indices(key + ".index"), expected = try fixture.tensor(key + ".value").scalars
          let norm = Double(try fixture.tensor(key + ".norm").scalars[0])
          let rms = norm / Double(actual.count).squareRoot()
          #expect(rms > 0, "\(label): the reference is zero")
          var worst = (error: 0.0, position: 0)
          for (position, e) in zip(positions, expected) {
            let error = abs(Double(actual[position]) - Double(e)) / rms
            if !(error <= worst.error) { worst = (error, position) }
          }
          let actualNorm = actual.reduce(0.0) { $0 + Double($1) * Double($1) }.squareRoot()
          let normError = abs(actualNorm - norm) / norm
          #expect(worst.error <= tol.element || !Self.comparesElements(key, mode: config.mode, precision: precision), "\(label): element \(worst.position) off by \(worst.error) × rms")
          #expect(normError <= tol.norm, "\(label): norm \(actualNorm) vs \(norm) (relative error \(normError))")
        }
      }
      // Two threads split the work but compute every element the same way.
      for key in keys {
        #expect(byThreads[0][key]?.scalars.map(\.bitPattern) == byThreads[1][key]?.scalars.map(\.bitPattern),
                "\(name) \(precision) \(key): 1 and 2 threads differ")
      }
    }
  }
}
