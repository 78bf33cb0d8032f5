import Foundation
import Recur

#if canImport(Glibc)
import Glibc
#endif

/// The corpus at `path`, or the bundled one when nil or "bundled:…".
func loadCorpus(_ path: String?) throws -> TextCorpus {
  guard let path, !path.hasPrefix("bundled:") else { return try TextCorpus.bundled() }
  return try TextCorpus.load(path: path)
}

/// Checks that `path` names an existing file (not a directory), with a message naming `what`.
func checkReadableFile(_ path: String, what: String) throws {
  var isDirectory: ObjCBool = false
  guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
    throw CLIError("\(what) \(path) does not exist; pass the path of a .safetensors file written by recur (e.g. runs/char-lm/best.safetensors)")
  }
  if isDirectory.boolValue {
    throw CLIError("\(what) \(path) is a directory; pass a .safetensors file inside it (e.g. \(path)/best.safetensors)")
  }
}

/// Reads a model archive, with messages for a missing path and a directory.
func loadArchive(_ path: String) throws -> ModelArchive {
  try checkReadableFile(path, what: "checkpoint")
  return try ModelArchive.read(from: URL(fileURLWithPath: path))
}

/// Checks that `url` is, or can be created as, a writable directory — without leaving anything
/// behind (a probe file is created and removed, which also catches read-only file systems and
/// runs as root, where permission bits say nothing).
func checkWritableDirectory(_ url: URL) throws {
  let fm = FileManager.default
  var probeDirectory = url.standardizedFileURL
  var isDirectory: ObjCBool = false
  // The directory itself, or its nearest existing ancestor (where it would be created).
  while !fm.fileExists(atPath: probeDirectory.path, isDirectory: &isDirectory) {
    let parent = probeDirectory.deletingLastPathComponent()
    if parent.path == probeDirectory.path { break }
    probeDirectory = parent
  }
  guard isDirectory.boolValue else {
    let what = probeDirectory.path == url.standardizedFileURL.path ? "exists and is not a directory" : "cannot be created: \(probeDirectory.path) is a file"
    throw CLIError("output directory \(url.path) \(what); choose another --out")
  }
  let probe = probeDirectory.appendingPathComponent(".recur-write-test-\(getpid())").path
  let fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0o600)
  guard fd >= 0 else {
    let reason = String(cString: strerror(errno))
    throw CLIError("output directory \(url.path) cannot be written (\(probeDirectory.path): \(reason)); choose another --out or fix its permissions")
  }
  close(fd)
  unlink(probe)
}

/// Seconds from `300`, `90s`, `5m`, `4m30s`, `1h30m`, `2.5m`.
func parseDuration(_ text: String) throws -> Double {
  let bad = CLIError("--time-limit \"\(text)\" is not a duration; write e.g. 300, 90s, 5m, 4m30s or 1h")
  if let plain = Double(text) {
    guard plain > 0 && plain.isFinite else { throw CLIError("--time-limit must be positive, got \(text)") }
    return plain
  }
  var total = 0.0
  var number = ""
  var sawUnit = false
  for ch in text.lowercased() {
    if ch.isNumber || ch == "." {
      number.append(ch)
    } else {
      guard let value = Double(number) else { throw bad }
      switch ch {
      case "h": total += value * 3600
      case "m": total += value * 60
      case "s": total += value
      default: throw bad
      }
      number = ""
      sawUnit = true
    }
  }
  guard sawUnit, number.isEmpty, total > 0, total.isFinite else { throw bad }
  return total
}
