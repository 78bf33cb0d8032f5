/// A parsed JSON value that keeps object keys in file order and keeps numbers as their text.
///
/// Foundation's `JSONSerialization` silently keeps the last of two equal keys and turns numbers
/// into `Double` (losing 64-bit integers), and its recursion depth is not ours to bound. A
/// safetensors header comes from anywhere, so this small parser does exactly what the format
/// needs: RFC 8259 syntax, duplicate keys rejected, nesting capped, strings checked for UTF-8.
indirect enum JSONValue: Sendable {
  case object([(key: String, value: JSONValue)])
  case array([JSONValue])
  case string(String)
  /// The number's text exactly as written (validated against the JSON grammar).
  case number(String)
  case bool(Bool)
  case null

  /// The name of the value's type, for messages.
  var typeName: String {
    switch self {
    case .object: "an object"
    case .array: "an array"
    case .string: "a string"
    case .number: "a number"
    case .bool: "a boolean"
    case .null: "null"
    }
  }

  /// The value as a non-negative integer that fits `Int`, if it is one.
  var nonNegativeInt: Int? {
    guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return Int(text)
  }

  /// The value as a `UInt64`, if it is a plain non-negative integer in range.
  var uint64: UInt64? {
    guard case .number(let text) = self, !text.isEmpty, text.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return nil }
    return UInt64(text)
  }
}

/// A syntax error with the byte offset where it was found.
struct JSONSyntaxError: Error {
  var message: String
  var offset: Int
}

/// Parses one JSON value from UTF-8 bytes; whitespace may surround it, nothing else.
/// Throws only `JSONSyntaxError`.
struct JSONParser {
  /// Deepest nesting of arrays and objects accepted (safetensors headers need 3).
  static let maximumDepth = 64

  private let bytes: UnsafeBufferPointer<UInt8>
  private var index = 0
  private var depth = 0

  private init(_ bytes: UnsafeBufferPointer<UInt8>) { self.bytes = bytes }

  static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws -> JSONValue {
    var parser = JSONParser(bytes)
    parser.skipWhitespace()
    let value = try parser.parseValue()
    parser.skipWhitespace()
    if parser.index != bytes.count { throw parser.error("unexpected \(parser.describeCurrent()) after the end of the JSON value") }
    return value
  }

  static func parse(_ bytes: [UInt8]) throws -> JSONValue {
    try bytes.withUnsafeBufferPointer { try parse($0) }
  }

  static func parse(_ text: String) throws -> JSONValue { try parse(Array(text.utf8)) }

  private func error(_ message: String) -> JSONSyntaxError { JSONSyntaxError(message: message, offset: index) }

  private func describeCurrent() -> String {
    guard index < bytes.count else { return "end of input" }
    return Self.describe(bytes[index])
  }

  /// A byte for a one-line message: printable ASCII as a character, anything else in hex.
  private static func describe(_ b: UInt8) -> String {
    if b >= 0x20 && b < 0x7F { return "character '\(Character(Unicode.Scalar(b)))'" }
    return "byte 0x\(String(b, radix: 16))"
  }

  private mutating func skipWhitespace() {
    while index < bytes.count, bytes[index] == 0x20 || bytes[index] == 0x0A || bytes[index] == 0x0D || bytes[index] == 0x09 {
      index += 1
    }
  }

  private mutating func parseValue() throws -> JSONValue {
    guard index < bytes.count else { throw error("expected a value, found end of input") }
    switch bytes[index] {
    case UInt8(ascii: "{"): return try parseObject()
    case UInt8(ascii: "["): return try parseArray()
    case UInt8(ascii: "\""): return .string(try parseString())
    case UInt8(ascii: "t"): try expectWord("true"); return .bool(true)
    case UInt8(ascii: "f"): try expectWord("false"); return .bool(false)
    case UInt8(ascii: "n"): try expectWord("null"); return .null
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return .number(try parseNumber())
    default: throw error("expected a value, found \(describeCurrent())")
    }
  }

  private mutating func expectWord(_ word: StaticString) throws {
    let count = word.utf8CodeUnitCount
    guard bytes.count - index >= count else { throw error("expected '\(word)'") }
    for i in 0..<count where bytes[index + i] != word.utf8Start[i] { throw error("expected '\(word)'") }
    index += count
  }

  private mutating func enter() throws {
    depth += 1
    if depth > Self.maximumDepth { throw error("nested deeper than \(Self.maximumDepth) levels") }
  }

