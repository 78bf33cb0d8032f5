import Foundation

/// Reading a data file as UTF-8 text, with errors that name the file.
enum DataFile {
  /// The text of `url` and the name errors use for it (the last path component).
  static func text(_ url: URL) throws -> (text: String, source: String) {
    let source = url.lastPathComponent
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw DataError.unreadable(source: url.path, reason: (error as NSError).localizedDescription)
    }
    guard let text = String(data: data, encoding: .utf8) else {
      throw DataError.unreadable(source: url.path, reason: "not UTF-8 text; save it as UTF-8")
    }
    return (text, source)
  }

  /// The lines of `text` with their 1-based numbers; a trailing `\r` (CRLF files) and a leading
  /// byte-order mark are removed.
  static func lines(_ text: String) -> [(number: Int, text: Substring)] {
    var body = Substring(text)
    if body.first == "\u{FEFF}" { body = body.dropFirst() }
    var lines: [(Int, Substring)] = []
    var number = 0
    // Split on "\n" only: "\r\n" is one Character in Swift, so split on unicode scalars.
    for raw in body.unicodeScalars.split(separator: "\n", omittingEmptySubsequences: false) {
      number += 1
      var line = Substring(raw)
      if line.unicodeScalars.last == "\r" { line = Substring(line.unicodeScalars.dropLast()) }
      lines.append((number, line))
    }
    if let last = lines.last, last.1.isEmpty { lines.removeLast() }
    return lines
  }
}
