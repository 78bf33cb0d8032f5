import Foundation

/// The validated header of a safetensors file: tensor names, dtypes, shapes and byte ranges, plus
/// the `__metadata__` string map — everything except the tensor data.
///
/// Layout of a safetensors file (huggingface/safetensors):
///
///     [8 bytes: N, little-endian UInt64][N bytes: UTF-8 JSON header][data]
///     header = {"__metadata__": {"k": "v", …}, "name": {"dtype": "F32", "shape": [2, 3],
///               "data_offsets": [begin, end]}, …}      (offsets relative to the data start)
///
/// Validation happens before anything is allocated from the header's numbers: N is capped
/// (`maximumHeaderByteCount`, as the reference implementation) and must fit the file; the JSON
/// must be well-formed, with unique keys and bounded nesting; every dtype must be known; every
/// shape's element count and byte count must not overflow and must equal its byte range; the byte
/// ranges, sorted, must tile the data section exactly (no overlaps, no gaps, nothing left over).
public struct SafeTensorsHeader: Sendable, Equatable {
  /// Where one tensor lives.
  public struct TensorInfo: Sendable, Equatable {
    /// The tensor's name in the header.
    public let name: String
    /// The element type.
    public let dtype: SafeTensorsDType
    /// Extents of the axes; `[]` for a scalar.
    public let shape: [Int]
    /// Byte range relative to the start of the data section.
    public let byteRange: Range<Int>
    /// Number of elements (the product of `shape`; 1 for a scalar).
    public let elementCount: Int
  }

  /// Largest header accepted, in bytes (the reference implementation's limit).
  public static let maximumHeaderByteCount = 100_000_000

  /// The tensors in header order (for files written by the reference implementation this is
  /// also data order).
  public let tensors: [TensorInfo]
  /// The `__metadata__` map (empty when absent).
  public let metadata: [String: String]
  /// N, the length of the JSON header including its padding.
  public let headerByteCount: Int
  /// Length of the data section.
  public let dataByteCount: Int

  /// Offset of the data section from the start of the file.
  public var dataStart: Int { 8 + headerByteCount }

  /// Parses and validates the header of a whole file held in memory.
  public init(bytes: [UInt8]) throws {
    self = try bytes.withUnsafeBytes { raw in
      let n = try Self.headerLength(prefix: raw, fileByteCount: raw.count)
      return try Self(json: UnsafeRawBufferPointer(rebasing: raw[8..<(8 + n)]), fileByteCount: raw.count)
    }
  }

  /// Reads and validates only the header of the file at `url` (the data is not read, so this is
  /// cheap for large files).
  public static func read(from url: URL) throws -> SafeTensorsHeader {
    let file = try ReadableFile(path: url.path, format: "safetensors")
    return try attributing(to: url.path) {
      let prefix = try file.read(count: min(8, file.size), at: 0)
      let n = try prefix.withUnsafeBytes { try headerLength(prefix: $0, fileByteCount: file.size) }
      let json = try file.read(count: n, at: 8)
      return try json.withUnsafeBytes { try SafeTensorsHeader(json: $0, fileByteCount: file.size) }
    }
  }

  // MARK: - Header length

  /// Decodes N from the first 8 bytes and checks it against the limit and the file size.
  static func headerLength(prefix: UnsafeRawBufferPointer, fileByteCount: Int) throws -> Int {
    guard prefix.count >= 8, fileByteCount >= 8 else {
      throw IOError(.truncated, format: "safetensors",
                    problem: "file is \(fileByteCount) bytes long, shorter than the 8-byte header length that starts every safetensors file",
                    remedy: corruptOrForeign(prefix))
    }
    let n = UInt64(littleEndian: prefix.loadUnaligned(as: UInt64.self))
    guard n <= UInt64(maximumHeaderByteCount) else {
      throw IOError(.headerTooLarge, format: "safetensors",
                    problem: "header length field says \(n) bytes, more than the \(maximumHeaderByteCount)-byte limit",
                    remedy: corruptOrForeign(prefix))
    }
    guard Int(n) <= fileByteCount - 8 else {
      throw IOError(.truncated, format: "safetensors",
                    problem: "header length field says \(n) bytes but only \(fileByteCount - 8) bytes follow it",
                    remedy: corruptOrForeign(prefix))
    }
    return Int(n)
  }

