import ArgumentParser
import Foundation
import Recur

/// `recur bench esn`: echo-state network speed (the double-precision reservoir kernels).
struct BenchESN: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "esn",
    abstract: "Time echo-state network reservoir steps, teacher-forced prediction and ridge fits (float64).",
    discussion: """
      For each reservoir size: a sparse reservoir (recurrent connectivity 0.1, as `recur forecast --model esn` \
      and ReservoirPy use by default; leak rate 0.3, spectral radius 1.25, one input, no bias) driven by a \
      sine for --steps steps. Rows: run (states kept, steps/s), predict (teacher-forced: the read-out \
      applied at every step, states not kept, steps/s), fit (run + Gram matrix accumulated while the \
      reservoir runs + ridge solve, ms, the first 10 % of steps as warm-up) and ridge (Gram + cross \
      products + Cholesky on precomputed states, ms). Building the reservoir (spectral radius) is not timed.
      """
  )

  @Option(help: "Reservoir sizes (comma-separated).")
  var units = "500,2000"
  @Option(help: "Time steps per run.")
  var steps = 5000
  @Option(help: "Recurrent connectivity (fraction of non-zero weights).")
  var connectivity = 0.1
  @OptionGroup var common: BenchRunOptions
  @Option(help: "Timed repetitions per row (after one warm-up); the median is reported.")
  var repeats = 5

  func validate() throws {
    try BenchLimits.check(repeats: repeats)
    guard steps >= 20 else { throw ValidationError("--steps must be at least 20, got \(steps)") }
    guard connectivity > 0, connectivity <= 1 else { throw ValidationError("--connectivity must be in (0, 1], got \(connectivity)") }
    guard !sizes.isEmpty, sizes.allSatisfy({ $0 >= 1 }) else {
      throw ValidationError("--units takes positive sizes separated by commas, got '\(units)'")
    }
    for size in sizes {
      // The states of every step (double precision) and the sparse recurrent matrix.
      var floats = SizeTally()
      floats.add(2, size, steps)
      floats.add(product: [size, size, Int((connectivity * 3).rounded(.up))])
      try BenchLimits.check(floats: floats, what: "a reservoir of \(size) units run for \(steps) steps", flags: "--units and --steps")
    }
  }

  private var sizes: [Int] { units.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) } }

  var threads: Int { common.threads }
  var json: Bool { common.json }

  func run() throws {
    Kernels.numThreads = threads
    if !json {
      print("recur bench esn — reservoir kernels: \(Reservoir.kernelISA), \(threads) thread(s), \(steps) steps, median of \(repeats)")
      print(ESNBenchRow.header)
    }
    var rows: [ESNBenchRow] = []
    for n in sizes {
      let row = try measure(units: n)
      rows.append(row)
      if !json { print(row.tableLine); StandardStream.output.flush() }
    }
    if json {
      let object: [String: Any] = ["isa": Reservoir.kernelISA, "threads": threads, "steps": steps,
                                   "connectivity": connectivity, "rows": rows.map(\.json)]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }

  private func measure(units n: Int) throws -> ESNBenchRow {
    var reservoir = try Reservoir(units: n, leakRate: 0.3, spectralRadius: 1.25, inputScaling: 1,
                                  recurrentConnectivity: connectivity, seed: 1)
    try reservoir.initialize(inputSize: 1)
    let series = (0...steps).map { t in sin(Double(t) * 0.05) + 0.3 * sin(Double(t) * 0.173) }
    let inputs = DoubleMatrix(column: Array(series[0..<steps]))
    let targets = DoubleMatrix(column: Array(series[1...steps]))
    let warmup = steps / 10

    func median(_ body: () throws -> Void) rethrows -> Double { try medianMilliseconds(repeats: repeats, body) }

    let runMs = try median { _ = try reservoir.run(inputs) }
    var esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(ridge: 1e-7))
    let fitMs = try median { try esn.fit(inputs: inputs, targets: targets, warmup: warmup) }
    let predictMs = try median { _ = try esn.predict(inputs: inputs) }
    let states = try reservoir.run(inputs).states
    var ridge = Ridge(ridge: 1e-7)
    let ridgeMs = try median { try ridge.fit(features: states, targets: targets) }
    return ESNBenchRow(units: n, nonZeros: reservoir.recurrentNonZeros, steps: steps, runMs: runMs,
                       predictMs: predictMs, fitMs: fitMs, ridgeMs: ridgeMs)
  }
}

/// A measured row of `recur bench esn`.
struct ESNBenchRow {
  var units: Int
  var nonZeros: Int
  var steps: Int
  var runMs: Double
  var predictMs: Double
  var fitMs: Double
  var ridgeMs: Double

  var runStepsPerSecond: Double { Double(steps) / (runMs / 1000) }
  var predictStepsPerSecond: Double { Double(steps) / (predictMs / 1000) }

  static let header = "units   non-zeros    run ms   run steps/s   predict steps/s    fit ms   ridge ms"
  var tableLine: String {
    func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : String(repeating: " ", count: n - s.count) + s }
    return pad(String(units), 5) + pad(String(nonZeros), 12) + pad(String(format: "%.2f", runMs), 10)
      + pad(String(format: "%.0f", runStepsPerSecond), 14) + pad(String(format: "%.0f", predictStepsPerSecond), 18)
      + pad(String(format: "%.2f", fitMs), 10) + pad(String(format: "%.2f", ridgeMs), 11)
  }
  var json: [String: Any] {
    ["units": units, "non_zeros": nonZeros, "steps": steps, "run_ms": runMs, "run_steps_per_s": runStepsPerSecond,
     "predict_ms": predictMs, "predict_steps_per_s": predictStepsPerSecond, "fit_ms": fitMs, "ridge_ms": ridgeMs]
  }
}
