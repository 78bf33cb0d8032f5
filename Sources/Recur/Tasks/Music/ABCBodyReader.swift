/// The tune body of `ABCReader`: a state machine fed one line at a time that turns the melody
/// into bars of notes.
struct ABCBodyReader {
  let source: String
  var metre: ABCMetre
  var unit: MusicFraction
  var key: ABCKey
  var bars: [ABCTune.Bar] = []
  var current: ABCTune.Bar
  /// Accidentals written in the current bar: letter·16 + octave + 2 → semitones.
  var barAccidentals: [Int: Int] = [:]
  /// An open tuplet: notes still to take the multiplier.
  var tuplet: (remaining: Int, multiplier: MusicFraction)?
  /// The multiplier a broken rhythm (`>`/`<`) leaves for the next note.
  var brokenNext: MusicFraction?
  /// The endings in force (from `[1` until a section's bar line).
  var endings: [Int] = []
  var elements = 0
  var metreChanged = false

  // Where we are, for errors.
  var lineNumber = 0
  var chars: [Character] = []
  var position = 0

  init(source: String, metre: ABCMetre, unit: MusicFraction, key: ABCKey) {
    self.source = source
    self.metre = metre
    self.unit = unit
    self.key = key
    current = ABCTune.Bar(notes: [], metre: metre, opening: nil, closing: nil, endings: [], startsEnding: false, line: 1, duration: .zero)
  }

  func error(_ problem: String, column: Int? = nil) -> ABCError {
    ABCError(source: source, line: lineNumber, column: (column ?? position) + 1, problem: problem)
  }

  // MARK: - Lines

  mutating func read<S: StringProtocol>(line: S, number: Int) throws {
    lineNumber = number
    chars = Array(line)
    position = 0
    if ABCReader.isCommentOrDirective(line) { return }
    if let (letter, value) = ABCReader.fieldParts(line), !value.hasPrefix("|"), !value.hasPrefix(":") {
      try applyField(letter, value)
      return
    }
    while position < chars.count {
      let c = chars[position]
      switch c {
      case " ", "\t", "`", "\\", "y", ")":
        position += 1
      case "%":
        position = chars.count
      case "\"":
        try skip(to: "\"", what: "quoted text (a chord symbol or annotation)", closing: "\"")
      case "!":
        try skip(to: "!", what: "decoration", closing: "!")
      case "+":
        try plusGroup()
      case ".", "~", "H", "L", "M", "O", "P", "S", "T", "u", "v":
        position += 1
      case "{":
        try graceNotes()
      case "(":
        try tupletOrSlur()
      case "[":
        try bracket()
      case "|", ":":
        try barLine()
      case "-":
        try tie()
      case ">", "<":
        try brokenRhythm()
      case "z", "x":
        position += 1
        try addNote(pitches: [], written: try length())
      case "Z", "X":
        position += 1
        let count = try self.number(limit: 10_000) ?? 1
        try addNote(pitches: [], written: nil, absolute: try multiply(metre.barLength, MusicFraction(count, 1)!))
      case "^", "_", "=", "A"..."G", "a"..."g":
        let (pitch, written) = try note()
        try addNote(pitches: [pitch], written: written)
      case "&":
        throw error("voice overlay (&) is not supported; write one voice per tune")
      default:
        throw error("unexpected character \"\(c)\" in the melody")
      }
    }
  }

  mutating func applyField(_ letter: Character, _ value: String) throws {
    do {
      switch letter {
      case "K": key = try ABCKey.parse(value)
      case "M":
        metre = try ABCMetre.parse(value)
        metreChanged = true
        if current.notes.isEmpty { current.metre = metre }
      case "L": unit = try ABCReader.parseUnitLength(value)
      default: break
      }
    } catch let message as ABCMessage {
      throw error(message.text, column: 0)
    }
  }

  // MARK: - Tokens

  mutating func skip(to terminator: Character, what: String, closing: String) throws {
    let start = position
    guard let end = chars[(position + 1)...].firstIndex(of: terminator) else {
      throw error("unterminated \(what); close it with \(closing) on the same line", column: start)
    }
    position = end + 1
  }

