/// The subset of Python literals a .npy header uses: dicts, tuples, lists, strings, ints, bools,
/// None.
indirect enum PythonLiteral: Sendable {
  case dict([(key: String, value: PythonLiteral)])
  case tuple([PythonLiteral])
  case list([PythonLiteral])
  case string(String)
  /// nil when the integer does not fit `Int`.
  case int(Int?)
  case bool(Bool)
  case none
}

/// A recursive-descent parser for `PythonLiteral`, with bounded nesting.
struct PythonLiteralParser {
  struct SyntaxError: Error {
    var message: String
    var offset: Int
  }

  static let maximumDepth = 32

  private let chars: [Character]
  private var index = 0
  private var depth = 0

  static func parse(_ text: String) throws -> PythonLiteral {
    var parser = PythonLiteralParser(chars: Array(text))
    parser.skipSpace()
    let value = try parser.parseValue()
    parser.skipSpace()
    guard parser.index == parser.chars.count else { throw parser.error("unexpected text after the literal") }
    return value
  }

  private init(chars: [Character]) { self.chars = chars }

  private func error(_ message: String) -> SyntaxError { SyntaxError(message: message, offset: index) }

  private mutating func skipSpace() {
    while index < chars.count, chars[index].isWhitespace { index += 1 }
  }

  private mutating func parseValue() throws -> PythonLiteral {
    guard index < chars.count else { throw error("expected a value, found end of header") }
    switch chars[index] {
    case "{": return try parseDict()
    case "(": return .tuple(try parseSequence(close: ")"))
    case "[": return .list(try parseSequence(close: "]"))
    case "'", "\"": return .string(try parseString())
    case "0"..."9", "-", "+": return try parseInt()
    default:
      for (word, value) in [("True", PythonLiteral.bool(true)), ("False", .bool(false)), ("None", .none)] {
        let w = Array(word)
        if chars.count - index >= w.count, Array(chars[index..<(index + w.count)]) == w {
          index += w.count
          return value
        }
      }
      throw error("unexpected character \(quotedForMessage(String(chars[index]), quote: "'"))")
    }
  }

  private mutating func enter() throws {
    depth += 1
    if depth > Self.maximumDepth { throw error("nested deeper than \(Self.maximumDepth) levels") }
  }

  private mutating func parseDict() throws -> PythonLiteral {
    try enter()
    index += 1
    var pairs: [(key: String, value: PythonLiteral)] = []
    while true {
      skipSpace()
      guard index < chars.count else { throw error("unterminated dict") }
      if chars[index] == "}" { index += 1; break }
      guard case .string(let key) = try parseValue() else { throw error("dict keys must be strings") }
      if pairs.contains(where: { $0.key == key }) { throw error("duplicate key \(quotedForMessage(key, quote: "'"))") }
      skipSpace()
      guard index < chars.count, chars[index] == ":" else { throw error("expected ':'") }
      index += 1
      skipSpace()
      pairs.append((key, try parseValue()))
      skipSpace()
      guard index < chars.count else { throw error("unterminated dict") }
      if chars[index] == "," { index += 1; continue }
      if chars[index] == "}" { index += 1; break }
      throw error("expected ',' or '}'")
    }
    depth -= 1
    return .dict(pairs)
  }

  private mutating func parseSequence(close: Character) throws -> [PythonLiteral] {
    try enter()
    index += 1
    var items: [PythonLiteral] = []
    while true {
      skipSpace()
      guard index < chars.count else { throw error("unterminated sequence") }
      if chars[index] == close { index += 1; break }
      items.append(try parseValue())
      skipSpace()
      guard index < chars.count else { throw error("unterminated sequence") }
      if chars[index] == "," { index += 1; continue }
      if chars[index] == close { index += 1; break }
      throw error("expected ',' or '\(close)'")
    }
    depth -= 1
    return items
  }

  private mutating func parseString() throws -> String {
    let quote = chars[index]
    index += 1
    var out = ""
    while true {
      guard index < chars.count else { throw error("unterminated string") }
      let c = chars[index]
      index += 1
      if c == quote { return out }
      if c == "\\" {
        guard index < chars.count else { throw error("unterminated string") }
        out.append(chars[index])
        index += 1
      } else {
        out.append(c)
      }
    }
  }

  private mutating func parseInt() throws -> PythonLiteral {
    var negative = false
    if chars[index] == "-" || chars[index] == "+" {
      negative = chars[index] == "-"
      index += 1
    }
    let start = index
    while index < chars.count, chars[index].isASCII, chars[index].isNumber { index += 1 }
    guard index > start else { throw error("expected digits") }
    let digits = String(chars[start..<index])
    if index < chars.count, chars[index] == "L" { index += 1 }  // Python 2 long suffix, as old NumPy wrote
    return .int(Int(digits).map { negative ? -$0 : $0 })
  }
}
