import Foundation

/// The result of running the built `recur` executable.
public struct RecurRun: Sendable {
  public var status: Int32
  public var stdout: String
  public var stderr: String
}

/// Path of the `recur` executable built next to the test bundle (works with `--scratch-path`).
public func recurExecutablePath() -> String {
  let testBinary = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
  var dir = testBinary.deletingLastPathComponent()
  // Inside an .xctest bundle directory on some layouts: walk up to the products directory.
  for _ in 0..<4 {
    let candidate = dir.appendingPathComponent("recur")
    if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate.path }
    dir = dir.deletingLastPathComponent()
  }
  return testBinary.deletingLastPathComponent().appendingPathComponent("recur").path
}

/// Runs `recur` with `arguments` (optionally in `directory`) and collects its exit status and output.
public func runRecur(_ arguments: [String], in directory: URL? = nil, environment: [String: String]? = nil) throws -> RecurRun {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: recurExecutablePath())
  process.arguments = arguments
  if let directory { process.currentDirectoryURL = directory }
  if let environment { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
  let out = Pipe(), err = Pipe()
  process.standardOutput = out
  process.standardError = err
  try process.run()
  // Read both pipes concurrently so a chatty child cannot block on a full pipe.
  nonisolated(unsafe) var errData = Data()
  let group = DispatchGroup()
  group.enter()
  DispatchQueue.global().async {
    errData = err.fileHandleForReading.readDataToEndOfFile()
    group.leave()
  }
  let outData = out.fileHandleForReading.readDataToEndOfFile()
  group.wait()
  process.waitUntilExit()
  return RecurRun(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                  stderr: String(decoding: errData, as: UTF8.self))
}

/// A fresh empty temporary directory.
public func makeTemporaryDirectory(_ label: String = "recur-test") throws -> URL {
  let url = FileManager.default.temporaryDirectory.appendingPathComponent("\(label)-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}
