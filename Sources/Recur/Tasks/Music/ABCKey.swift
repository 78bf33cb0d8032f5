/// A key signature from an ABC `K:` field: the tonic, the mode and the accidental each letter
/// takes by default.
///
/// `K:G`, `K:Em`, `K:Dmix`, `K:Bb`, `K:F#m`, `K:A dorian`, `K:none` (no accidentals), `K:D exp ^f`
/// style explicit accidentals after the key, and `clef=…` style options (skipped). Modes are read
/// case-insensitively from their first three letters, as the ABC 2.1 standard says: ionian
/// (major, the default), dorian, phrygian, lydian, mixolydian, aeolian (`m`, minor), locrian.
public struct ABCKey: Equatable, Sendable {
  /// The mode of a key.
  public enum Mode: String, Sendable, CaseIterable {
    case ionian, dorian, phrygian, lydian, mixolydian, aeolian, locrian

    /// Sharps relative to the major key of the same tonic (dorian is two fewer, and so on).
    var shift: Int {
      switch self {
      case .ionian: return 0
      case .dorian: return -2
      case .phrygian: return -4
      case .lydian: return 1
      case .mixolydian: return -1
      case .aeolian: return -3
      case .locrian: return -5
      }
    }
  }

  /// Sharps (positive) or flats (negative) of the signature, −7…7 (0 for `K:none`).
  public let sharps: Int
  /// The mode (ionian for `K:none`).
  public let mode: Mode
  /// Semitones added to each natural letter C D E F G A B (index 0…6) by the signature and any
  /// explicit accidentals.
  public let alterations: [Int]

  /// C major: no accidentals.
  public static let cMajor = ABCKey(sharps: 0, mode: .ionian, explicit: [:])

  init(sharps: Int, mode: Mode, explicit: [Int: Int]) {
    self.sharps = sharps
    self.mode = mode
    var alterations = [Int](repeating: 0, count: 7)
    // Sharps are added in the order F C G D A E B, flats in the reverse order.
    let order = [3, 0, 4, 1, 5, 2, 6]
    if sharps > 0 { for i in 0..<sharps { alterations[order[i]] = 1 } }
    if sharps < 0 { for i in 0 ..< -sharps { alterations[order[6 - i]] = -1 } }
    for (letter, semitones) in explicit { alterations[letter] = semitones }
    self.alterations = alterations
  }

  /// Reads the value of a `K:` field. Throws a message (without location) for a key it cannot read.
  static func parse(_ value: String) throws -> ABCKey {
    var words = value.split(whereSeparator: { $0 == " " || $0 == "\t" }).map(String.init)
    // Drop options such as clef=treble, transpose=…, and what follows a comment sign.
    if let comment = words.firstIndex(where: { $0.hasPrefix("%") }) { words.removeSubrange(comment...) }
    words.removeAll { $0.contains("=") && !$0.hasPrefix("=") }
    guard let first = words.first else { return .cMajor }
    if first.lowercased() == "none" { return ABCKey(sharps: 0, mode: .ionian, explicit: try explicitAccidentals(words.dropFirst())) }
    if first == "HP" || first == "Hp" { return ABCKey(sharps: 2, mode: .mixolydian, explicit: [:]) }
    var scalars = Array(first.unicodeScalars)
    guard let letter = scalars.first, let index = "CDEFGAB".unicodeScalars.firstIndex(of: letter) else {
      throw ABCMessage("K: \"\(value)\" does not start with a key (A–G, then # or b and a mode, e.g. K:G, K:Em, K:Dmix)")
    }
    // Fifths of the natural tonic on the circle: F −1, C 0, G 1, D 2, A 3, E 4, B 5.
    let fifths = [0, 2, 4, -1, 1, 3, 5][ "CDEFGAB".unicodeScalars.distance(from: "CDEFGAB".unicodeScalars.startIndex, to: index)]
    scalars.removeFirst()
    var sharps = fifths
    if let s = scalars.first, s == "#" || s == "b" {
      sharps += s == "#" ? 7 : -7
      scalars.removeFirst()
    }
    var modeText = String(String.UnicodeScalarView(scalars)).lowercased()
    var rest = words.dropFirst()
    if modeText.isEmpty, let next = rest.first, let _ = mode(named: next.lowercased()), !next.hasPrefix("^"), !next.hasPrefix("_") {
      modeText = next.lowercased()
      rest = rest.dropFirst()
    }
    guard let mode = mode(named: modeText) else {
      throw ABCMessage("K: \"\(value)\" has an unknown mode \"\(modeText)\"; use m, maj, min, mix, dor, phr, lyd, aeo or loc")
    }
    sharps += mode.shift
    guard (-7...7).contains(sharps) else {
      throw ABCMessage("K: \"\(value)\" would need \(abs(sharps)) \(sharps > 0 ? "sharps" : "flats") (at most 7); write the key enharmonically")
    }
    if rest.first?.lowercased() == "exp" { rest = rest.dropFirst() }
    return ABCKey(sharps: sharps, mode: mode, explicit: try explicitAccidentals(rest))
  }

  static func mode(named text: String) -> Mode? {
    if text.isEmpty { return .ionian }
    if text == "m" { return .aeolian }
    let prefix = String(text.prefix(3))
    switch prefix {
    case "maj", "ion": return .ionian
    case "min", "aeo": return .aeolian
    case "mix": return .mixolydian
    case "dor": return .dorian
    case "phr": return .phrygian
    case "lyd": return .lydian
    case "loc": return .locrian
    default: return nil
    }
  }

  /// `^f _b =c` after the key: accidentals that replace the signature's for those letters.
  static func explicitAccidentals<S: Sequence>(_ words: S) throws -> [Int: Int] where S.Element == String {
    var result: [Int: Int] = [:]
    for word in words {
      var s = Substring(word)
      var semitones = 0
      if s.hasPrefix("^^") { semitones = 2; s = s.dropFirst(2) }
      else if s.hasPrefix("__") { semitones = -2; s = s.dropFirst(2) }
      else if s.hasPrefix("^") { semitones = 1; s = s.dropFirst() }
      else if s.hasPrefix("_") { semitones = -1; s = s.dropFirst() }
      else if s.hasPrefix("=") { s = s.dropFirst() }
      else { throw ABCMessage("K: cannot read \"\(word)\" (after the key come accidentals such as ^f or _b)") }
      guard s.count == 1, let index = "cdefgab".firstIndex(of: Character(s.lowercased())) else {
        throw ABCMessage("K: cannot read the accidental \"\(word)\"; write it as ^f, _b or =c")
      }
      result["cdefgab".distance(from: "cdefgab".startIndex, to: index)] = semitones
    }
    return result
  }
}
