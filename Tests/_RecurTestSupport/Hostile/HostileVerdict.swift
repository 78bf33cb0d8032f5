import Foundation
import Recur

/// Runs one hostile case and judges it: a non-zero exit (1, or 64 for usage errors) whose first
/// line on standard error says what is wrong and that left the directory as it was, or exit 0
/// with no non-finite number in a report; never a signal, never a timeout.
public enum HostileVerdict {
  /// Commands whose standard output is generated text (where "nan" may be a word, not a number).
  /// (`inspect` shows the numbers of a file as they are: a NaN there is the truth.)
  /// `train` prints samples of generated text too.
  static let freeTextCommands: Set<String> = ["generate", "predict", "inspect", "train"]

  /// Runs `hostileCase` with `executable` in a fresh directory under `scratch`; returns the run
  /// and the problem found (nil: the case passed). The directory is removed afterwards.
  public static func run(_ hostileCase: HostileCase, executable: String, scratch: URL,
                         limits: ConfinedLimits = ConfinedLimits()) throws -> (run: ConfinedRun, problem: String?) {
    let dir = scratch.appendingPathComponent(UUID().uuidString)
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    for (name, bytes) in hostileCase.files {
      let url = dir.appendingPathComponent(name)
      if name.hasSuffix("/keep") {  // a directory standing where a file would go
        try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
        continue
      }
      try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
      try Data(bytes).write(to: url)
    }
    let before = try snapshot(dir)
    let run = try runConfined(executable, hostileCase.arguments, in: dir, stdin: hostileCase.stdin ?? [],
                              stdoutToDevFull: hostileCase.stdoutToDevFull, limits: limits)
    let after = try snapshot(dir)
    if var found = problem(run, hostileCase, before: before, after: after) {
      if hostileCase.stdoutToDevFull { found += " (standard output was /dev/full)" }
      return (run, found)
    }
    if run.outcome == .exited(0) {
      if hostileCase.stdoutToDevFull { return (run, "exit 0 although every write to standard output failed (/dev/full)") }
      if let bad = nonFiniteOutput(in: dir, created: after.keys.filter { before[$0] == nil }) { return (run, bad) }
    }
    return (run, nil)
  }

  static func problem(_ run: ConfinedRun, _ hostileCase: HostileCase, before: [String: String], after: [String: String]) -> String? {
    switch run.outcome {
    case .signalled(let signal):
      return "killed by signal \(signal); stderr: \(run.stderr.suffix(300))"
    case .timedOut:
      return "still running after the deadline (a hang)"
    case .exited(0):
      let words = Set(hostileCase.arguments.prefix(2))
      if words.isDisjoint(with: freeTextCommands), let bad = nonFiniteNumber(in: run.stdout) {
        return "exit 0 but the output holds \(bad): \(run.stdout.prefix(200))"
      }
      return nil
    case .exited(let status):
      let first = run.stderr.split(separator: "\n", omittingEmptySubsequences: true).first.map(String.init) ?? ""
      if status != 1 && status != 64 { return "exit \(status) (expected 1, or 64 for a usage error); stderr: \(first)" }
      let lower = first.lowercased()
      if !lower.hasPrefix("error: ") || first.count < 16 { return "exit \(status) with a first stderr line that is no error message: \(first.prefix(200))" }
      let created = after.keys.filter { before[$0] == nil }.sorted()
      if !created.isEmpty && !(first.contains("(training diverged)") && created.allSatisfy { after[$0] == "dir" || $0.hasSuffix(".safetensors") || $0.hasSuffix(".jsonl") }) {
        // The one documented exception: training that diverges keeps the checkpoints of its
        // last good evaluation (README: "the last good checkpoint is left as it was").
        return "failed (\(first.prefix(120))) but left new files: \(created.joined(separator: ", "))"
      }
      let changed = before.keys.filter { after[$0] != nil && after[$0] != before[$0] }.sorted()
      if !changed.isEmpty { return "failed (\(first.prefix(120))) but changed: \(changed.joined(separator: ", "))" }
      return nil
    }
  }

  /// The first file among `created` (paths relative to `dir`) that holds a non-finite number:
  /// `.npy` arrays by value, text outputs (`.csv`, `.json`, `.jsonl`) by their words.
  static func nonFiniteOutput(in dir: URL, created: [String]) -> String? {
    for path in created.sorted() {
      let url = dir.appendingPathComponent(String(path.drop { $0 == "/" }))
      switch url.pathExtension {
      case "npy":
        if let array = try? NumPyArray.read(from: url), !array.tensor.isFinite { return "exit 0 but \(path) holds NaN or infinity" }
      case "csv", "json", "jsonl":
        if let text = try? String(contentsOf: url, encoding: .utf8), let bad = nonFiniteNumber(in: text) {
          return "exit 0 but \(path) holds \(bad)"
        }
      default:
        break
      }
    }
    return nil
  }

  /// Every path under `dir` (relative) with its size and modification time.
  static func snapshot(_ dir: URL) throws -> [String: String] {
    var result: [String: String] = [:]
    let keys: [URLResourceKey] = [.fileSizeKey, .contentModificationDateKey, .isDirectoryKey]
    guard let walker = FileManager.default.enumerator(at: dir, includingPropertiesForKeys: keys) else { return [:] }
    let base = dir.standardizedFileURL.path
    for case let url as URL in walker {
      let values = try url.resourceValues(forKeys: Set(keys))
      let path = String(url.standardizedFileURL.path.dropFirst(base.count))
      result[path] = values.isDirectory == true ? "dir" : "\(values.fileSize ?? -1) \(values.contentModificationDate?.timeIntervalSince1970 ?? 0)"
    }
    return result
  }

  /// The first "nan" or "inf" standing as a number in `text`.
  static func nonFiniteNumber(in text: String) -> String? {
    let pattern = try! NSRegularExpression(pattern: "(?i)(?<![A-Za-z])[-+]?(nan|inf|infinity)(?![A-Za-z])")
    let range = NSRange(text.startIndex..., in: text)
    guard let match = pattern.firstMatch(in: text, range: range), let r = Range(match.range, in: text) else { return nil }
    return String(text[r])
  }
}
