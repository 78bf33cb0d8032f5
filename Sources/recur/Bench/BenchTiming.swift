import Recur
import ArgumentParser
import Foundation

/// Options shared by the `recur bench` subcommands that time layers (rnn, esn).
struct BenchRunOptions: ParsableArguments {
  @Option(help: "Threads for the kernels.")
  var threads = 2
  @Flag(help: "Print JSON instead of a table.")
  var json = false

  func validate() throws {
    guard threads >= 1, threads <= Kernels.maximumThreads else {
      throw ValidationError("--threads must be between 1 and \(Kernels.maximumThreads) (the kernels' thread pool), got \(threads)")
    }
  }
}

/// Upper bounds of the benchmarks' flags: a benchmark measures, it does not run for days.
enum BenchLimits {
  /// Timed repetitions per row.
  static let repeats = 1_000
  /// Seconds behind one median.
  static let seconds = 60.0

  /// Throws unless `repeats` is in 1…`BenchLimits.repeats`.
  static func check(repeats: Int) throws {
    guard repeats >= 1, repeats <= Self.repeats else {
      throw ValidationError("--repeats must be between 1 and \(Self.repeats), got \(repeats)")
    }
  }

  /// Throws unless `floats` float32 values (nil: an overflowing count) fit half the memory budget.
  static func check(floats: SizeTally, what: String, flags: String) throws {
    let limit = MemoryBudget.bytes / 2 / 4
    guard let n = floats.total, n <= limit else {
      throw ValidationError("\(flags) ask for \(floats.total.map { "\($0)" } ?? "too many") float values for \(what); at most \(limit) fit in "
        + "\(MemoryBudget.describe(bytes: MemoryBudget.bytes)); use smaller values")
    }
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
