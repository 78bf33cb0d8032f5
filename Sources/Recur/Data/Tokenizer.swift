/// Turns a text into tokens.
public protocol Tokenizer: Sendable {
  /// The tokens of `text`, in order.
  func tokens(_ text: String) -> [String]
}

/// Words, numbers and punctuation marks.
///
/// Rules, in order: the text is lower-cased (unless `lowercase` is false); whitespace separates
/// tokens; a run of letters and digits is one token, and keeps an apostrophe between two letters
/// (`don't`) and a `.` or `,` between two digits (`3.5`, `1,000`); every other character (`.`, `,`,
/// `!`, `"`, `-`, `'`, …) is a token of its own.
///
///     WordTokenizer().tokens("It's 3.5 stars, ok?!") == ["it's", "3.5", "stars", ",", "ok", "?", "!"]
public struct WordTokenizer: Tokenizer, Codable, Equatable, Hashable {
  /// Whether the text is lower-cased first.
  public var lowercase: Bool

  /// A tokenizer; lower-casing is on by default.
  public init(lowercase: Bool = true) { self.lowercase = lowercase }

  /// The tokens of `text` (see the type's rules).
  public func tokens(_ text: String) -> [String] {
    let chars = Array(lowercase ? text.lowercased() : text)
    var tokens: [String] = []
    var word = ""
    func isWordChar(_ c: Character) -> Bool { c.isLetter || c.isNumber || c == "_" }
    for (i, c) in chars.enumerated() {
      if isWordChar(c) { word.append(c); continue }
      let next = i + 1 < chars.count ? chars[i + 1] : nil
      if let last = word.last, let next {
        let apostrophe = (c == "'" || c == "\u{2019}") && last.isLetter && next.isLetter
        let decimal = (c == "." || c == ",") && last.isNumber && next.isNumber
        if apostrophe || decimal { word.append(c); continue }
      }
      if !word.isEmpty { tokens.append(word); word = "" }
      if !c.isWhitespace { tokens.append(String(c)) }
    }
    if !word.isEmpty { tokens.append(word) }
    return tokens
  }
}

/// One token per character (extended grapheme cluster); whitespace is kept as a token.
public struct CharacterTokenizer: Tokenizer, Codable, Equatable, Hashable {
  /// Whether the text is lower-cased first.
  public var lowercase: Bool

  /// A tokenizer; lower-casing is off by default.
  public init(lowercase: Bool = false) { self.lowercase = lowercase }

  /// The characters of `text` as strings.
  public func tokens(_ text: String) -> [String] {
    (lowercase ? text.lowercased() : text).map { String($0) }
  }
}
