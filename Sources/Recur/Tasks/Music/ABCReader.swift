import Foundation

/// Reads tunes in ABC notation (the subset folk-tune collections use, ABC 2.1 semantics).
///
/// Header: `X:` first (required), any fields up to `K:` (which ends the header and is required);
/// `M:`, `L:`, `Q:` and `K:` are interpreted, every other field is kept as text. `L:` defaults
/// as the standard says (1/16 below a metre of 0.75, else 1/8). Body: notes with accidentals
/// (`^ ^^ _ __ =`), octave marks (`'` `,`) and lengths (`3`, `/`, `//`, `3/2`); rests `z x`,
/// whole-bar rests `Z`; bar lines and repeats (`| || |] [| |: :| :: [1 |2`); broken rhythm
/// (`> < >> <<`); tuplets `(3`, `(p:q:r`; chords `[CEG]` (the first note's length, times the
/// length after `]`); ties; grace notes `{…}` (no time); quoted chord symbols and annotations,
/// `!…!` and `+…+` decorations, `.~HLMOPSTuv` decorations and slurs (skipped); inline and body
/// fields changing `K:`, `M:`, `L:`; comments `%` and line continuations `\`. Key signatures and
/// accidentals are applied to the pitches (an accidental lasts to the end of its bar, for that
/// letter and octave).
///
/// A text the reader cannot read is an `ABCError` naming the line and column; a tune that reads
/// but breaks a rule of well-formedness (missing `M:`, a bar longer than the metre) is for
/// `ABCValidity` to report.
public enum ABCReader {
  /// The most notes, rests and bars one tune may have (a bound for hostile input).
  public static let maximumElements = 1_000_000

