import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// Why a fixture could not be read.
struct FixtureError: Error, CustomStringConvertible {
  var description: String
}

/// Reads a safetensors fixture from `Tests/RecurTests/Fixtures/<name>` (".safetensors" is appended
/// when `name` has no extension), e.g. `loadFixture("foundation/layers")`.
///
/// Test-only reader: F32 tensors load as they are; F64, F16, I64, I32 and BOOL are converted to
/// `Float` (integer targets up to 2^24 are exact), so fixtures can store indices as int64.
/// The file is an 8-byte little-endian header length, a JSON header
/// `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {...}}`, then the data.
func loadFixture(_ name: String) throws -> [String: Tensor] {
  guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
    throw FixtureError(description: "the test bundle has no Fixtures directory")
  }
  var url = root.appendingPathComponent(name)
  if url.pathExtension.isEmpty { url.appendPathExtension("safetensors") }
  let data: Data
  do { data = try Data(contentsOf: url) } catch {
    throw FixtureError(description: "cannot read fixture \(url.path): \(error.localizedDescription); regenerate it with Tools/Reference/*.py")
  }
  return try parseSafetensors(data, source: name)
}

/// Parses safetensors bytes into tensors (see `loadFixture`).
func parseSafetensors(_ data: Data, source: String = "data") throws -> [String: Tensor] {
  let bytes = [UInt8](data)
  func fail(_ message: String) -> FixtureError { FixtureError(description: "\(source): \(message)") }
  guard bytes.count >= 8 else { throw fail("file of \(bytes.count) bytes is too short for a safetensors header") }
  var headerLength = 0
  for i in 0..<8 { headerLength |= Int(bytes[i]) << (8 * i) }
  guard headerLength > 0, 8 + headerLength <= bytes.count else {
    throw fail("header length \(headerLength) does not fit a file of \(bytes.count) bytes")
  }
  let dataStart = 8 + headerLength
  guard let header = try JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])) as? [String: Any] else {
    throw fail("header is not a JSON object")
  }
  var result: [String: Tensor] = [:]
  for (key, value) in header where key != "__metadata__" {
    guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
          let shape = (entry["shape"] as? [NSNumber])?.map(\.intValue),
          let offsets = (entry["data_offsets"] as? [NSNumber])?.map(\.intValue), offsets.count == 2
    else { throw fail("tensor \"\(key)\" has a malformed header entry \(value)") }
    let count = shape.reduce(1, *)
    let width: Int
    switch dtype {
    case "F64", "I64": width = 8
    case "F32", "I32": width = 4
    case "F16": width = 2
    case "BOOL", "U8": width = 1
    default: throw fail("tensor \"\(key)\" has unsupported dtype \(dtype)")
    }
    let begin = dataStart + offsets[0], end = dataStart + offsets[1]
    guard offsets[0] >= 0, begin <= end, end <= bytes.count, end - begin == count * width else {
      throw fail("tensor \"\(key)\" (\(dtype) \(shape)) has data offsets \(offsets) inconsistent with its size or the file")
    }
    var scalars = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      let base = raw.baseAddress! + begin
      for i in 0..<count {
        let p = base + i * width
        switch dtype {
        case "F32": scalars[i] = Float(bitPattern: UInt32(littleEndian: p.loadUnaligned(as: UInt32.self)))
        case "F64": scalars[i] = Float(Double(bitPattern: UInt64(littleEndian: p.loadUnaligned(as: UInt64.self))))
        case "I64": scalars[i] = Float(Int64(littleEndian: p.loadUnaligned(as: Int64.self)))
        case "I32": scalars[i] = Float(Int32(littleEndian: p.loadUnaligned(as: Int32.self)))
        case "F16": scalars[i] = Float(halfBits: UInt16(littleEndian: p.loadUnaligned(as: UInt16.self)))
        default: scalars[i] = Float(p.load(as: UInt8.self))
        }
      }
    }
    result[key] = Tensor(shape: shape, scalars: scalars)
  }
  return result
}

