/// The element types Recur can convert to `Float` (and, for integers, to exact `Int64`), shared by the
/// safetensors and .npy readers.
enum ScalarKind: Sendable, Equatable {
  case float16, bfloat16, float32, float64, float8E4M3, float8E5M2
  case bool, int8, int16, int32, int64, uint8, uint16, uint32, uint64

  /// Bytes per element.
  var byteWidth: Int {
    switch self {
    case .bool, .int8, .uint8, .float8E4M3, .float8E5M2: 1
    case .float16, .bfloat16, .int16, .uint16: 2
    case .float32, .int32, .uint32: 4
    case .float64, .int64, .uint64: 8
    }
  }

  var isFloatingPoint: Bool {
    switch self {
    case .float16, .bfloat16, .float32, .float64, .float8E4M3, .float8E5M2: true
    default: false
    }
  }
}

// MARK: - Minifloats

/// IEEE 754 binary16 to binary32, exactly (every half is a float).
@inline(__always)
func floatFromHalf(_ h: UInt16) -> Float {
  let sign: UInt32 = UInt32(h >> 15) << 31
  let exponent = UInt32(h >> 10) & 0x1F
  let mantissa = UInt32(h & 0x3FF)
  if exponent == 0 {
    let magnitude = Float(mantissa) * 0x1p-24  // zero or subnormal, exact
    return sign == 0 ? magnitude : -magnitude
  }
  if exponent == 0x1F {
    // Infinity, or NaN with its payload kept and quieted, as the hardware conversion (F16C) and
    // torch's `.float()` do.
    return Float(bitPattern: sign | 0x7F80_0000 | mantissa << 13 | (mantissa == 0 ? 0 : 0x0040_0000))
  }
  return Float(bitPattern: sign | (exponent + 112) << 23 | mantissa << 13)
}

/// bfloat16 is the top half of a binary32.
@inline(__always)
func floatFromBFloat16(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }

/// float8 e5m2 is the top byte of a binary16.
@inline(__always)
func floatFromFloat8E5M2(_ b: UInt8) -> Float { floatFromHalf(UInt16(b) << 8) }

/// float8 e4m3fn (OCP FP8, as torch.float8_e4m3fn): bias 7, no infinities, S.1111.111 is NaN.
@inline(__always)
func floatFromFloat8E4M3(_ b: UInt8) -> Float {
  let exponent = Int((b >> 3) & 0xF)
  let mantissa = Int(b & 0x7)
  if exponent == 0xF && mantissa == 0x7 {
    // The one NaN, its mantissa bits carried into the float's as torch does (0x7FF00000).
    return Float(bitPattern: UInt32(b & 0x80) << 24 | 0x7FF0_0000)
  }
  let magnitude: Float
  if exponent == 0 {
    magnitude = Float(mantissa) * 0x1p-9
  } else {
    magnitude = Float(8 + mantissa) * Float(sign: .plus, exponent: exponent - 10, significand: 1)
  }
  return b & 0x80 == 0 ? magnitude : -magnitude
}

// MARK: - Bulk conversion

/// Reads an unaligned element of `T` at `offset`, swapping bytes when the data is big-endian.
@inline(__always)
private func load<T: FixedWidthInteger>(_ raw: UnsafeRawBufferPointer, _ offset: Int, _ type: T.Type, bigEndian: Bool) -> T {
  let v = raw.loadUnaligned(fromByteOffset: offset, as: T.self)
  return bigEndian ? T(bigEndian: v) : T(littleEndian: v)
}

