import Foundation
import Recur

/// One configuration of `recur bench rnn` (the same ones Tools/Benchmarks/compare_torch.py runs).
struct RNNBenchConfig {
  var name: String
  var inputSize, hiddenSize, numLayers: Int
  var batch, seqLength: Int
  /// Vocabulary size for the char-LM configuration (embedding → LSTM → linear, cross-entropy, Adam).
  var vocabulary: Int? = nil
  var isCharLM: Bool { vocabulary != nil }

  static let all = [
    RNNBenchConfig(name: "small", inputSize: 64, hiddenSize: 128, numLayers: 1, batch: 32, seqLength: 64),
    RNNBenchConfig(name: "medium", inputSize: 128, hiddenSize: 256, numLayers: 2, batch: 64, seqLength: 100),
    RNNBenchConfig(name: "large", inputSize: 256, hiddenSize: 512, numLayers: 2, batch: 64, seqLength: 128),
    RNNBenchConfig(name: "charlm", inputSize: 64, hiddenSize: 512, numLayers: 2, batch: 32, seqLength: 100, vocabulary: 65),
    // Long sequences, where a parallel-scan layer (minGRU/minLSTM) pays off: equal width, batch 16.
    RNNBenchConfig(name: "long512", inputSize: 256, hiddenSize: 256, numLayers: 1, batch: 16, seqLength: 512),
    RNNBenchConfig(name: "long4096", inputSize: 256, hiddenSize: 256, numLayers: 1, batch: 16, seqLength: 4096),
  ]
  static func named(_ n: String) -> RNNBenchConfig? { all.first { $0.name == n } }
}

/// The layer a row times: a PyTorch-style recurrent layer or a parallel-scan one.
enum RNNBenchCell {
  case recurrent(RecurrentCellKind)
  case minimal(MinimalRecurrentKind)

  /// The names `--cell` accepts.
  static let names = ["rnn_tanh", "lstm", "gru", "mingru", "minlstm"]

  init?(_ name: String) {
    if let k = RecurrentCellKind(rawValue: name), Self.names.contains(name) { self = .recurrent(k) }
    else if let k = MinimalRecurrentKind(rawValue: name) { self = .minimal(k) }
    else { return nil }
  }

  var name: String {
    switch self {
    case .recurrent(let k): k.rawValue
    case .minimal(let k): k.rawValue
    }
  }

  func makeLayer(_ c: RNNBenchConfig) -> any SequenceLayer {
    switch self {
    case .recurrent(let k): RecurrentLayer.make(k, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, seed: 1)
    case .minimal(let k): MinimalRecurrentLayer(kind: k, inputSize: c.inputSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, seed: 1)
    }
  }
}

/// A measured row.
struct RNNBenchRow {
  var config, cell, mode: String
  var medianMs, tokensPerSecond, gflops, peakRSSMB: Double
  /// For the parallel-scan layers' training rows: median ms of the input GEMMs, of the pointwise
  /// gates and of the scan (forward and backward together).
  var phases: (gemm: Double, pointwise: Double, scan: Double)?

  static let header = "config  cell      mode    median ms    tokens/s   GFLOP/s  peak RSS MB"
  var tableLine: String {
    func pad(_ s: String, _ n: Int, right: Bool = false) -> String {
      s.count >= n ? s : (right ? String(repeating: " ", count: n - s.count) + s : s + String(repeating: " ", count: n - s.count))
    }
    return pad(config, 8) + pad(cell, 10) + pad(mode, 6) + pad(String(format: "%.2f", medianMs), 11, right: true)
      + pad(String(format: "%.0f", tokensPerSecond), 12, right: true) + pad(String(format: "%.1f", gflops), 10, right: true)
      + pad(String(format: "%.0f", peakRSSMB), 13, right: true)
      + (phases.map { String(format: "   GEMM %.2f ms, pointwise %.2f ms, scan %.2f ms", $0.gemm, $0.pointwise, $0.scan) } ?? "")
  }
  var json: [String: Any] {
    ["config": config, "cell": cell, "mode": mode, "median_ms": medianMs, "tokens_per_s": tokensPerSecond,
     "gflops": gflops, "peak_rss_mb": peakRSSMB]
      .merging(phases.map { ["phase_ms": ["gemm": $0.gemm, "pointwise": $0.pointwise, "scan": $0.scan]] } ?? [:]) { a, _ in a }
  }
}

/// Builds the model of one row and times it.
struct RNNBenchmark {
  var config: RNNBenchConfig
  var cell: RNNBenchCell
  var training: Bool