  /// A remedy that recognises files of other formats by their first bytes.
  static func corruptOrForeign(_ prefix: UnsafeRawBufferPointer) -> String {
    let b = Array(prefix.prefix(6))
    if b.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
      return "This is a zip archive (a PyTorch .pt/.pth file or a NumPy .npz?), not safetensors; convert it in Python with safetensors.torch.save_file(torch.load(path))"
    }
    if b.starts(with: [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]) {
      return "This is a NumPy .npy file, not safetensors; read it with NumPyArray"
    }
    if let first = b.first, first == 0x80, b.count > 1, (2...5).contains(b[1]) {
      return "This is a Python pickle (a legacy PyTorch .pt file?), not safetensors; convert it in Python with safetensors.torch.save_file(torch.load(path))"
    }
    return IOError.corruptSafeTensors
  }

  // MARK: - JSON

  /// Validates the JSON header `json` of a file of `fileByteCount` bytes.
  init(json: UnsafeRawBufferPointer, fileByteCount: Int) throws {
    func fail(_ kind: IOError.Kind, _ problem: String, _ remedy: String = IOError.corruptSafeTensors) -> IOError {
      IOError(kind, format: "safetensors", problem: problem, remedy: remedy)
    }
    headerByteCount = json.count
    dataByteCount = fileByteCount - 8 - json.count
    guard json.first == UInt8(ascii: "{") else {
      throw fail(.invalidHeader, "header does not start with '{' (first byte \(json.first.map { "0x" + String($0, radix: 16) } ?? "missing"))")
    }
    let value: JSONValue
    do {
      value = try JSONParser.parse(json.assumingMemoryBound(to: UInt8.self))
    } catch let error as JSONSyntaxError {
      if error.message.hasPrefix("duplicate key") {
        throw fail(.duplicateName, "header has a \(error.message) at byte \(error.offset) of the header; names must be unique")
      }
      throw fail(.invalidHeader, "header is not valid JSON: \(error.message) at byte \(error.offset) of the header")
    }
    guard case .object(let members) = value else { throw fail(.invalidHeader, "header is \(value.typeName), expected a JSON object") }

    var metadata: [String: String] = [:]
    var tensors: [TensorInfo] = []
    tensors.reserveCapacity(members.count)
    for (name, entry) in members {
      if name == "__metadata__" {
        switch entry {
        case .null: break
        case .object(let pairs):
          for (key, v) in pairs {
            guard case .string(let s) = v else {
              throw fail(.invalidMetadata, "__metadata__ value for key \(quotedForMessage(key)) is \(v.typeName); safetensors metadata values must be strings",
                         "Store numbers and structures as JSON text inside a string")
            }
            metadata[key] = s
          }
        default:
          throw fail(.invalidMetadata, "__metadata__ is \(entry.typeName), expected an object of strings")
        }
        continue
      }
      tensors.append(try Self.tensorInfo(name: name, entry, fail))
    }
    self.tensors = tensors
    self.metadata = metadata
    try Self.checkTiling(tensors, dataByteCount: dataByteCount, fail)
  }

  private static func tensorInfo(name: String, _ entry: JSONValue, _ fail: (IOError.Kind, String, String) -> IOError) throws -> TensorInfo {
    let quoted = quotedForMessage(name)
    guard case .object(let fields) = entry else {
      throw fail(.invalidHeader, "entry \(quoted) is \(entry.typeName), expected an object with dtype, shape and data_offsets", IOError.corruptSafeTensors)
    }
    func field(_ key: String) throws -> JSONValue {
      guard let v = fields.first(where: { $0.key == key })?.value else {
        throw fail(.invalidHeader, "tensor \(quoted) has no \"\(key)\"", IOError.corruptSafeTensors)
      }
      return v
    }
    guard case .string(let dtypeName) = try field("dtype") else {
      throw fail(.invalidHeader, "tensor \(quoted) has a dtype that is not a string", IOError.corruptSafeTensors)
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw fail(.unsupportedDType, "tensor \(quoted) has unknown dtype \(quotedForMessage(String(dtypeName.prefix(40))))",
                 "Known dtypes are \(SafeTensorsDType.allCases.map(\.rawValue).joined(separator: ", ")); convert the tensor (e.g. tensor.float()) before saving")
    }
    guard case .array(let extents) = try field("shape") else {
      throw fail(.invalidShape, "tensor \(quoted) has a shape that is not an array", IOError.corruptSafeTensors)
    }
    var shape: [Int] = []
    shape.reserveCapacity(extents.count)
    for e in extents {
      guard let d = e.nonNegativeInt else {
        throw fail(.invalidShape, "tensor \(quoted) has a shape entry that is not a non-negative integer", IOError.corruptSafeTensors)
      }
      shape.append(d)
    }
    guard let count = checkedElementCount(shape) else {
      throw fail(.invalidShape, "tensor \(quoted) has shape \(shapeForMessage(shape)) whose element or byte count overflows", IOError.corruptSafeTensors)
    }
    guard case .array(let offsets) = try field("data_offsets"), offsets.count == 2,
          let begin = offsets[0].nonNegativeInt, let end = offsets[1].nonNegativeInt else {
      throw fail(.invalidOffsets, "tensor \(quoted) has data_offsets that are not two non-negative integers", IOError.corruptSafeTensors)
    }
    guard begin <= end else {
      throw fail(.invalidOffsets, "tensor \(quoted) has data_offsets [\(begin), \(end)] that end before they begin", IOError.corruptSafeTensors)
    }
    guard let bytes = dtype.byteCount(elements: count) else {
      throw fail(.invalidShape, "tensor \(quoted) has shape \(shapeForMessage(shape)) of \(dtype.rawValue) whose byte count overflows or does not end on a byte boundary",
                 IOError.corruptSafeTensors)
    }
    guard bytes == end - begin else {
      throw fail(.sizeMismatch,
                 "tensor \(quoted) has shape \(shapeForMessage(shape)) of \(dtype.rawValue) (\(bytes) bytes) but data_offsets [\(begin), \(end)] span \(end - begin) bytes",
                 IOError.corruptSafeTensors)
    }
    return TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end, elementCount: count)
  }

  /// The byte ranges, sorted, must cover `0..<dataByteCount` exactly once.
  private static func checkTiling(_ tensors: [TensorInfo], dataByteCount: Int, _ fail: (IOError.Kind, String, String) -> IOError) throws {
    let order = tensors.indices.sorted {
      (tensors[$0].byteRange.lowerBound, tensors[$0].byteRange.upperBound) < (tensors[$1].byteRange.lowerBound, tensors[$1].byteRange.upperBound)
    }
    var covered = 0
    var previous: TensorInfo?
    for i in order {
      let t = tensors[i]
      if t.byteRange.lowerBound < covered, let p = previous {
        throw fail(.invalidOffsets,
                   "tensors \(quotedForMessage(p.name)) [\(p.byteRange.lowerBound), \(p.byteRange.upperBound)) and \(quotedForMessage(t.name)) [\(t.byteRange.lowerBound), \(t.byteRange.upperBound)) overlap",
                   IOError.corruptSafeTensors)
      }
      if t.byteRange.upperBound > dataByteCount {
        if t.byteRange.lowerBound <= covered {
          let needed = tensors.map(\.byteRange.upperBound).max()!
          throw fail(.truncated, "tensors need \(needed) bytes of data but only \(dataByteCount) follow the header", IOError.corruptSafeTensors)
        }
        throw fail(.invalidOffsets,
                   "tensor \(quotedForMessage(t.name)) has data_offsets [\(t.byteRange.lowerBound), \(t.byteRange.upperBound)] beyond the \(dataByteCount) bytes of data",
                   IOError.corruptSafeTensors)
      }
      if t.byteRange.lowerBound > covered {
        let after = previous.map { "after \(quotedForMessage($0.name))" } ?? "at the start of the data"
        throw fail(.invalidOffsets, "bytes [\(covered), \(t.byteRange.lowerBound)) \(after) belong to no tensor (data_offsets must be contiguous)",
                   IOError.corruptSafeTensors)
      }
      covered = t.byteRange.upperBound
      previous = t
    }
    if covered < dataByteCount {
      throw fail(.invalidOffsets, "\(dataByteCount - covered) bytes after the last tensor belong to no tensor", IOError.corruptSafeTensors)
    }
  }
}
