import Foundation

/// How a confined run of an executable ended.
public enum ConfinedOutcome: Sendable, Equatable {
  /// The process exited with this status.
  case exited(Int32)
  /// The process was killed by this signal (a crash: trap, abort, segmentation fault…).
  case signalled(Int32)
  /// The process was still running at the deadline and was killed.
  case timedOut
}

/// The result of `runConfined`: how it ended, the first part of its output, and how long it took.
public struct ConfinedRun: Sendable {
  public var outcome: ConfinedOutcome
  /// Standard output, at most `ConfinedLimits.keptOutputBytes` of it.
  public var stdout: String
  /// Standard error, at most `ConfinedLimits.keptOutputBytes` of it.
  public var stderr: String
  public var seconds: Double
}

/// Limits of a confined run.
public struct ConfinedLimits: Sendable {
  /// Address-space limit (`ulimit -v`), in bytes.
  public var addressSpace: Int = 6 << 30
  /// Wall-clock limit, in seconds: past it the process is killed with SIGKILL.
  public var seconds: Double = 20
  /// Output kept per stream; the rest is read and dropped (a run may print without end).
  public static let keptOutputBytes = 1 << 16
  public init() {}
}

/// Runs `executable` with `arguments` in `directory` under an address-space limit and a deadline,
/// with `stdin` (or an empty standard input). The limit is set by `/bin/sh` (`ulimit -v`), which
/// then `exec`s the executable, so a signal that ends the executable is reported as such.
public func runConfined(_ executable: String, _ arguments: [String], in directory: URL, stdin: [UInt8]? = nil,
                        stdoutToDevFull: Bool = false, limits: ConfinedLimits = ConfinedLimits()) throws -> ConfinedRun {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: "/bin/sh")
  process.arguments = ["-c", "ulimit -v \(limits.addressSpace / 1024) && exec \"$0\" \"$@\"", executable] + arguments
  process.currentDirectoryURL = directory
  let out = Pipe(), err = Pipe()
  // Standard input comes from a file, not a pipe: a child that exits without reading it cannot
  // turn our write into a SIGPIPE that would end the test process.
  let inputURL = FileManager.default.temporaryDirectory.appendingPathComponent("recur-stdin-\(UUID().uuidString)")
  try Data(stdin ?? []).write(to: inputURL)
  defer { try? FileManager.default.removeItem(at: inputURL) }
  let input = try FileHandle(forReadingFrom: inputURL)
  defer { try? input.close() }
  let devFull = stdoutToDevFull ? FileHandle(forWritingAtPath: "/dev/full") : nil
  process.standardOutput = devFull ?? out
  process.standardError = err
  process.standardInput = input
  let start = Date()
  try process.run()
  if devFull != nil { try? out.fileHandleForWriting.close() }
  let collected = OutputCollector()
  let group = DispatchGroup()
  for (index, pipe) in [out, err].enumerated() {
    group.enter()
    DispatchQueue.global().async {
      let handle = pipe.fileHandleForReading
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        collected.append(chunk, to: index)
      }
      group.leave()
    }
  }
  var timedOut = false
  while process.isRunning {
    if Date().timeIntervalSince(start) > limits.seconds {
      kill(process.processIdentifier, SIGKILL)
      timedOut = true
      break
    }
    usleep(2_000)
  }
  process.waitUntilExit()
  group.wait()
  let outcome: ConfinedOutcome
  if timedOut {
    outcome = .timedOut
  } else if process.terminationReason == .uncaughtSignal {
    outcome = .signalled(process.terminationStatus)
  } else {
    outcome = .exited(process.terminationStatus)
  }
  let (o, e) = collected.texts
  return ConfinedRun(outcome: outcome, stdout: o, stderr: e, seconds: Date().timeIntervalSince(start))
}

/// The first bytes of two streams, filled from two reader threads.
private final class OutputCollector: @unchecked Sendable {
  private let lock = NSLock()
  private var data = [Data(), Data()]

  func append(_ chunk: Data, to index: Int) {
    lock.lock()
    defer { lock.unlock() }
    let room = ConfinedLimits.keptOutputBytes - data[index].count
    if room > 0 { data[index].append(chunk.prefix(room)) }
  }

  var texts: (String, String) {
    lock.lock()
    defer { lock.unlock() }
    return (String(decoding: data[0], as: UTF8.self), String(decoding: data[1], as: UTF8.self))
  }
}