  private mutating func parseObject() throws -> JSONValue {
    try enter()
    index += 1  // {
    var members: [(key: String, value: JSONValue)] = []
    var seen = Set<[UInt8]>()  // bytes: String equality would call "é" and "e\u{301}" the same key
    skipWhitespace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
      index += 1
      depth -= 1
      return .object(members)
    }
    while true {
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: "\"") else { throw error("expected a string key, found \(describeCurrent())") }
      let keyOffset = index
      let key = try parseString()
      if !seen.insert(Array(key.utf8)).inserted {
        throw JSONSyntaxError(message: "duplicate key \(quotedForMessage(key))", offset: keyOffset)
      }
      skipWhitespace()
      guard index < bytes.count, bytes[index] == UInt8(ascii: ":") else { throw error("expected ':' after key, found \(describeCurrent())") }
      index += 1
      skipWhitespace()
      members.append((key, try parseValue()))
      skipWhitespace()
      guard index < bytes.count else { throw error("unterminated object") }
      if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
      if bytes[index] == UInt8(ascii: "}") { index += 1; break }
      throw error("expected ',' or '}' in object, found \(describeCurrent())")
    }
    depth -= 1
    return .object(members)
  }

  private mutating func parseArray() throws -> JSONValue {
    try enter()
    index += 1  // [
    var elements: [JSONValue] = []
    skipWhitespace()
    if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
      index += 1
      depth -= 1
      return .array(elements)
    }
    while true {
      skipWhitespace()
      elements.append(try parseValue())
      skipWhitespace()
      guard index < bytes.count else { throw error("unterminated array") }
      if bytes[index] == UInt8(ascii: ",") { index += 1; continue }
      if bytes[index] == UInt8(ascii: "]") { index += 1; break }
      throw error("expected ',' or ']' in array, found \(describeCurrent())")
    }
    depth -= 1
    return .array(elements)
  }

  private mutating func parseHex4() throws -> UInt32 {
    guard bytes.count - index >= 4 else { throw error("truncated \\u escape") }
    var value: UInt32 = 0
    for _ in 0..<4 {
      let b = bytes[index]
      let digit: UInt32
      switch b {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = UInt32(b - UInt8(ascii: "0"))
      case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = UInt32(b - UInt8(ascii: "a") + 10)
      case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = UInt32(b - UInt8(ascii: "A") + 10)
      default: throw error("invalid hex digit in \\u escape")
      }
      value = value << 4 | digit
      index += 1
    }
    return value
  }

  private mutating func parseString() throws -> String {
    index += 1  // opening quote
    var utf8: [UInt8] = []
    while true {
      guard index < bytes.count else { throw error("unterminated string") }
      let b = bytes[index]
      if b == UInt8(ascii: "\"") { index += 1; break }
      if b < 0x20 { throw error("control character 0x\(String(b, radix: 16)) inside a string (must be escaped)") }
      if b != UInt8(ascii: "\\") { utf8.append(b); index += 1; continue }
      index += 1
      guard index < bytes.count else { throw error("unterminated escape") }
      let e = bytes[index]
      index += 1
      switch e {
      case UInt8(ascii: "\""): utf8.append(0x22)
      case UInt8(ascii: "\\"): utf8.append(0x5C)
      case UInt8(ascii: "/"): utf8.append(0x2F)
      case UInt8(ascii: "b"): utf8.append(0x08)
      case UInt8(ascii: "f"): utf8.append(0x0C)
      case UInt8(ascii: "n"): utf8.append(0x0A)
      case UInt8(ascii: "r"): utf8.append(0x0D)
      case UInt8(ascii: "t"): utf8.append(0x09)
      case UInt8(ascii: "u"):
        var scalar = try parseHex4()
        if (0xD800..<0xDC00).contains(scalar) {
          guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"), bytes[index + 1] == UInt8(ascii: "u") else {
            throw error("lone high surrogate in \\u escape")
          }
          index += 2
          let low = try parseHex4()
          guard (0xDC00..<0xE000).contains(low) else { throw error("invalid low surrogate in \\u escape") }
          scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
        } else if (0xDC00..<0xE000).contains(scalar) {
          throw error("lone low surrogate in \\u escape")
        }
        // Valid by construction: not a surrogate and at most 0x10FFFF.
        utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
      default:
        throw error("invalid escape: backslash followed by \(Self.describe(e))")
      }
    }
    guard let string = String(validating: utf8, as: UTF8.self) else { throw error("string is not valid UTF-8") }
    return string
  }

  private mutating func parseNumber() throws -> String {
    let start = index
    func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
    if bytes[index] == UInt8(ascii: "-") { index += 1 }
    guard isDigit(index) else { throw error("invalid number") }
    if bytes[index] == UInt8(ascii: "0") {
      index += 1
    } else {
      while isDigit(index) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
      index += 1
      guard isDigit(index) else { throw error("invalid number: digits must follow '.'") }
      while isDigit(index) { index += 1 }
    }
    if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
      index += 1
      if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
      guard isDigit(index) else { throw error("invalid number: digits must follow the exponent") }
      while isDigit(index) { index += 1 }
    }
    return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
  }
}

/// `string` as a JSON string literal (quotes, backslashes and control characters escaped).
func jsonQuoted(_ string: String) -> String {
  var out = "\""
  for scalar in string.unicodeScalars {
    switch scalar {
    case "\"": out += "\\\""
    case "\\": out += "\\\\"
    case "\n": out += "\\n"
    case "\r": out += "\\r"
    case "\t": out += "\\t"
    case _ where scalar.value < 0x20 || scalar.value == 0x7F:
      let hex = String(scalar.value, radix: 16)
      out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
    default: out.unicodeScalars.append(scalar)
    }
  }
  return out + "\""
}