  /// `+trill+` is a decoration; `+CEG+` (ABC 1.6) a chord.
  mutating func plusGroup() throws {
    let start = position
    guard let end = chars[(position + 1)...].firstIndex(of: "+") else {
      throw error("unterminated +…+ decoration; close it with + on the same line", column: start)
    }
    let content = chars[(start + 1)..<end]
    let isChord = !content.isEmpty && content.allSatisfy { "ABCDEFGabcdefg,'^_=0123456789/".contains($0) }
      && content.contains { $0.isUppercase || "abcdefg".contains($0) }
      && !content.allSatisfy { $0.isLetter && $0.isLowercase }
    if isChord {
      try chord(from: start + 1, to: end)
      position = end + 1
      try finishChord()
    } else {
      position = end + 1
    }
  }

  mutating func graceNotes() throws {
    let start = position
    guard let end = chars[(position + 1)...].firstIndex(of: "}") else {
      throw error("unterminated grace notes; close them with } on the same line", column: start)
    }
    position += 1
    if position < end, chars[position] == "/" { position += 1 }
    let saved = barAccidentals
    while position < end {
      switch chars[position] {
      case " ", "-", ".", "~": position += 1
      case "^", "_", "=", "A"..."G", "a"..."g": _ = try note()
      default: throw error("unexpected \"\(chars[position])\" in grace notes; they hold notes only")
      }
    }
    barAccidentals = saved  // grace notes take no time and leave the bar's accidentals alone
    position = end + 1
  }

  mutating func tupletOrSlur() throws {
    position += 1
    guard position < chars.count, chars[position].isASCII, chars[position].isNumber else { return }  // a slur
    let start = position - 1
    guard let p = try number(limit: 64), p >= 2 else {
      throw error("a tuplet needs at least 2 notes, e.g. (3 for a triplet", column: start)
    }
    var q: Int?
    var r: Int?
    if position < chars.count, chars[position] == ":" {
      position += 1
      q = try number(limit: 64)
      if position < chars.count, chars[position] == ":" {
        position += 1
        r = try number(limit: 64)
      }
    }
    let inTimeOf = q ?? {
      switch p {
      case 2, 4, 8: return 3
      case 3, 6: return 2
      default: return metre.isCompound ? 3 : 2
      }
    }()
    guard inTimeOf >= 1, let multiplier = MusicFraction(inTimeOf, p) else {
      throw error("tuplet (\(p):\(inTimeOf) cannot be played; the second number must be ≥ 1", column: start)
    }
    tuplet = (r ?? p, multiplier)
  }

  mutating func bracket() throws {
    let next = position + 1 < chars.count ? chars[position + 1] : " "
    if next == "|" {
      position += 1
      try barLine(prefix: "[")
    } else if next.isASCII, next.isNumber {
      position += 1
      try ending()
    } else if next.isASCII, next.isLetter, position + 2 < chars.count, chars[position + 2] == ":" {
      let start = position
      guard let end = chars[position...].firstIndex(of: "]") else {
        throw error("unterminated inline field; close it with ]", column: start)
      }
      let value = String(chars[(position + 3)..<end]).trimmingCharacters(in: .whitespaces)
      try applyField(next, value)
      position = end + 1
    } else {
      let start = position
      guard let end = chars[(position + 1)...].firstIndex(of: "]") else {
        throw error("unterminated chord; close it with ] on the same line", column: start)
      }
      try chord(from: start + 1, to: end)
      position = end + 1
      try finishChord()
    }
  }

  /// The notes of a chord between `from` and `to`; leaves them in `pendingChord`.
  mutating func chord(from: Int, to: Int) throws {
    position = from
    var pitches: [Int] = []
    var first: MusicFraction??
    while position < to {
      switch chars[position] {
      case " ", "-", ".", "~", ")", "(": position += 1
      case "\"": try skip(to: "\"", what: "quoted text", closing: "\"")
      case "!": try skip(to: "!", what: "decoration", closing: "!")
      case "^", "_", "=", "A"..."G", "a"..."g":
        let (pitch, written) = try note()
        pitches.append(pitch)
        if first == nil { first = .some(written) }
      default: throw error("unexpected \"\(chars[position])\" in a chord; a chord holds notes, e.g. [CEG]")
      }
    }
    guard !pitches.isEmpty, let firstLength = first else { throw error("an empty chord; write its notes, e.g. [CEG]", column: from - 1) }
    pendingChord = (pitches, firstLength)
  }