  /// The tunes of `text`: blocks separated by blank lines, each starting at its `X:` line.
  /// Blocks without an `X:` field (free text, comments) are not tunes and are left out.
  /// - Returns: each tune's text and the 1-based line of its `X:`.
  public static func tuneBlocks(_ text: String) -> [(text: String, line: Int)] {
    var blocks: [(text: String, line: Int)] = []
    var current: [Substring] = []
    var start = 0
    func flush() {
      defer { current = [] }
      guard let x = current.firstIndex(where: { isField($0, "X") }) else { return }
      blocks.append((current[x...].joined(separator: "\n") + "\n", start + x))
    }
    var lineNumber = 0
    for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
      lineNumber += 1
      let trimmed = line.hasSuffix("\r") ? line.dropLast() : line
      if trimmed.allSatisfy({ $0 == " " || $0 == "\t" }) {
        flush()
        continue
      }
      if current.isEmpty { start = lineNumber }
      current.append(trimmed)
    }
    flush()
    return blocks
  }

  /// Reads one tune (a block as `tuneBlocks` gives it).
  /// - Parameters:
  ///   - text: the tune, from its `X:` line.
  ///   - source: a file path or name for error messages.
  ///   - firstLine: the line number of the tune's first line in `source`.
  /// - Throws: `ABCError` at the first thing it cannot read.
  public static func readTune(_ text: String, source: String = "tune", firstLine: Int = 1) throws -> ABCTune {
    var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.hasSuffix("\r") ? $0.dropLast() : $0 }
    while let last = lines.last, last.allSatisfy({ $0 == " " || $0 == "\t" }) { lines.removeLast() }
    func fail(_ index: Int, _ problem: String) -> ABCError { ABCError(source: source, line: firstLine + index, problem: problem) }

    // Header: X: first, fields up to K:.
    var header: [ABCTune.Field] = []
    var index = 0
    while index < lines.count, isCommentOrDirective(lines[index]) { index += 1 }
    guard index < lines.count, isField(lines[index], "X") else {
      throw fail(min(index, max(lines.count - 1, 0)), "a tune must start with its X: field (reference number), e.g. X:1")
    }
    var metre: ABCMetre?
    var unit: MusicFraction?
    var key: ABCKey?
    var tempo = 120.0
    while index < lines.count {
      let line = lines[index]
      if isCommentOrDirective(line) { index += 1; continue }
      guard let (letter, value) = fieldParts(line) else {
        throw fail(index, "expected a header field (a letter and a colon, e.g. M:6/8) before K:; the header ends with K:")
      }
      header.append(ABCTune.Field(letter: letter, value: value))
      do {
        switch letter {
        case "M": metre = try ABCMetre.parse(value)
        case "L": unit = try parseUnitLength(value)
        case "Q": tempo = try parseTempo(value, unit: unit ?? (metre ?? ABCMetre(4, 4)).defaultUnitNoteLength)
        case "K": key = try ABCKey.parse(value)
        default: break
        }
      } catch let message as ABCMessage {
        throw fail(index, message.text)
      }
      index += 1
      if letter == "K" { break }
    }
    guard let key else { throw fail(lines.count - 1, "the header has no K: field (key), which must end the header, e.g. K:G") }
    let referenceText = header[0].value.split(separator: "%").first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
    guard let reference = Int(referenceText), reference >= 0 else {
      throw fail(0, "X: \"\(header[0].value)\" is not a reference number; write X: followed by a whole number ≥ 0")
    }
    let unitLength = unit ?? (metre ?? .free).defaultUnitNoteLength
    var body = ABCBodyReader(source: source, metre: metre ?? .free, unit: unitLength, key: key)
    while index < lines.count {
      try body.read(line: lines[index], number: firstLine + index)
      index += 1
    }
    let bars = try body.finish(lastLine: firstLine + max(lines.count - 1, 0))
    return ABCTune(header: header, referenceNumber: reference, metre: metre, unitNoteLength: unitLength,
                   hasExplicitUnitNoteLength: unit != nil, key: key, quartersPerMinute: tempo, bars: bars, line: firstLine)
  }

  // MARK: - Fields

  static func isCommentOrDirective<S: StringProtocol>(_ line: S) -> Bool { line.hasPrefix("%") }

  static func isField<S: StringProtocol>(_ line: S, _ letter: Character) -> Bool {
    guard let parts = fieldParts(line) else { return false }
    return parts.letter == letter
  }

  /// `"T: Title"` → ("T", "Title"); nil when the line is not a field.
  static func fieldParts<S: StringProtocol>(_ line: S) -> (letter: Character, value: String)? {
    var iterator = line.makeIterator()
    guard let letter = iterator.next(), letter.isASCII, letter.isLetter, iterator.next() == ":" else { return nil }
    return (letter, String(line.dropFirst(2)).trimmingCharacters(in: .whitespaces))
  }

  static func parseUnitLength(_ value: String) throws -> MusicFraction {
    let text = value.split(separator: "%", maxSplits: 1, omittingEmptySubsequences: false).first.map {
      $0.trimmingCharacters(in: .whitespaces) } ?? ""
    let parts = text.split(separator: "/", omittingEmptySubsequences: false)
    if parts.count == 2, let n = Int(parts[0]), let d = Int(parts[1]), (1...64).contains(n), (1...1024).contains(d),
       let fraction = MusicFraction(n, d) {
      return fraction
    }
    if parts.count == 1, let n = Int(parts[0]), n == 1 { return .one }
    throw ABCMessage("L: \"\(value)\" is not a note length; write it as 1/8, 1/16 or 1/4")
  }

  /// `Q:1/4=120`, `Q:3/8=100`, `Q:"Allegro" 1/4=120` → quarter notes per minute; a bare `Q:120`
  /// counts unit notes per minute (ABC 1.6). Text alone (`Q:"Slow"`) keeps the default 120.
  static func parseTempo(_ value: String, unit: MusicFraction) throws -> Double {
    var text = value
    while let open = text.firstIndex(of: "\""), let close = text[text.index(after: open)...].firstIndex(of: "\"") {
      text.removeSubrange(open...close)
    }
    text = text.trimmingCharacters(in: .whitespaces)
    if text.isEmpty { return 120 }
    let sides = text.split(separator: "=", omittingEmptySubsequences: false)
    func bpm(_ s: Substring) -> Double? {
      guard let v = Double(s.trimmingCharacters(in: .whitespaces)), v.isFinite, v >= 1, v <= 10_000 else { return nil }
      return v
    }
    if sides.count == 1, let n = bpm(sides[0]) { return n * unit.doubleValue * 4 }
    if sides.count == 2, let n = bpm(sides[1]) {
      var beat = 0.0
      for term in sides[0].split(separator: " ") {
        let f = term.split(separator: "/")
        guard f.count == 2, let a = Int(f[0]), let b = Int(f[1]), (1...64).contains(a), (1...1024).contains(b) else {
          throw ABCMessage("Q: \"\(value)\" is not a tempo; write it as 1/4=120")
        }
        beat += Double(a) / Double(b)
      }
      if beat > 0 { return n * beat * 4 }
    }
    throw ABCMessage("Q: \"\(value)\" is not a tempo; write it as 1/4=120")
  }
}
