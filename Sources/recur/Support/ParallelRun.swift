#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif
import Foundation
import Recur

/// The command line's side of a data-parallel run (`mpirun -np N recur train …`): rank 0 alone
/// talks on standard output; a process that fails takes the others down with it; a finished run
/// leaves MPI in order.
enum ParallelRun {
  /// Sends the standard output of ranks other than 0 to /dev/null (errors still reach standard error).
  static func quietOtherRanks() {
    guard let rank = ProcessGroup.launcherRank(in: ProcessInfo.processInfo.environment), rank != 0 else { return }
    let null = open("/dev/null", O_WRONLY)
    if null >= 0 {
      dup2(null, STDOUT_FILENO)
      close(null)
    }
  }

  /// After a failure has been reported: ends every process of the run (they would wait for this
  /// one at their next exchange).
  static func abortOthers() {
    guard let group = ProcessGroup.started, group.size > 1 else { return }
    StandardStream.error.flush()
    group.abort(code: 1)
  }

  /// After a successful command: leaves MPI (every process reaches this together).
  static func finish() {
    guard let group = ProcessGroup.started else { return }
    do {
      try group.finalize()
    } catch {
      StandardStream.error.write("warning: \(error)\n")
    }
  }
}
