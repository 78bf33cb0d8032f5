import Foundation

/// One NumPy array as stored in a `.npy` file (`numpy.save` / `numpy.load`), C order.
///
/// Reads floating arrays (float16, float32, float64 → `Float`) as a `Tensor`, and integer and bool
/// arrays (int8…int64, uint8…uint64, bool) exactly as `[Int]`, in either byte order. Writes
/// float32 and int64 arrays in format version 1.0 (2.0 when the header needs it). What it does not
/// read it refuses with a message: Fortran-order arrays (with more than one axis longer than 1;
/// otherwise the two orders are the same bytes), object arrays (pickles), structured, string,
/// complex and datetime arrays.
///
/// Format (numpy/lib/format.py): `\x93NUMPY`, major and minor version bytes, the header length
/// (2 bytes little-endian in 1.0, 4 bytes in 2.0 and 3.0), then a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and a
/// newline so the data starts at a multiple of 64 bytes, then the elements.
public struct NumPyArray: Sendable, Equatable {
  /// The elements, by family.
  public enum Values: Sendable {
    /// Floating-point arrays, converted to `Float`.
    case float(Tensor)
    /// Integer and bool arrays, exactly (bool as 0 / 1).
    case integer([Int])
  }

  /// Extents of the axes; `[]` for a 0-d array.
  public let shape: [Int]
  /// The elements in row-major order, as floats or integers.
  public let values: Values
  /// The NumPy dtype the array had in its file (`"float64"`, `"int32"`, `"bool"`), or the one it
  /// will be written as (`"float32"`, `"int64"`) for arrays made in memory.
  public let dtype: String

  /// Largest header accepted (NumPy's own readers default to 10 000 bytes).
  public static let maximumHeaderByteCount = 1 << 20

  /// A float32 array holding `tensor`'s values.
  public init(_ tensor: Tensor) {
    shape = tensor.shape
    values = .float(tensor.copied())
    dtype = "float32"
  }

  /// An int64 array.
  public init(integers: [Int], shape: [Int]) {
    precondition(checkedElementCount(shape) == integers.count, "\(integers.count) integers do not fill shape \(shape)")
    self.shape = shape
    values = .integer(integers)
    dtype = "int64"
  }

  private init(shape: [Int], values: Values, dtype: String) {
    self.shape = shape
    self.values = values
    self.dtype = dtype
  }

  /// The values as a `Tensor` (integers converted to `Float`).
  public var tensor: Tensor {
    switch values {
    case .float(let t): return t
    case .integer(let ints): return Tensor(shape: shape, scalars: ints.map { Float($0) })
    }
  }

  /// The exact values of an integer or bool array; nil for a floating-point one.
  public var integers: [Int]? {
    if case .integer(let ints) = values { return ints }
    return nil
  }

  /// Same dtype, shape and values (floats compared bit for bit).
  public static func == (a: NumPyArray, b: NumPyArray) -> Bool {
    guard a.dtype == b.dtype, a.shape == b.shape else { return false }
    switch (a.values, b.values) {
    case (.float(let x), .float(let y)): return x.scalars.map(\.bitPattern) == y.scalars.map(\.bitPattern)
    case (.integer(let x), .integer(let y)): return x == y
    default: return false
    }
  }

  // MARK: - Reading

  /// The six bytes that open every .npy file.
  public static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