  /// Floating-point operations of one forward pass (matrix products only; backward ≈ 2× forward).
  var forwardFlops: Double {
    let H = Double(config.hiddenSize), rows = Double(config.batch * config.seqLength)
    var flops = 0.0
    for l in 0..<config.numLayers {
      let input = Double(l == 0 ? config.inputSize : config.hiddenSize)
      switch cell {
      case .recurrent(let k): flops += 2 * rows * Double(k.gateCount) * H * (input + H)
      case .minimal(let k): flops += 2 * rows * Double(k.gateCount) * H * input
      }
    }
    if let v = config.vocabulary { flops += 2 * rows * H * Double(v) }
    return flops
  }

  func measure(repeats: Int) throws -> RNNBenchRow {
    var g = RandomGenerator(seed: 1)
    let c = config
    let layer = cell.makeLayer(c)
    let x = Tensor.normal([c.seqLength, c.batch, c.inputSize], generator: &g)
    let target = Tensor.normal([c.seqLength, c.batch, c.hiddenSize], std: 0.5, generator: &g)
    let embedding = Embedding(count: c.vocabulary ?? 1, dimension: c.inputSize, generator: &g)
    let decoder = Linear(inputSize: c.hiddenSize, outputSize: c.vocabulary ?? 1, generator: &g)
    let tokens = (0..<(c.seqLength * c.batch)).map { _ in Int(g.next() % UInt64(c.vocabulary ?? 1)) }
    let targets = (0..<(c.seqLength * c.batch)).map { _ in Int(g.next() % UInt64(c.vocabulary ?? 1)) }
    let parameters = layer.parameters + (c.isCharLM ? embedding.parameters + decoder.parameters : [])
    let optimizer: any Optimizer = c.isCharLM ? Adam(parameters: parameters, learningRate: 2e-3)
                                              : SGD(parameters: parameters, learningRate: 1e-3)

    func forward() throws -> Tensor {
      let input = c.isCharLM ? embedding(tokens, shape: [c.seqLength, c.batch]) : x
      let output = try run(layer, input)
      if c.isCharLM { return decoder(output) }
      return output
    }
    func once() throws {
      if training {
        let out = try forward()
        let loss = c.isCharLM ? crossEntropy(logits: out.reshaped([-1, c.vocabulary!]), targets: targets) : mseLoss(out, target)
        optimizer.zeroGrad()
        loss.backward()
        optimizer.step()
      } else {
        _ = try withoutGradients { try forward() }
      }
    }
    let median = try medianMilliseconds(repeats: repeats, once)
    let flops = forwardFlops * (training ? 3 : 1)
    var phases: (gemm: Double, pointwise: Double, scan: Double)?
    if training, case .minimal(let kind) = cell { phases = try scanPhases(kind, repeats: repeats) }
    return RNNBenchRow(config: c.name, cell: cell.name, mode: training ? "train" : "infer", medianMs: median,
                       tokensPerSecond: Double(c.seqLength * c.batch) / (median / 1000), gflops: flops / (median / 1000) / 1e9,
                       peakRSSMB: peakResidentMegabytes(), phases: phases)
  }

  private func run(_ layer: any SequenceLayer, _ x: Tensor) throws -> Tensor {
    var context = ForwardContext(training: training, seed: 1)
    return try layer(x, state: nil, lengths: nil, context: &context).output
  }

  /// One layer's training phases, each timed alone on the row's shapes: the GEMMs (forward and
  /// the two of the backward), the pointwise gates and the scan (forward and backward).
  private func scanPhases(_ kind: MinimalRecurrentKind, repeats: Int) throws -> (gemm: Double, pointwise: Double, scan: Double) {
    let c = config
    let profile = MinimalScanProfile(kind: kind, steps: c.seqLength, batch: c.batch, inputSize: c.inputSize, hiddenSize: c.hiddenSize)
    let gemm = try medianMilliseconds(repeats: repeats) { profile.gemms() }
    let pointwise = try medianMilliseconds(repeats: repeats) { profile.gates() }
    let scan = try medianMilliseconds(repeats: repeats) { profile.scan() }
    return (gemm, pointwise, scan)
  }
}

/// Peak resident set size of this process so far, in MB (VmHWM from /proc/self/status, which —
/// unlike getrusage's ru_maxrss — is not inherited from the parent across exec).
func peakResidentMegabytes() -> Double {
  if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
     let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
     let kb = Double(line.split(separator: " ").dropFirst().first ?? "") {
    return kb / 1024
  }
  var usage = rusage()
  getrusage(RUSAGE_SELF.rawValue, &usage)
  return Double(usage.ru_maxrss) / 1024
}
