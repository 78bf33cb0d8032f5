import ArgumentParser
import Foundation
import Recur

/// `recur bench rnn`: forward (inference) and training-step speed of RNN/LSTM/GRU layers.
struct BenchRNN: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rnn",
    abstract: "Time RNN, LSTM, GRU, minGRU and minLSTM inference and training steps (time-major, float32 tensors).",
    discussion: """
      Configurations: small (input 64, hidden 128, 1 layer, batch 32, seq 64), medium (128, 256, 2 layers, \
      batch 64, seq 100), large (256, 512, 2 layers, batch 64, seq 128), charlm (embedding 64 → LSTM 512 × 2, \
      vocab 65, batch 32, seq 100, cross-entropy, Adam), long512 and long4096 (256, 256, 1 layer, batch 16, \
      seq 512 or 4,096: where the parallel-scan minGRU/minLSTM pay off; their training rows also print the \
      time of each phase: GEMMs, pointwise gates, scan). Training = forward + backward + optimiser step \
      (MSE loss and SGD, except charlm). Prints median ms, tokens/s and GFLOP/s.
      """
  )

  @Option(help: "Configurations to run (comma-separated): small, medium, large, charlm, long512, long4096.") var config = "small,medium,large,charlm"
  @Option(help: "Cells to run (comma-separated): rnn_tanh, lstm, gru, mingru, minlstm.") var cell = "rnn_tanh,lstm,gru"
  @Option(help: "Modes to run (comma-separated): infer, train.") var mode = "infer,train"
  @OptionGroup var common: BenchRunOptions
  @Option(help: "Timed repetitions per row (after one warm-up).") var repeats = 7
  @Option(name: .customLong("matmul-precision"), help: ArgumentHelp("highest (float32) or medium (bfloat16 products where the CPU has AVX512_BF16).", valueName: "highest|medium")) var matmulPrecision: Kernels.MatmulPrecision = .highest

  func validate() throws {
    try BenchLimits.check(repeats: repeats)
    for c in list(config) where RNNBenchConfig.named(c) == nil {
      throw ValidationError("unknown configuration '\(c)'; choose from \(RNNBenchConfig.all.map(\.name).joined(separator: ", "))")
    }
    for c in list(cell) where RNNBenchCell(c) == nil {
      throw ValidationError("unknown cell '\(c)'; choose from \(RNNBenchCell.names.joined(separator: ", "))")
    }
    for m in list(mode) where !["infer", "train"].contains(m) {
      throw ValidationError("unknown mode '\(m)'; choose from infer, train")
    }
  }

  private func list(_ s: String) -> [String] { s.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }

  var threads: Int { common.threads }
  var json: Bool { common.json }

  func run() throws {
    Kernels.numThreads = threads
    Kernels.matmulPrecision = matmulPrecision
    var rows: [RNNBenchRow] = []
    let precision = matmulPrecision == .medium ? (Kernels.bfloat16Available ? ", bfloat16 matmuls" : ", float32 matmuls (no AVX512_BF16)") : ""
    if !json {
      print("recur bench rnn — \(Kernels.isa)\(precision), \(threads) thread(s), median of \(repeats)")
      print(RNNBenchRow.header)
    }
    for name in list(config) {
      let cfg = RNNBenchConfig.named(name)!
      let cells = cfg.isCharLM ? ["lstm"] : list(cell)
      for c in cells {
        for m in list(mode) {
          let row = try RNNBenchmark(config: cfg, cell: RNNBenchCell(c)!, training: m == "train").measure(repeats: repeats)
          rows.append(row)
          if !json { print(row.tableLine); StandardStream.output.flush() }
        }
      }
    }
    if json {
      let data = try JSONSerialization.data(withJSONObject: ["isa": Kernels.isa, "threads": threads, "matmul_precision": matmulPrecision.rawValue,
                                                                 "bfloat16": matmulPrecision == .medium && Kernels.bfloat16Available, "rows": rows.map(\.json)],
                                            options: [.prettyPrinted, .sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }
}
