import Foundation
import Testing

@testable import Recur
@testable import RecurFuzz

@Suite("NumPy .npy")
struct NumPyTests {
  static func read(_ name: String) throws -> NumPyArray { try NumPyArray.read(from: InteropFixtures.url(name)) }

  @Test func floatArraysWrittenByNumPy() throws {
    let f32 = try Self.read("f32_2x3.npy")
    #expect(f32.dtype == "float32" && f32.shape == [2, 3] && f32.integers == nil)
    #expect(bits(f32.tensor) == bits(Tensor(shape: [2, 3], scalars: [1.5, -2.0, 0.25, 3.0, -0.0, 1e-30])))

    // float64 → float32 rounds to nearest, as numpy's astype(float32); 1e300 overflows to inf.
    let f64 = try Self.read("f64_3.npy")
    #expect(f64.dtype == "float64" && f64.shape == [3])
    #expect(bits(f64.tensor) == bits(Tensor([Float(0.1), Float(1.0 / 3.0), .infinity])))

    let f16 = try Self.read("f16_4.npy")
    #expect(f16.dtype == "float16")
    #expect(bits(f16.tensor) == bits(Tensor([0.5, -65504, 0x1p-24, .infinity])))  // numpy rounds 6e-8 to the subnormal 2^-24

    let bigEndian = try Self.read("be_f4_3.npy")
    #expect(bigEndian.dtype == "float32" && bigEndian.tensor == Tensor([1, -2.5, 3.25]))

    let scalar = try Self.read("scalar_f8.npy")
    #expect(scalar.shape == [] && scalar.tensor.item == 2.5)

    let empty = try Self.read("empty_0x3.npy")
    #expect(empty.shape == [0, 3] && empty.tensor.count == 0)

    let v2 = try Self.read("v2_f4.npy")
    #expect(v2.shape == [2] && v2.tensor == Tensor([7, 8]))
  }

  @Test func integerArraysAreExact() throws {
    let i32 = try Self.read("i32_4.npy")
    #expect(i32.dtype == "int32" && i32.integers == [Int(Int32.min), -1, 0, Int(Int32.max)])
    let i64 = try Self.read("i64_2x2.npy")
    #expect(i64.dtype == "int64" && i64.shape == [2, 2] && i64.integers == [-(1 << 62), (1 << 40) + 3, 0, Int.max])
    #expect(i64.tensor.shape == [2, 2] && i64.tensor[0, 1] == Float((1 << 40) + 3))
    let u8 = try Self.read("u8_5.npy")
    #expect(u8.dtype == "uint8" && u8.integers == [0, 1, 128, 254, 255])
    let flags = try Self.read("bool_3.npy")
    #expect(flags.dtype == "bool" && flags.integers == [1, 0, 1])
  }

  @Test func unsupportedArraysAreClearErrors() throws {
    expectIOError(.unsupportedLayout, mentioning: ["fortran_2x3.npy", "Fortran (column-major) order", "ascontiguousarray"]) { _ = try Self.read("fortran_2x3.npy") }
    expectIOError(.unsupportedLayout, mentioning: ["object.npy", "dtype object", "pickled", "allow_pickle=False"]) { _ = try Self.read("object.npy") }
    expectIOError(.unsupportedLayout, mentioning: ["structured dtype"]) { _ = try Self.read("structured.npy") }
    expectIOError(.unsupportedDType, mentioning: ["string dtype '<U2'"]) { _ = try Self.read("unicode.npy") }
    expectIOError(.unsupportedDType, mentioning: ["complex dtype '<c8'"]) { _ = try Self.read("complex.npy") }
    // A 1-row "Fortran" array has the same bytes as C order and reads fine.
    let oneRow = _IOFuzzer.npyBytes(descr: "<f4", shapeText: "(1, 2)", fortran: true, version: 1, data: [0, 0, 0x80, 0x3F, 0, 0, 0, 0x40])
    #expect(try NumPyArray(bytes: oneRow).tensor == Tensor(shape: [1, 2], scalars: [1, 2]))
  }

