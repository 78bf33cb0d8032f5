import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A status line that rewrites itself in place on a terminal and degrades to plain periodic
/// lines when standard output is a file or a pipe (so logs stay readable: no carriage returns,
/// no escape codes, one line every `plainInterval` seconds).
///
/// Ordinary output goes through `print(_:)`, which clears the status line first and redraws it
/// after, so messages and the live line never overwrite each other.
final class ProgressLine {
  /// Where the line and the printed messages go.
  let stream: StandardStream
  /// Whether that stream is a terminal (`isatty`).
  let isTerminal: Bool
  /// Seconds between redraws on a terminal.
  let redrawInterval: Double
  /// Seconds between plain lines when not a terminal.
  let plainInterval: Double
  private var current = ""
  private var lastDraw = -Double.infinity
  private var lastPlain = -Double.infinity
  private var shown = false

  /// A progress line on `stream` (standard output by default; standard error when standard output
  /// carries machine-readable results).
  init(stream: StandardStream = .output, isTerminal: Bool? = nil, redrawInterval: Double = 0.2, plainInterval: Double = 10) {
    self.stream = stream
    self.isTerminal = isTerminal ?? (isatty(stream.descriptor) != 0)
    self.redrawInterval = redrawInterval
    self.plainInterval = plainInterval
  }

  /// Sets the status text; draws it when enough time has passed since the last draw (or `force`).
  func update(_ text: String, force: Bool = false) {
    current = text
    let now = Self.now()
    if isTerminal {
      guard force || now - lastDraw >= redrawInterval else { return }
      lastDraw = now
      write("\r\u{1B}[2K" + fitted(text))
      shown = true
    } else {
      guard force || now - lastPlain >= plainInterval else { return }
      lastPlain = now
      write(text + "\n")
    }
  }

  /// Prints `line` (may hold several lines) above the status line.
  func print(_ line: String) {
    if isTerminal && shown { write("\r\u{1B}[2K") }
    write(line.hasSuffix("\n") ? line : line + "\n")
    if isTerminal && shown && !current.isEmpty { write(fitted(current)) }
  }

  /// Ends the status line (leaves its last text on screen on a terminal).
  func finish() {
    if isTerminal && shown { write("\n") }
    shown = false
    current = ""
  }

  /// Cuts the text to the terminal width so it never wraps (a wrapped line cannot be rewritten).
  private func fitted(_ text: String) -> String {
    var size = winsize()
    guard ioctl(stream.descriptor, UInt(TIOCGWINSZ), &size) == 0, size.ws_col > 1 else { return text }
    let width = Int(size.ws_col) - 1
    return text.count <= width ? text : String(text.prefix(width))
  }

  private func write(_ text: String) {
    stream.write(text)
    stream.flush()
  }

  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

  /// `1:05:09`, `4:07` or `12s`.
  static func duration(_ seconds: Double) -> String {
    guard seconds.isFinite && seconds >= 0 else { return "?" }
    let s = Int(seconds.rounded())
    if s < 60 { return "\(s)s" }
    let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
    let two = { (v: Int) in v < 10 ? "0\(v)" : "\(v)" }
    return h > 0 ? "\(h):\(two(m)):\(two(r))" : "\(m):\(two(r))"
  }

  /// `812`, `12.3k`, `1.25M`.
  static func count(_ value: Double) -> String {
    if value >= 1e6 { return String(format: "%.2fM", value / 1e6) }
    if value >= 1e4 { return String(format: "%.1fk", value / 1e3) }
    return String(format: "%.0f", value)
  }
}