  /// Parses a whole `.npy` file held in memory. Throws `IOError` for anything malformed or
  /// unsupported.
  public init(bytes: [UInt8]) throws {
    func fail(_ kind: IOError.Kind, _ problem: String, _ remedy: String = IOError.corruptNumPy) -> IOError {
      IOError(kind, format: "npy", problem: problem, remedy: remedy)
    }
    guard bytes.count >= 10 else {
      if bytes.starts(with: Self.magic.prefix(min(bytes.count, 6))) {
        throw fail(.truncated, "file is \(bytes.count) bytes long, too short for the 10-byte .npy preamble")
      }
      throw fail(.invalidHeader, "file does not start with the .npy magic \\x93NUMPY")
    }
    guard bytes.starts(with: Self.magic) else {
      if bytes.starts(with: [0x50, 0x4B, 0x03, 0x04]) {
        throw fail(.invalidHeader, "file is a zip archive (a .npz of several arrays?), not a single .npy array",
                   "Unzip it and read the member .npy files, or save each array with numpy.save")
      }
      throw fail(.invalidHeader, "file does not start with the .npy magic \\x93NUMPY")
    }
    let major = bytes[6], minor = bytes[7]
    let headerLength: Int
    let preamble: Int
    switch major {
    case 1:
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
      preamble = 10
    case 2, 3:
      guard bytes.count >= 12 else { throw fail(.truncated, "file is \(bytes.count) bytes long, too short for the 12-byte version \(major) preamble") }
      headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
      preamble = 12
    default:
      throw fail(.invalidHeader, "format version \(major).\(minor) is not one Recur knows (1.0, 2.0, 3.0)",
                 "Re-save the array with numpy.save from a current NumPy")
    }
    guard minor == 0 else {
      throw fail(.invalidHeader, "format version \(major).\(minor) is not one Recur knows (1.0, 2.0, 3.0)", "Re-save the array with numpy.save from a current NumPy")
    }
    guard headerLength <= Self.maximumHeaderByteCount else {
      throw fail(.headerTooLarge, "header length field says \(headerLength) bytes, more than the \(Self.maximumHeaderByteCount)-byte limit")
    }
    guard headerLength <= bytes.count - preamble else {
      throw fail(.truncated, "header length field says \(headerLength) bytes but only \(bytes.count - preamble) bytes follow it")
    }
    let headerBytes = bytes[preamble..<(preamble + headerLength)]
    // Versions 1 and 2 are latin-1, 3 is UTF-8; only ASCII matters for the keys and values we accept.
    let text = major == 3 ? String(decoding: headerBytes, as: UTF8.self) : String(headerBytes.map { Character(Unicode.Scalar($0)) })

    let fields: [(key: String, value: PythonLiteral)]
    do {
      guard case .dict(let pairs) = try PythonLiteralParser.parse(text) else {
        throw fail(.invalidHeader, "header is not a Python dict literal")
      }
      fields = pairs
    } catch let error as PythonLiteralParser.SyntaxError {
      throw fail(.invalidHeader, "header is not a valid Python literal: \(error.message) at character \(error.offset)")
    }
    let keys = fields.map(\.key)
    guard Set(keys) == ["descr", "fortran_order", "shape"], keys.count == 3 else {
      let shown = keys.sorted().prefix(6).map { quotedForMessage($0, quote: "'") }.joined(separator: ", ") + (keys.count > 6 ? ", …" : "")
      throw fail(.invalidHeader, "header keys are [\(shown)], expected exactly ['descr', 'fortran_order', 'shape']")
    }
    func field(_ key: String) -> PythonLiteral { fields.first { $0.key == key }!.value }

    guard case .bool(let fortran) = field("fortran_order") else { throw fail(.invalidHeader, "fortran_order is not True or False") }
    guard case .tuple(let extents) = field("shape") else { throw fail(.invalidShape, "shape is not a tuple") }
    var shape: [Int] = []
    for e in extents {
      guard case .int(let d?) = e, d >= 0 else { throw fail(.invalidShape, "shape has an entry that is not a non-negative integer") }
      shape.append(d)
    }
    guard let count = checkedElementCount(shape) else { throw fail(.invalidShape, "shape \(shapeForMessage(shape)) has an element or byte count that overflows") }

    let element = try Self.elementType(field("descr"), fail)
    if fortran && shape.filter({ $0 > 1 }).count > 1 {
      throw fail(.unsupportedLayout, "array is stored in Fortran (column-major) order",
                 "Save a C-order copy: numpy.save(path, numpy.ascontiguousarray(a))")
    }
    let (byteCount, overflow) = count.multipliedReportingOverflow(by: element.kind.byteWidth)
    guard !overflow else { throw fail(.invalidShape, "shape \(shapeForMessage(shape)) of \(element.name) has a byte count that overflows") }
    let dataStart = preamble + headerLength
    let available = bytes.count - dataStart
    guard available >= byteCount else {
      throw fail(.truncated, "shape \(shapeForMessage(shape)) of \(element.name) needs \(byteCount) bytes of data but only \(available) follow the header")
    }
    guard available == byteCount else {
      throw fail(.invalidHeader, "\(available - byteCount) bytes follow the array data",
                 "A .npy file holds one array; was the file written by several numpy.save calls? Save arrays to separate files")
    }

    let data = bytes[dataStart...]
    if element.kind.isFloatingPoint {
      var t = Tensor(uninitializedShape: shape)
      t.withUnsafeMutableBufferPointer { out in
        data.withUnsafeBytes { convertToFloat($0, kind: element.kind, bigEndian: element.bigEndian, into: out) }
      }
      self.init(shape: shape, values: .float(t), dtype: element.name)
    } else {
      let converted = data.withUnsafeBytes { convertToInt64($0, kind: element.kind, count: count, bigEndian: element.bigEndian) }
      switch converted {
      case .success(let values)?:
        self.init(shape: shape, values: .integer(values.map { Int($0) }), dtype: element.name)
      case .failure(let bad)?:
        throw fail(.unsupportedDType, "element \(bad.index) of the uint64 array is \(bad.value), larger than Int can hold",
                   "Convert the array to int64 or float64 in Python before saving")
      case nil:
        preconditionFailure("internal: integer conversion of a floating kind")
      }
    }
  }