  @Test func writtenFilesMatchNumPyByteForByte() throws {
    // numpy.save of the same float32 array gives the same bytes (header text, padding, data).
    let python = try InteropFixtures.bytes("f32_2x3.npy")
    let ours = NumPyArray(Tensor(shape: [2, 3], scalars: [1.5, -2.0, 0.25, 3.0, -0.0, 1e-30])).serialized()
    #expect(ours == python)
    #expect((ours.count - 6 * 4) % 64 == 0)  // the data starts on a 64-byte boundary
  }

  @Test func roundTripsThroughDisk() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let arrays = [
      NumPyArray(Tensor(shape: [2, 1, 3], scalars: [1, 2, 3, .nan, -0.0, .infinity])),
      NumPyArray(Tensor(scalar: 4)),
      NumPyArray(Tensor(shape: [0], scalars: [])),
      NumPyArray(integers: [Int.min, -1, 0, Int.max], shape: [4]),
      NumPyArray(integers: [], shape: [3, 0]),
    ]
    for (i, array) in arrays.enumerated() {
      let url = dir.file("a\(i).npy")
      try array.write(to: url)
      let back = try NumPyArray.read(from: url)
      #expect(back == array)
      #expect(back.dtype == (array.integers == nil ? "float32" : "int64"))
    }
    #expect(try dir.contents() == (0..<arrays.count).map { "a\($0).npy" })
    // A very long shape needs format 2.0 (a header longer than 65535 bytes).
    let wide = NumPyArray(integers: [], shape: Array(repeating: 1, count: 30_000) + [0])
    let bytes = wide.serialized()
    #expect(bytes[6] == 2)
    #expect(try NumPyArray(bytes: bytes) == wide)
  }

  @Test func recurWrittenArraysMatchTheWriter() throws {
    let arrays = [("written_by_recur_f32.npy", NumPyArray(Tensor(shape: [2, 3], scalars: [1.5, -2.0, 0.25, 3.0, -0.0, 1e-30]))),
                  ("written_by_recur_i64.npy", NumPyArray(integers: [-(1 << 62), 0, Int.max], shape: [3]))]
    for (name, array) in arrays {
      let committed = try InteropFixtures.recurWritten(name, current: array.serialized())
      #expect(committed == array.serialized(), "\(name) changed: check it with Tools/Reference/interop.py after RECUR_UPDATE_INTEROP_FIXTURES=1")
    }
  }

  // MARK: Hostile input

  @Test func hostileFiles() throws {
    let valid = NumPyArray(Tensor([1, 2, 3])).serialized()
    func header(_ text: String, version: UInt8 = 1, data: [UInt8] = [], length: Int? = nil) -> [UInt8] {
      let h = Array(text.utf8)
      let n = length ?? h.count
      let field: [UInt8] = version == 1 ? [UInt8(n & 0xFF), UInt8((n >> 8) & 0xFF)] : (0..<4).map { UInt8((n >> (8 * $0)) & 0xFF) }
      return NumPyArray.magic + [version, 0] + field + h + data
    }
    expectIOError(.truncated, mentioning: ["0 bytes"]) { _ = try NumPyArray(bytes: []) }
    expectIOError(.truncated, mentioning: ["too short"]) { _ = try NumPyArray(bytes: Array(valid.prefix(9))) }
    expectIOError(.invalidHeader, mentioning: ["magic"]) { _ = try NumPyArray(bytes: Array("hello, world".utf8)) }
    expectIOError(.invalidHeader, mentioning: ["zip archive", ".npz"]) { _ = try NumPyArray(bytes: [0x50, 0x4B, 0x03, 0x04] + [UInt8](repeating: 0, count: 20)) }
    expectIOError(.invalidHeader, mentioning: ["format version 4.0"]) { _ = try NumPyArray(bytes: NumPyArray.magic + [4, 0, 0, 0]) }
    expectIOError(.invalidHeader, mentioning: ["format version 1.5"]) { _ = try NumPyArray(bytes: NumPyArray.magic + [1, 5, 0, 0]) }
    expectIOError(.truncated, mentioning: ["says 5000 bytes but only"]) { _ = try NumPyArray(bytes: header("{}", length: 5000)) }
    expectIOError(.headerTooLarge, mentioning: ["4294967295"]) { _ = try NumPyArray(bytes: header("{}", version: 2, length: 0xFFFF_FFFF)) }
    expectIOError(.truncated, mentioning: ["12-byte"]) { _ = try NumPyArray(bytes: NumPyArray.magic + [2, 0, 1, 0]) }
    expectIOError(.invalidHeader, mentioning: ["not a valid Python literal"]) { _ = try NumPyArray(bytes: header("{'descr': '<f4', ")) }
    expectIOError(.invalidHeader, mentioning: ["not a Python dict"]) { _ = try NumPyArray(bytes: header("[1, 2]")) }
    expectIOError(.invalidHeader, mentioning: ["nested deeper"]) { _ = try NumPyArray(bytes: header(String(repeating: "(", count: 100_000))) }
    expectIOError(.invalidHeader, mentioning: ["expected exactly"]) { _ = try NumPyArray(bytes: header("{'descr': '<f4', 'shape': (1,)}", data: [0, 0, 0, 0])) }
    expectIOError(.invalidHeader, mentioning: ["expected exactly"]) {
      _ = try NumPyArray(bytes: header("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'extra': 1}", data: [0, 0, 0, 0]))
    }
    expectIOError(.invalidHeader, mentioning: ["duplicate key"]) {
      _ = try NumPyArray(bytes: header("{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}", data: [0, 0, 0, 0]))
    }
    let bad: [(String, IOError.Kind, String)] = [
      ("{'descr': '<f4', 'fortran_order': 0, 'shape': (1,)}", .invalidHeader, "fortran_order"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': [1]}", .invalidShape, "not a tuple"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (-1,)}", .invalidShape, "non-negative"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (99999999999999999999,)}", .invalidShape, "non-negative"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296)}", .invalidShape, "overflows"),
      ("{'descr': '<f8', 'fortran_order': False, 'shape': (2305843009213693952,)}", .invalidShape, "byte count that overflows"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (1000000000,)}", .truncated, "needs 4000000000 bytes of data but only 4"),
      ("{'descr': '<f4', 'fortran_order': False, 'shape': (0,)}", .invalidHeader, "4 bytes follow the array data"),
      ("{'descr': '<f3', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "'<f3'"),
      ("{'descr': '<M8[ns]', 'fortran_order': False, 'shape': (1,)}", .unsupportedDType, "'<M8[ns]'"),
      ("{'descr': '', 'fortran_order': False, 'shape': (1,)}", .invalidHeader, "empty"),
      ("{'descr': 7, 'fortran_order': False, 'shape': (1,)}", .unsupportedLayout, "structured"),
    ]
    for (text, kind, mention) in bad {
      expectIOError(kind, mentioning: [mention]) { _ = try NumPyArray(bytes: header(text, data: [0, 0, 0, 0])) }
    }
    let huge = header("{'descr': '<u8', 'fortran_order': False, 'shape': (1,)}", data: [UInt8](repeating: 0xFF, count: 8))
    expectIOError(.unsupportedDType, mentioning: ["18446744073709551615", "larger than Int"]) { _ = try NumPyArray(bytes: huge) }
    // Every prefix of a valid file is an error, never a crash; so is every file with data appended.
    for n in 0..<valid.count {
      #expect(throws: IOError.self) { _ = try NumPyArray(bytes: Array(valid.prefix(n))) }
    }
    expectIOError(.invalidHeader, mentioning: ["several numpy.save calls"]) { _ = try NumPyArray(bytes: valid + valid) }
  }
}
