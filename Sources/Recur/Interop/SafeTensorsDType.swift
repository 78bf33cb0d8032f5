/// The element types a safetensors header can name, spelled as on the wire (`"F32"`, `"BF16"`).
///
/// The list is the reference implementation's (huggingface/safetensors `Dtype`). Recur *reads*
/// (converts to `Float`, and integers also exactly to `Int64`) all of them except the sub-byte
/// floats, the FNUZ and E8M0 float8 variants, and complex64; those still parse in a header, so
/// `recur inspect` lists them, but loading their values throws `IOError.Kind.unsupportedDType`.
public enum SafeTensorsDType: String, Sendable, CaseIterable, Equatable {
  case bool = "BOOL"
  case f4 = "F4"
  case f6E2M3 = "F6_E2M3"
  case f6E3M2 = "F6_E3M2"
  case u8 = "U8"
  case i8 = "I8"
  case f8E5M2 = "F8_E5M2"
  case f8E4M3 = "F8_E4M3"
  case f8E8M0 = "F8_E8M0"
  case f8E4M3FNUZ = "F8_E4M3FNUZ"
  case f8E5M2FNUZ = "F8_E5M2FNUZ"
  case i16 = "I16"
  case u16 = "U16"
  case f16 = "F16"
  case bf16 = "BF16"
  case i32 = "I32"
  case u32 = "U32"
  case f32 = "F32"
  case c64 = "C64"
  case f64 = "F64"
  case i64 = "I64"
  case u64 = "U64"

  /// Bits per element (4 and 6 for the packed sub-byte floats).
  public var bitWidth: Int {
    switch self {
    case .f4: 4
    case .f6E2M3, .f6E3M2: 6
    case .bool, .u8, .i8, .f8E5M2, .f8E4M3, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ: 8
    case .i16, .u16, .f16, .bf16: 16
    case .i32, .u32, .f32: 32
    case .c64, .f64, .i64, .u64: 64
    }
  }

  /// Whether Recur can convert elements of this type to `Float`.
  public var isReadable: Bool { scalarKind != nil }

  /// Whether the type holds integers or booleans (readable exactly as `Int64`, except large U64).
  public var isInteger: Bool {
    switch self {
    case .bool, .u8, .i8, .i16, .u16, .i32, .u32, .i64, .u64: true
    default: false
    }
  }

  /// Whether the type holds real numbers Recur reads as `Float` (not integers, not booleans).
  public var holdsReals: Bool { isReadable && !isInteger }

  var scalarKind: ScalarKind? {
    switch self {
    case .bool: .bool
    case .u8: .uint8
    case .i8: .int8
    case .i16: .int16
    case .u16: .uint16
    case .i32: .int32
    case .u32: .uint32
    case .i64: .int64
    case .u64: .uint64
    case .f16: .float16
    case .bf16: .bfloat16
    case .f32: .float32
    case .f64: .float64
    case .f8E4M3: .float8E4M3
    case .f8E5M2: .float8E5M2
    case .f4, .f6E2M3, .f6E3M2, .f8E8M0, .f8E4M3FNUZ, .f8E5M2FNUZ, .c64: nil
    }
  }

  /// Bytes taken by `count` elements, or nil when that overflows or (for sub-byte types) does
  /// not end on a byte boundary.
  func byteCount(elements count: Int) -> Int? {
    let (bits, overflow) = count.multipliedReportingOverflow(by: bitWidth)
    guard !overflow, bits % 8 == 0 else { return nil }
    return bits / 8
  }
}
