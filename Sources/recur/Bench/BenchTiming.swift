import ArgumentParser
import Foundation

/// Options shared by the `recur bench` subcommands that time layers (rnn, esn).
struct BenchRunOptions: ParsableArguments {
  @Option(help: "Threads for the kernels.")
  var threads = 2
  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func validate() throws {
    guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
  }
}

/// The median wall time in milliseconds of `repeats` calls of `body`, after one untimed warm-up call.
func medianMilliseconds(repeats: Int, _ body: () throws -> Void) rethrows -> Double {
  try body()
  var times: [Double] = []
  for _ in 0..<max(1, repeats) {
    let start = DispatchTime.now().uptimeNanoseconds
    try body()
    times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6)
  }
  return times.sorted()[times.count / 2]
}