  var pendingChord: (pitches: [Int], written: MusicFraction?)?

  mutating func finishChord() throws {
    guard let (pitches, written) = pendingChord else { return }
    pendingChord = nil
    let outer = try length()
    var total = written ?? .one
    if let outer { total = try multiply(total, outer) }
    try addNote(pitches: pitches, written: total)
  }

  mutating func ending() throws {
    var numbers: [Int] = []
    let start = position
    while position < chars.count {
      guard let n = try number(limit: 100) else { break }
      if position < chars.count, chars[position] == "-" {
        position += 1
        guard let m = try number(limit: 100), m >= n else { throw error("an ending range must read like [1-3", column: start) }
        numbers += Array(n...m)
      } else {
        numbers.append(n)
      }
      guard position < chars.count, chars[position] == "," else { break }
      position += 1
    }
    guard !numbers.isEmpty else { throw error("an ending needs a number, e.g. [1 or :|2", column: start) }
    endings = numbers
    current.endings = numbers
    current.startsEnding = true
  }

  mutating func barLine(prefix: String = "") throws {
    let start = position
    var text = prefix
    while position < chars.count, "|:]".contains(chars[position]) {
      if chars[position] == "]" && !text.hasSuffix("|") { break }
      text.append(chars[position])
      position += 1
    }
    guard text.contains("|") || text.count >= 2 else {
      throw error("a lone \":\" is not a bar line; write :| to end a repeat or |: to start one", column: start)
    }
    let line = ABCTune.BarLine(text: text)
    try closeBar(with: line)
    if position < chars.count, chars[position].isASCII, chars[position].isNumber, !text.hasSuffix(":") {
      try ending()
    }
  }

  mutating func closeBar(with line: ABCTune.BarLine?) throws {
    barAccidentals = [:]
    if brokenNext != nil { throw error("a broken rhythm (> or <) needs a note after it in the same bar") }
    if current.notes.isEmpty {
      // Two bar lines in a row (the end of one line, the start of the next): one bar line.
      if let line, !bars.isEmpty, line.endsSection, bars[bars.count - 1].closing?.endsSection != true {
        bars[bars.count - 1].closing = line
      }
      if let line { current.opening = line }
      if line?.endsSection == true, !current.startsEnding { endings = []; current.endings = [] }
      return
    }
    current.closing = line
    current.duration = try current.notes.reduce(MusicFraction.zero) { try add($0, $1.duration) }
    bars.append(current)
    elements += 1
    if line?.endsSection == true { endings = [] }
    current = ABCTune.Bar(notes: [], metre: metre, opening: line, closing: nil, endings: endings, startsEnding: false,
                          line: lineNumber, duration: .zero)
  }

  mutating func tie() throws {
    position += 1
    if !current.notes.isEmpty {
      current.notes[current.notes.count - 1].tiedToNext = true
    } else if !bars.isEmpty, !bars[bars.count - 1].notes.isEmpty {
      bars[bars.count - 1].notes[bars[bars.count - 1].notes.count - 1].tiedToNext = true
    } else {
      throw error("a tie (-) needs a note before it", column: position - 1)
    }
  }

  mutating func brokenRhythm() throws {
    let start = position
    let symbol = chars[position]
    var count = 0
    while position < chars.count, chars[position] == symbol { count += 1; position += 1 }
    guard count <= 3 else { throw error("a broken rhythm has at most three \(symbol)", column: start) }
    guard !current.notes.isEmpty, brokenNext == nil else {
      throw error("a broken rhythm (\(symbol)) must stand between two notes of one bar", column: start)
    }
    let short = MusicFraction(1, 1 << count)!
    let long = MusicFraction((1 << (count + 1)) - 1, 1 << count)!
    let last = current.notes.count - 1
    current.notes[last].duration = try multiply(current.notes[last].duration, symbol == ">" ? long : short)
    brokenNext = symbol == ">" ? short : long
  }

  // MARK: - Notes

