/// The characters of a character-level language model: every distinct Unicode scalar of a text,
/// sorted by code point, numbered from 0.
///
/// Sorting by code point gives the ids Python's `sorted(set(text))` gives (`str` iterates code
/// points), so a model trained in PyTorch with that vocabulary loads with the same ids. Unicode
/// scalars rather than `Character`s are the unit: a grapheme cluster ("e" + combining accent, or
/// "\r\n") would otherwise be one symbol in Swift and two in Python.
public struct CharVocabulary: Sendable, Equatable {
  /// The symbols, in id order (ascending code point).
  public let scalars: [Unicode.Scalar]
  private let ids: [UInt32: Int]

  /// The vocabulary of `text`.
  public init(text: String) {
    self.init(uniqueScalars: Set(text.unicodeScalars.map(\.value)))
  }

  /// A vocabulary of the given code points (duplicates are dropped, order does not matter).
  /// Throws if a value is not a Unicode scalar (a surrogate or beyond U+10FFFF).
  public init(codePoints: [UInt32]) throws {
    for v in codePoints where Unicode.Scalar(v) == nil {
      throw CharVocabularyError("vocabulary holds \(v), which is not a Unicode scalar value; the checkpoint is corrupt")
    }
    self.init(uniqueScalars: Set(codePoints))
  }

  private init(uniqueScalars: Set<UInt32>) {
    let sorted = uniqueScalars.sorted()
    scalars = sorted.map { Unicode.Scalar($0)! }
    ids = Dictionary(uniqueKeysWithValues: sorted.enumerated().map { ($1, $0) })
  }

  /// Number of symbols.
  public var count: Int { scalars.count }

  /// The code points in id order (how a checkpoint stores the vocabulary).
  public var codePoints: [UInt32] { scalars.map(\.value) }

  /// The id of `scalar`, or nil if the vocabulary lacks it.
  public func id(of scalar: Unicode.Scalar) -> Int? { ids[scalar.value] }

  /// Whether every scalar of `text` has an id.
  public func covers(_ text: String) -> Bool { text.unicodeScalars.allSatisfy { ids[$0.value] != nil } }

  /// The distinct scalars of `text` that the vocabulary lacks, in order of first appearance.
  public func missingScalars(in text: String) -> [Unicode.Scalar] {
    var seen = Set<UInt32>(), result: [Unicode.Scalar] = []
    for s in text.unicodeScalars where ids[s.value] == nil && seen.insert(s.value).inserted { result.append(s) }
    return result
  }

  /// The ids of `text`'s scalars. Throws, naming the unknown characters, if any is missing.
  public func encode(_ text: String) throws -> [Int] {
    var result: [Int] = []
    result.reserveCapacity(text.utf8.count)
    for s in text.unicodeScalars {
      guard let id = ids[s.value] else {
        let missing = missingScalars(in: text).map(CharVocabulary.describe).joined(separator: ", ")
        throw CharVocabularyError("the text contains characters the vocabulary lacks: \(missing)")
      }
      result.append(id)
    }
    return result
  }

  /// The text of `ids` (each in `0..<count`).
  public func decode<S: Sequence>(_ ids: S) -> String where S.Element == Int {
    var view = String.UnicodeScalarView()
    for i in ids {
      precondition(i >= 0 && i < scalars.count, "CharVocabulary.decode: id \(i) out of range 0..<\(scalars.count)")
      view.append(scalars[i])
    }
    return String(view)
  }

  /// The symbol of one id as a string.
  public func symbol(_ id: Int) -> String { String(Character(scalars[id])) }

  /// A readable name for a scalar in messages: `"é" (U+00E9)`, or just `U+000D` for controls.
  public static func describe(_ s: Unicode.Scalar) -> String {
    let hex = String(s.value, radix: 16, uppercase: true)
    let code = "U+" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
    if s.properties.generalCategory == .control || s.properties.isWhitespace { return code }
    return "\"\(Character(s))\" (\(code))"
  }

  /// Two vocabularies are equal when they hold the same characters in the same id order.
  public static func == (a: CharVocabulary, b: CharVocabulary) -> Bool { a.scalars == b.scalars }
}

/// A text or a stored vocabulary that does not fit a `CharVocabulary`.
public struct CharVocabularyError: Error, CustomStringConvertible, Equatable {
  /// What does not fit, and what to do.
  public let description: String
  /// An error described by `description`.
  public init(_ description: String) { self.description = description }
}