/// Converts `count` elements of `kind` in `raw` (packed, little-endian unless `bigEndian`) to `Float`.
/// `raw` must hold exactly `count × kind.byteWidth` bytes and `out` `count` floats (callers validate).
func convertToFloat(_ raw: UnsafeRawBufferPointer, kind: ScalarKind, bigEndian: Bool = false, into out: UnsafeMutableBufferPointer<Float>) {
  let n = out.count
  precondition(raw.count == n * kind.byteWidth, "internal: element buffer size mismatch")
  switch kind {
  case .float32:
    if !bigEndian && UInt32(littleEndian: 1) == 1, n > 0 {
      UnsafeMutableRawPointer(out.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: n * 4)
    } else {
      for i in 0..<n { out[i] = Float(bitPattern: load(raw, 4 * i, UInt32.self, bigEndian: bigEndian)) }
    }
  case .float64: for i in 0..<n { out[i] = Float(Double(bitPattern: load(raw, 8 * i, UInt64.self, bigEndian: bigEndian))) }
  case .float16: for i in 0..<n { out[i] = floatFromHalf(load(raw, 2 * i, UInt16.self, bigEndian: bigEndian)) }
  case .bfloat16: for i in 0..<n { out[i] = floatFromBFloat16(load(raw, 2 * i, UInt16.self, bigEndian: bigEndian)) }
  case .float8E4M3: for i in 0..<n { out[i] = floatFromFloat8E4M3(raw[i]) }
  case .float8E5M2: for i in 0..<n { out[i] = floatFromFloat8E5M2(raw[i]) }
  case .bool, .uint8: for i in 0..<n { out[i] = Float(raw[i]) }
  case .int8: for i in 0..<n { out[i] = Float(Int8(bitPattern: raw[i])) }
  case .int16: for i in 0..<n { out[i] = Float(load(raw, 2 * i, Int16.self, bigEndian: bigEndian)) }
  case .uint16: for i in 0..<n { out[i] = Float(load(raw, 2 * i, UInt16.self, bigEndian: bigEndian)) }
  case .int32: for i in 0..<n { out[i] = Float(load(raw, 4 * i, Int32.self, bigEndian: bigEndian)) }
  case .uint32: for i in 0..<n { out[i] = Float(load(raw, 4 * i, UInt32.self, bigEndian: bigEndian)) }
  case .int64: for i in 0..<n { out[i] = Float(load(raw, 8 * i, Int64.self, bigEndian: bigEndian)) }
  case .uint64: for i in 0..<n { out[i] = Float(load(raw, 8 * i, UInt64.self, bigEndian: bigEndian)) }
  }
}

/// Converts integer or boolean elements exactly. Returns the index of the first element that does
/// not fit `Int64` (only possible for `uint64`) instead of a result; nil for floating kinds.
func convertToInt64(_ raw: UnsafeRawBufferPointer, kind: ScalarKind, count n: Int, bigEndian: Bool = false) -> Result<[Int64], OutOfRangeElement>? {
  guard !kind.isFloatingPoint else { return nil }
  precondition(raw.count == n * kind.byteWidth, "internal: element buffer size mismatch")
  var values = [Int64](repeating: 0, count: n)
  switch kind {
  case .bool, .uint8: for i in 0..<n { values[i] = Int64(raw[i]) }
  case .int8: for i in 0..<n { values[i] = Int64(Int8(bitPattern: raw[i])) }
  case .int16: for i in 0..<n { values[i] = Int64(load(raw, 2 * i, Int16.self, bigEndian: bigEndian)) }
  case .uint16: for i in 0..<n { values[i] = Int64(load(raw, 2 * i, UInt16.self, bigEndian: bigEndian)) }
  case .int32: for i in 0..<n { values[i] = Int64(load(raw, 4 * i, Int32.self, bigEndian: bigEndian)) }
  case .uint32: for i in 0..<n { values[i] = Int64(load(raw, 4 * i, UInt32.self, bigEndian: bigEndian)) }
  case .int64: for i in 0..<n { values[i] = load(raw, 8 * i, Int64.self, bigEndian: bigEndian) }
  case .uint64:
    for i in 0..<n {
      let v = load(raw, 8 * i, UInt64.self, bigEndian: bigEndian)
      guard let exact = Int64(exactly: v) else { return .failure(OutOfRangeElement(index: i, value: String(v))) }
      values[i] = exact
    }
  default: return nil
  }
  return .success(values)
}

/// An element that does not fit the target integer type.
struct OutOfRangeElement: Error {
  var index: Int
  var value: String
}