extension Float {
  /// Converts IEEE half-precision bits (Float16 is unavailable on some x86 toolchains).
  fileprivate init(halfBits h: UInt16) {
    let sign: Float = h & 0x8000 == 0 ? 1 : -1
    let exponent = Int((h >> 10) & 0x1F), mantissa = Float(h & 0x3FF)
    switch exponent {
    case 0: self = sign * mantissa * 0x1p-24
    case 31: self = mantissa == 0 ? sign * .infinity : .nan
    default: self = sign * (1 + mantissa / 1024) * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
  }
}

extension Dictionary where Key == String, Value == Tensor {
  /// The tensor named `key`, or a thrown error naming the missing key.
  func tensor(_ key: String) throws -> Tensor {
    guard let t = self[key] else {
      throw FixtureError(description: "fixture has no tensor \"\(key)\" (has: \(keys.sorted().prefix(8).joined(separator: ", "))…)")
    }
    return t
  }

  /// The integer values of the tensor named `key` (indices, targets).
  func indices(_ key: String) throws -> [Int] { try tensor(key).scalars.map { Int($0) } }
}

/// The `__metadata__` strings of a safetensors fixture (empty when it has none).
func loadFixtureMetadata(_ name: String) throws -> [String: String] {
  guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
    throw FixtureError(description: "the test bundle has no Fixtures directory")
  }
  var url = root.appendingPathComponent(name)
  if url.pathExtension.isEmpty { url.appendPathExtension("safetensors") }
  let data = try Data(contentsOf: url)
  guard data.count >= 8 else { throw FixtureError(description: "\(name): too short for a safetensors header") }
  var n = 0
  for i in 0..<8 { n |= Int(data[data.startIndex + i]) << (8 * i) }
  guard n > 0, 8 + n <= data.count,
        let header = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + n))) as? [String: Any]
  else { throw FixtureError(description: "\(name): malformed safetensors header") }
  return header["__metadata__"] as? [String: String] ?? [:]
}

// MARK: - Comparing with fixtures

/// Records an issue unless `actual` has `expected`'s shape and its largest difference, divided by
/// max(1, max |expected|), is at most `tolerance` (float32 against float64-derived references).
func expectScaledClose(_ actual: Tensor?, _ expected: Tensor, _ label: String, tolerance: Float = 1e-5,
                       sourceLocation: SourceLocation = #_sourceLocation) {
  guard let actual else { Issue.record("\(label): no value", sourceLocation: sourceLocation); return }
  guard actual.shape == expected.shape else {
    Issue.record("\(label): shape \(actual.shape) != expected \(expected.shape)", sourceLocation: sourceLocation)
    return
  }
  let err = scaledMaxError(actual, expected)
  #expect(err <= tolerance, "\(label): scaled max error \(err) > \(tolerance); \(closeness(actual, expected).message)",
          sourceLocation: sourceLocation)
}

/// Records an issue unless `actual` has `expected`'s shape and every |a − e| ≤ `maxAbs`.
func expectMaxAbsClose(_ actual: Tensor?, _ expected: Tensor, _ label: String, maxAbs: Float,
                       sourceLocation: SourceLocation = #_sourceLocation) {
  guard let actual else { Issue.record("\(label): no value", sourceLocation: sourceLocation); return }
  let c = closeness(actual, expected, rtol: 0, atol: maxAbs)
  #expect(c.ok, "\(label): \(c.message)", sourceLocation: sourceLocation)
}

/// The JSON `config` a fixture generator stored in the metadata of `path` (e.g. "mingru/small"),
/// decoded as `C`.
func loadFixtureConfig<C: Decodable>(_ path: String, as type: C.Type = C.self) throws -> C {
  guard let config = try loadFixtureMetadata(path)["config"] else {
    throw FixtureError(description: "\(path) has no config in its metadata")
  }
  return try JSONDecoder().decode(C.self, from: Data(config.utf8))
}