  /// A note's pitch (MIDI) and written length (nil: one unit), updating the bar's accidentals.
  mutating func note() throws -> (pitch: Int, written: MusicFraction?) {
    let start = position
    var explicit: Int?
    if chars[position] == "^" {
      explicit = 1; position += 1
      if position < chars.count, chars[position] == "^" { explicit = 2; position += 1 }
    } else if chars[position] == "_" {
      explicit = -1; position += 1
      if position < chars.count, chars[position] == "_" { explicit = -2; position += 1 }
    } else if chars[position] == "=" {
      explicit = 0; position += 1
    }
    guard position < chars.count, let letterIndex = "CDEFGAB".firstIndex(of: Character(chars[position].uppercased())),
          "ABCDEFGabcdefg".contains(chars[position]) else {
      throw error("an accidental must be followed by a note (A–G or a–g)", column: start)
    }
    let letter = "CDEFGAB".distance(from: "CDEFGAB".startIndex, to: letterIndex)
    var octave = chars[position].isUppercase ? 4 : 5
    position += 1
    while position < chars.count, chars[position] == "'" || chars[position] == "," {
      octave += chars[position] == "'" ? 1 : -1
      position += 1
    }
    guard (-1...9).contains(octave) else { throw error("note outside the MIDI range (too many ' or , marks)", column: start) }
    let slot = letter * 16 + octave + 2
    if let explicit { barAccidentals[slot] = explicit }
    let alteration = barAccidentals[slot] ?? key.alterations[letter]
    let pitch = 12 * (octave + 1) + [0, 2, 4, 5, 7, 9, 11][letter] + alteration
    guard (0...127).contains(pitch) else { throw error("note outside the MIDI range 0–127", column: start) }
    return (pitch, try length())
  }

  /// A written length after a note, rest or chord: `2`, `3/2`, `/`, `//`, `/4`; nil when absent.
  mutating func length() throws -> MusicFraction? {
    let start = position
    let numerator = try number(limit: 4096)
    var denominator = 1
    while position < chars.count, chars[position] == "/" {
      position += 1
      let d = try number(limit: 4096) ?? 2
      let (product, overflow) = denominator.multipliedReportingOverflow(by: d)
      guard !overflow, product <= 1 << 20, d >= 1 else { throw error("note length too short to play", column: start) }
      denominator = product
    }
    if numerator == nil && denominator == 1 { return nil }
    guard let n = numerator ?? 1 as Int?, n >= 1 else { throw error("a note length of 0; lengths are positive", column: start) }
    return MusicFraction(n, denominator)
  }

  /// Digits as a number ≤ `limit`; nil when there are none.
  mutating func number(limit: Int) throws -> Int? {
    let start = position
    var value = 0
    while position < chars.count, let digit = chars[position].wholeNumberValue, chars[position].isASCII {
      value = value * 10 + digit
      position += 1
      guard value <= limit else { throw error("the number is larger than \(limit)", column: start) }
    }
    return position > start ? value : nil
  }

  mutating func addNote(pitches: [Int], written: MusicFraction?, absolute: MusicFraction? = nil) throws {
    var duration = try absolute ?? multiply(unit, written ?? .one)
    if let broken = brokenNext {
      duration = try multiply(duration, broken)
      brokenNext = nil
    }
    if let (remaining, multiplier) = tuplet {
      duration = try multiply(duration, multiplier)
      tuplet = remaining > 1 ? (remaining - 1, multiplier) : nil
    }
    elements += 1
    guard elements <= ABCReader.maximumElements else { throw error("the tune has more than \(ABCReader.maximumElements) notes and bars") }
    if current.notes.isEmpty {
      current.line = lineNumber  // a bar starts where its first note is, not where the bar line before it was
      if metreChanged { current.metre = metre }
    }
    current.notes.append(ABCTune.Note(pitches: pitches, duration: duration, tiedToNext: false))
  }

  func multiply(_ a: MusicFraction, _ b: MusicFraction) throws -> MusicFraction {
    guard let r = a.multiplied(by: b) else { throw error("note lengths too fine to represent exactly") }
    return r
  }

  func add(_ a: MusicFraction, _ b: MusicFraction) throws -> MusicFraction {
    guard let r = a.adding(b) else { throw error("bar too long to represent exactly") }
    return r
  }

  // MARK: - End

  mutating func finish(lastLine: Int) throws -> [ABCTune.Bar] {
    lineNumber = lastLine
    position = max(chars.count - 1, 0)
    if tuplet != nil { tuplet = nil }
    if brokenNext != nil { throw error("a broken rhythm (> or <) at the end of the tune needs a note after it") }
    if !current.notes.isEmpty { try closeBar(with: nil) }
    return bars
  }
}
