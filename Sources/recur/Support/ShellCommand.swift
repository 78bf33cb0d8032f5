import Foundation

/// How to invoke this executable in printed commands: `swift run -c release recur` when it was
/// started from a SwiftPM build directory, else its path.
var invocation: String {
  let path = CommandLine.arguments.first ?? "recur"
  if path.contains("/.build") { return "swift run -c release recur" }
  return path.contains("/") ? path : "recur"
}

/// Quotes a path for a shell command when needed.
func shellQuoted(_ s: String) -> String {
  let safe = s.allSatisfy { $0.isLetter || $0.isNumber || "/._-+:=,@".contains($0) }
  return safe && !s.isEmpty ? s : "'" + s.replacingOccurrences(of: "'", with: "'\\''") + "'"
}