  /// Reads the file at `url`.
  public static func read(from url: URL) throws -> NumPyArray {
    let file = try ReadableFile(path: url.path, format: "npy")
    let bytes = try file.readAll()
    return try attributing(to: url.path) { try NumPyArray(bytes: bytes) }
  }

  /// The element type a `descr` names.
  private static func elementType(_ descr: PythonLiteral, _ fail: (IOError.Kind, String, String) -> IOError) throws
    -> (kind: ScalarKind, bigEndian: Bool, name: String)
  {
    let supported = "Recur reads float16/32/64, int8…int64, uint8…uint64 and bool arrays; convert with a.astype(numpy.float32)"
    guard case .string(let text) = descr else {
      throw fail(.unsupportedLayout, "array has a structured dtype (record fields), which Recur does not read",
                 "Save each field as its own array: numpy.save(path, a['field'])")
    }
    var chars = Substring(text)
    var bigEndian = false
    if let order = chars.first, "<>|=".contains(order) {
      bigEndian = order == ">"
      chars = chars.dropFirst()
    }
    guard let kindChar = chars.first else { throw fail(.invalidHeader, "descr \(quotedForMessage(text, quote: "'")) is empty", IOError.corruptNumPy) }
    let size = Int(chars.dropFirst())
    switch (kindChar, size) {
    case ("f", 2?): return (.float16, bigEndian, "float16")
    case ("f", 4?): return (.float32, bigEndian, "float32")
    case ("f", 8?): return (.float64, bigEndian, "float64")
    case ("i", 1?): return (.int8, bigEndian, "int8")
    case ("i", 2?): return (.int16, bigEndian, "int16")
    case ("i", 4?): return (.int32, bigEndian, "int32")
    case ("i", 8?): return (.int64, bigEndian, "int64")
    case ("u", 1?): return (.uint8, bigEndian, "uint8")
    case ("u", 2?): return (.uint16, bigEndian, "uint16")
    case ("u", 4?): return (.uint32, bigEndian, "uint32")
    case ("u", 8?): return (.uint64, bigEndian, "uint64")
    case ("b", 1?): return (.bool, bigEndian, "bool")
    case ("O", _):
      throw fail(.unsupportedLayout, "array has dtype object (it holds pickled Python objects), which Recur does not read",
                 "Convert it to a numeric array (a.astype(numpy.float32)) and save with numpy.save(path, a, allow_pickle=False)")
    case ("U", _), ("S", _), ("a", _):
      throw fail(.unsupportedDType, "array has a string dtype \(quotedForMessage(text, quote: "'"))", "Encode strings as integer ids before saving")
    case ("c", _):
      throw fail(.unsupportedDType, "array has a complex dtype \(quotedForMessage(text, quote: "'"))", "Save the real and imaginary parts as separate float arrays")
    case ("V", _):
      throw fail(.unsupportedLayout, "array has a void/structured dtype \(quotedForMessage(text, quote: "'"))", supported)
    default:
      throw fail(.unsupportedDType, "array has dtype \(quotedForMessage(text, quote: "'")), which Recur does not read", supported)
    }
  }

  // MARK: - Writing

  /// The complete file: float arrays as little-endian float32 (`<f4`), integer arrays as int64
  /// (`<i8`), C order.
  public func serialized() -> [UInt8] {
    let descr: String
    switch values {
    case .float: descr = "<f4"
    case .integer: descr = "<i8"
    }
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = Array("{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }".utf8)
    // Version 1.0 unless the header does not fit its 2-byte length; pad with spaces and end with
    // a newline so the data is 64-byte aligned, as numpy.save does.
    let version: UInt8 = header.count + 1 + 10 > 65535 ? 2 : 1
    let preamble = version == 1 ? 10 : 12
    let padding = (64 - (preamble + header.count + 1) % 64) % 64
    header.append(contentsOf: repeatElement(UInt8(ascii: " "), count: padding))
    header.append(UInt8(ascii: "\n"))

    var bytes = Self.magic + [version, 0]
    if version == 1 {
      bytes += [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
    } else {
      bytes += (0..<4).map { UInt8((header.count >> (8 * $0)) & 0xFF) }
    }
    bytes += header
    switch values {
    case .float(let t):
      bytes.reserveCapacity(bytes.count + 4 * t.count)
      t.withUnsafeBufferPointer { for v in $0 { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } } }
    case .integer(let ints):
      bytes.reserveCapacity(bytes.count + 8 * ints.count)
      for v in ints { withUnsafeBytes(of: Int64(v).littleEndian) { bytes.append(contentsOf: $0) } }
    }
    return bytes
  }

  /// Writes the file atomically (see `AtomicFile`).
  public func write(to url: URL) throws {
    try AtomicFile.write(serialized(), to: url)
  }
}
