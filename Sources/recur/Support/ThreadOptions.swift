import ArgumentParser
import Recur

/// `--threads`: the size of the kernels' thread pool, for every command that computes.
struct ThreadOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Compute threads (default: all cores).") var threads: Int?

  /// Checks --threads and sizes the kernels' thread pool to it (all cores when absent).
  func apply() throws {
    try requireThreadCount(threads, flag: "--threads")
    if let threads { Kernels.numThreads = threads }
  }
}
