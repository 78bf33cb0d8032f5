/// The values of a JSON text with the byte ranges where they are written, so a generator can
/// replace one value by any text (a number out of range, `NaN`, a value of the wrong type)
/// without re-encoding the rest.
struct JSONLeaf {
  enum Kind { case number, string, bool, null, array, object }
  /// Keys and indices from the root, joined with "." (`model.hiddenSize`, `vocabulary.0`).
  var path: String
  var kind: Kind
  var range: Range<Int>
}

/// Every value of `text` (objects and arrays too), in order; nil when `text` is not JSON this
/// simple scanner understands.
func jsonLeaves(_ text: String) -> [JSONLeaf]? {
  var scanner = JSONLeafScanner(bytes: Array(text.utf8))
  guard (try? scanner.value(path: "")) != nil else { return nil }
  return scanner.leaves
}

private struct JSONLeafScanner {
  struct Malformed: Error {}
  let bytes: [UInt8]
  var i = 0
  var leaves: [JSONLeaf] = []

  mutating func skipSpace() { while i < bytes.count, [0x20, 0x0A, 0x0D, 0x09].contains(bytes[i]) { i += 1 } }

  mutating func expect(_ byte: UInt8) throws {
    skipSpace()
    guard i < bytes.count, bytes[i] == byte else { throw Malformed() }
    i += 1
  }

  mutating func string() throws -> String {
    try expect(UInt8(ascii: "\""))
    let start = i
    while i < bytes.count, bytes[i] != UInt8(ascii: "\"") { i += bytes[i] == UInt8(ascii: "\\") ? 2 : 1 }
    guard i < bytes.count else { throw Malformed() }
    i += 1
    return String(decoding: bytes[start..<(i - 1)], as: UTF8.self)
  }

  mutating func value(path: String) throws {
    skipSpace()
    guard i < bytes.count else { throw Malformed() }
    let start = i
    func child(_ key: String) -> String { path.isEmpty ? key : path + "." + key }
    switch bytes[i] {
    case UInt8(ascii: "{"):
      i += 1
      skipSpace()
      if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1 } else {
        while true {
          let key = try string()
          try expect(UInt8(ascii: ":"))
          try value(path: child(key))
          skipSpace()
          guard i < bytes.count else { throw Malformed() }
          i += 1
          if bytes[i - 1] == UInt8(ascii: "}") { break }
          guard bytes[i - 1] == UInt8(ascii: ",") else { throw Malformed() }
        }
      }
      if !path.isEmpty { leaves.append(JSONLeaf(path: path, kind: .object, range: start..<i)) }
    case UInt8(ascii: "["):
      i += 1
      skipSpace()
      var index = 0
      if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1 } else {
        while true {
          try value(path: child(String(index)))
          index += 1
          skipSpace()
          guard i < bytes.count else { throw Malformed() }
          i += 1
          if bytes[i - 1] == UInt8(ascii: "]") { break }
          guard bytes[i - 1] == UInt8(ascii: ",") else { throw Malformed() }
        }
      }
      leaves.append(JSONLeaf(path: path, kind: .array, range: start..<i))
    case UInt8(ascii: "\""):
      _ = try string()
      leaves.append(JSONLeaf(path: path, kind: .string, range: start..<i))
    case UInt8(ascii: "t"), UInt8(ascii: "f"), UInt8(ascii: "n"):
      while i < bytes.count, bytes[i] >= UInt8(ascii: "a"), bytes[i] <= UInt8(ascii: "z") { i += 1 }
      let word = String(decoding: bytes[start..<i], as: UTF8.self)
      guard ["true", "false", "null"].contains(word) else { throw Malformed() }
      leaves.append(JSONLeaf(path: path, kind: word == "null" ? .null : .bool, range: start..<i))
    default:
      while i < bytes.count, "+-0123456789.eE".utf8.contains(bytes[i]) { i += 1 }
      guard i > start else { throw Malformed() }
      leaves.append(JSONLeaf(path: path, kind: .number, range: start..<i))
    }
  }
}

/// `text` with the bytes of `range` replaced by `replacement`.
func replacing(_ text: String, _ range: Range<Int>, with replacement: String) -> String {
  var bytes = Array(text.utf8)
  bytes.replaceSubrange(range, with: Array(replacement.utf8))
  return String(decoding: bytes, as: UTF8.self)
}
