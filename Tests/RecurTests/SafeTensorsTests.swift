import Foundation
import Testing

@testable import Recur
import RecurFuzz
import _RecurTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// MARK: - Shared helpers for the IO tests (SafeTensors, NumPy, Checkpoint)

/// Files written by Tools/Reference/interop.py (and the Recur-written ones it checks).
enum InteropFixtures {
  static func url(_ name: String) throws -> URL {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil), "the test bundle has no Fixtures directory")
    return root.appendingPathComponent("interop").appendingPathComponent(name)
  }

  static func bytes(_ name: String) throws -> [UInt8] { [UInt8](try Data(contentsOf: url(name))) }

  /// The fixture directory in the source tree (for regenerating the Recur-written fixtures).
  static func sourceURL(_ name: String, file: String = #filePath) -> URL {
    URL(fileURLWithPath: file).deletingLastPathComponent().appendingPathComponent("Fixtures/interop").appendingPathComponent(name)
  }

  /// The committed Recur-written fixture `name`; with RECUR_UPDATE_INTEROP_FIXTURES=1 in the
  /// environment it is first rewritten in the source tree from `current`.
  static func recurWritten(_ name: String, current: [UInt8]) throws -> [UInt8] {
    guard ProcessInfo.processInfo.environment["RECUR_UPDATE_INTEROP_FIXTURES"] == "1" else { return try bytes(name) }
    try Data(current).write(to: sourceURL(name))
    return [UInt8](try Data(contentsOf: sourceURL(name)))
  }
}

/// A fresh directory under the system temporary directory, removed by `cleanUp()`.
struct ScratchDirectory {
  let url: URL
  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-io-\(getpid())-\(UInt64.random(in: 0...UInt64.max))")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }
  func file(_ name: String) -> URL { url.appendingPathComponent(name) }
  func contents() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: url.path).sorted() }
  func cleanUp() { try? FileManager.default.removeItem(at: url) }
}

/// Expects `body` to throw an `IOError` of `kind` whose message contains every string in `mentions`.
func expectIOError(_ kind: IOError.Kind, mentioning mentions: [String] = [], sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) {
  do {
    try body()
    Issue.record("expected an IOError of kind \(kind), but nothing was thrown", sourceLocation: sourceLocation)
  } catch let error as IOError {
    #expect(error.kind == kind, "wrong kind; message: \(error)", sourceLocation: sourceLocation)
    #expect(!error.problem.isEmpty && !error.remedy.isEmpty, sourceLocation: sourceLocation)
    #expect(!error.description.contains("\n") && error.description.count < 1000, "messages are one short line: \(error.description.prefix(2000))",
            sourceLocation: sourceLocation)
    for m in mentions { #expect(error.description.contains(m), "message lacks \"\(m)\": \(error)", sourceLocation: sourceLocation) }
  } catch {
    Issue.record("expected an IOError, got \(type(of: error)): \(error)", sourceLocation: sourceLocation)
  }
}

/// Bit patterns, so NaN and -0 compare exactly.
func bits(_ t: Tensor) -> [UInt32] { t.scalars.map(\.bitPattern) }

/// Index, actual and expected bit patterns of the first few elements that differ, where every
/// non-NaN must match bit for bit and a NaN must meet a NaN (any sign and payload: torch's own
/// conversions give different NaN bits for the same input in its vector and scalar loops).
func floatMismatches(_ actual: Tensor, _ expected: Tensor) -> [String] {
  guard actual.shape == expected.shape else { return ["shape \(actual.shape) vs \(expected.shape)"] }
  var found: [String] = []
  for (i, (a, e)) in zip(actual.scalars, expected.scalars).enumerated() where !(a.isNaN && e.isNaN) && a.bitPattern != e.bitPattern {
    if found.count < 5 { found.append("[\(i)] 0x\(String(a.bitPattern, radix: 16)) vs 0x\(String(e.bitPattern, radix: 16))") }
  }
  return found
}

// MARK: - Safetensors

@Suite("SafeTensors")
struct SafeTensorsTests {
  /// A safetensors file with the given header text and data, the length field set to `length`
  /// (default: the header's real length).
  static func file(_ header: String, data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    let h = Array(header.utf8)
    var bytes: [UInt8] = []
    withUnsafeBytes(of: (length ?? UInt64(h.count)).littleEndian) { bytes += $0 }
    return bytes + h + data
  }

  @Test func roundTripKeepsOrderMetadataDtypesAndBits() throws {
    var file = SafeTensorsFile(
      tensors: [("z.weight", Tensor(shape: [2, 3], scalars: [1, -0.0, .nan, .infinity, -.infinity, 1e-42])),
                ("a.bias", Tensor([0.5, 0.25, -1])),
                ("scalar", Tensor(scalar: 7)),
                ("empty", Tensor(shape: [0, 4], scalars: []))],
      metadata: ["b": "two", "a": "one \"quoted\" \\ é\n", "json": "{\"x\":[1,2]}"])
    file["ids"] = SafeTensorsFile.Entry(integers: [-(1 << 62), 0, 1 << 40], shape: [3])
    file["small"] = SafeTensorsFile.Entry(integers: [Int64(Int32.min), 5], shape: [2], dtype: .i32)
    let bytes = file.serialized()
    let again = try SafeTensorsFile(bytes: bytes)

    #expect(again == file)
    #expect(again.names == ["z.weight", "a.bias", "scalar", "empty", "ids", "small"])
    #expect(again.metadata == file.metadata)
    #expect(bits(try #require(again["z.weight"]).tensor) == bits(Tensor(shape: [2, 3], scalars: [1, -0.0, .nan, .infinity, -.infinity, 1e-42])))
    #expect(again["scalar"]?.shape == [] && again["scalar"]?.tensor.item == 7)
    #expect(again["empty"]?.shape == [0, 4] && again["empty"]?.byteCount == 0)
    #expect(again["ids"]?.dtype == .i64 && again["ids"]?.integers == [-(1 << 62), 0, 1 << 40])
    #expect(again["small"]?.dtype == .i32 && again["small"]?.integers == [Int64(Int32.min), 5])
    #expect(again["a.bias"]?.integers == nil)

    // The header is padded so the data starts at a multiple of 8, as the reference writer does.
    let header = try SafeTensorsHeader(bytes: bytes)
    #expect(header.dataStart % 8 == 0)
    #expect(header.tensors.map(\.name) == again.names)
    #expect(header.tensors[0].byteRange == 0..<24 && header.tensors[1].byteRange == 24..<36)
    // Re-serialising is deterministic.
    #expect(again.serialized() == bytes)
  }

  @Test func subscriptAppendsReplacesAndRemoves() throws {
    var file = SafeTensorsFile()
    file["a"] = SafeTensorsFile.Entry(Tensor([1]))
    file["b"] = SafeTensorsFile.Entry(Tensor([2]))
    file["a"] = SafeTensorsFile.Entry(Tensor([3, 4]))
    #expect(file.names == ["a", "b"] && file["a"]?.shape == [2])
    file["a"] = nil
    #expect(file.names == ["b"] && file.count == 1 && file["a"] == nil)
    let dict = try file.stateDict
    #expect(file.orderedTensors.map(\.name) == ["b"] && dict["b"] == Tensor([2]))
  }

  @Test func entriesSnapshotParameterValues() {
    let parameter = Parameter(Tensor([1, 2]))
    let entry = SafeTensorsFile.Entry(parameter.data)
    parameter.update { $0[0] = 9 }
    #expect(entry.tensor == Tensor([1, 2]))
  }

  @Test func writesAtomicallyToDiskAndReadsBack() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("model.safetensors")
    let first = SafeTensorsFile(tensors: [("w", Tensor([1, 2, 3]))], metadata: ["v": "1"])
    try first.write(to: url)
    #expect(try SafeTensorsFile.read(from: url) == first)
    #expect(try Data(contentsOf: url) == Data(first.serialized()))

    // Replacing keeps the file's permissions and leaves no temporary file behind.
    #expect(chmod(url.path, 0o600) == 0)
    let second = SafeTensorsFile(tensors: [("w", Tensor([4, 5]))], metadata: ["v": "2"])
    try second.write(to: url)
    #expect(try SafeTensorsFile.read(from: url) == second)
    #expect(try dir.contents() == ["model.safetensors"])
    let mode = try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int
    #expect(mode == 0o600)
  }

  @Test func pythonDTypesDecodeAsTorchConvertsThem() throws {
    let file = try SafeTensorsFile.read(from: InteropFixtures.url("dtypes.safetensors"))
    #expect(file.metadata == ["source": "interop.py", "purpose": "dtype decoding"])
    let expectedDTypes: [String: SafeTensorsDType] = ["f16": .f16, "bf16": .bf16, "e4m3": .f8E4M3, "e5m2": .f8E5M2, "f64": .f64]
    for (name, dtype) in expectedDTypes {
      let entry = try #require(file[name])
      let reference = try #require(file[name + "_as_f32"])
      #expect(entry.dtype == dtype)
      #expect(reference.dtype == .f32)
      #expect(entry.shape == reference.shape)
      // torch's own float conversion, bit for bit (sampled over the whole bit-pattern range for
      // F16/BF16, exhaustive for the float8 types), NaNs as NaNs.
      #expect(floatMismatches(entry.tensor, reference.tensor).isEmpty, "\(name): \(floatMismatches(entry.tensor, reference.tensor))")
      #expect(entry.tensor.scalars.contains { $0.isNaN }, "\(name): the sample includes NaNs")
      #expect(entry.integers == nil)
    }
    #expect(file["f16"]!.shape == [1075] && file["e4m3"]!.shape == [256])
    #expect(bits(file["f32"]!.tensor) == bits(Tensor(shape: [2, 3], scalars: [0, -0.0, 1.5, -2.25, 1e-30, .infinity])))

    let integers: [(String, SafeTensorsDType, [Int64])] = [
      ("i64", .i64, [-(1 << 62), -1, 0, 1, (1 << 40) + 3, Int64.max]),
      ("i32", .i32, [Int64(Int32.min), -1, 0, Int64(Int32.max)]),
      ("i16", .i16, [-32768, 7, 32767]),
      ("i8", .i8, [-128, 0, 127]),
      ("u8", .u8, [0, 200, 255]),
      ("u16", .u16, [0, 65535]),
      ("u32", .u32, [0, 4_294_967_295]),
      ("bool", .bool, [1, 0, 1]),
    ]
    for (name, dtype, values) in integers {
      let entry = try #require(file[name])
      #expect(entry.dtype == dtype && entry.integers == values, "\(name)")
      #expect(entry.tensor.scalars == values.map { Float($0) }, "\(name)")
    }
    #expect(file["scalar"]!.shape == [] && file["scalar"]!.tensor.item == 3.5)
    #expect(file["empty"]!.shape == [0, 3] && file["empty"]!.tensor.count == 0)

    // Re-writing a Python file keeps every dtype and byte.
    #expect(try SafeTensorsFile(bytes: file.serialized()) == file)
  }

  @Test func pythonLSTMLanguageModelStateDict() throws {
    let url = try InteropFixtures.url("lstm_lm.safetensors")
    let file = try SafeTensorsFile.read(from: url)
    #expect(file.count == 3 + 2 * 2 * 5)
    #expect(file.metadata.isEmpty)
    #expect(file["lstm.weight_ih_l0"]?.shape == [32, 6])
    #expect(file["lstm.weight_ih_l1_reverse"]?.shape == [32, 8])
    #expect(file["lstm.weight_hh_l1"]?.shape == [32, 4])
    #expect(file["lstm.weight_hr_l0_reverse"]?.shape == [4, 8])
    #expect(file.orderedEntries.allSatisfy { $0.entry.dtype == .f32 })

    // The same weight saved separately by numpy.save.
    let npy = try NumPyArray.read(from: InteropFixtures.url("lstm_lm_weight_hh_l1_reverse.npy"))
    #expect(bits(npy.tensor) == bits(file["lstm.weight_hh_l1_reverse"]!.tensor))

    // It loads into a module whose parameters have the PyTorch names.
    let model = NamedParameters(file.orderedEntries.map { ($0.name, $0.entry.shape) })
    try model.loadStateDict((try file.stateDict), strict: true)
    #expect(model.stateDict().map(\.name) == file.names)
    #expect(bits(model.stateDict().first { $0.name == "decoder.bias" }!.tensor) == bits(file["decoder.bias"]!.tensor))

    let architecture = try #require(RNNStateDictArchitecture(try SafeTensorsHeader.read(from: url)))
    #expect(architecture.recurrent == [
      .init(module: "lstm", cell: .lstm, inputSize: 6, hiddenSize: 8, numLayers: 2, bidirectional: true, projSize: 4, bias: true),
    ])
    #expect(architecture.recurrent[0].outputSize == 8)
    #expect(architecture.recurrent[0].torchConstructor == "nn.LSTM(6, 8, num_layers=2, bidirectional=True, proj_size=4)")
    #expect(architecture.embeddings == [.init(module: "embedding", numEmbeddings: 11, embeddingDim: 6)])
    #expect(architecture.linears == [.init(module: "decoder", inFeatures: 8, outFeatures: 11, bias: true)])
    #expect(architecture.unrecognised.isEmpty && architecture.notes.isEmpty)
  }

  @Test func architectureOfNestedAndTopLevelRecurrentLayers() throws {
    let seq2seq = try #require(RNNStateDictArchitecture(try SafeTensorsHeader.read(from: InteropFixtures.url("seq2seq.safetensors"))))
    // In file order (the reference writer sorts names).
    #expect(seq2seq.recurrent == [
      .init(module: "decoder.rnn", cell: .rnnTanh, inputSize: 5, hiddenSize: 5, numLayers: 3, bidirectional: false, projSize: 0, bias: false),
      .init(module: "encoder.rnn", cell: .gru, inputSize: 3, hiddenSize: 5, numLayers: 1, bidirectional: false, projSize: 0, bias: true),
    ])
    #expect(seq2seq.recurrent[0].cellDescription == "rnn (tanh or relu: not stored in weights)")
    #expect(seq2seq.linears == [.init(module: "decoder.out", inFeatures: 5, outFeatures: 7, bias: false)])
    #expect(seq2seq.description.contains("decoder.rnn: rnn (tanh or relu: not stored in weights), input size 5, hidden size 5, 3 layers"))

    let top = try #require(RNNStateDictArchitecture(try SafeTensorsHeader.read(from: InteropFixtures.url("rnn_top_level.safetensors"))))
    #expect(top.recurrent == [.init(module: "", cell: .rnnTanh, inputSize: 4, hiddenSize: 3, numLayers: 1, bidirectional: false, projSize: 0, bias: true)])
    #expect(top.recurrent[0].torchConstructor == "nn.RNN(4, 3, nonlinearity='tanh' or 'relu')")

    // Not an RNN: nothing inferred. A broken group: explained, not reported as a layer.
    #expect(RNNStateDictArchitecture([("fc.weight", [3, 4]), ("fc.bias", [3])]) == nil)
    let broken = try #require(RNNStateDictArchitecture([
      ("rnn.weight_ih_l0", [12, 2]), ("rnn.weight_hh_l0", [12, 3]), ("rnn.weight_ih_l1", [12, 3]),
    ]))
    #expect(broken.recurrent.isEmpty)
    #expect(broken.notes == ["\"rnn\": weight_hh_l1 is missing"])
    let wrongGates = try #require(RNNStateDictArchitecture([("weight_ih_l0", [10, 2]), ("weight_hh_l0", [10, 5])]))
    #expect(wrongGates.notes.count == 1 && wrongGates.notes[0].contains("not 1 (RNN), 3 (GRU) or 4 (LSTM)"))
  }

  @Test func unreadableDTypesAreListedButNotLoaded() throws {
    let url = try InteropFixtures.url("complex.safetensors")
    let header = try SafeTensorsHeader.read(from: url)
    #expect(header.tensors.map(\.dtype) == [.c64, .f32])
    expectIOError(.unsupportedDType, mentioning: [url.path, "\"z\"", "C64"]) { _ = try SafeTensorsFile.read(from: url) }
  }

  // MARK: Hostile input

  @Test func truncatedAndOversizedHeaderLengths() throws {
    expectIOError(.truncated, mentioning: ["0 bytes"]) { _ = try SafeTensorsFile(bytes: []) }
    expectIOError(.truncated, mentioning: ["5 bytes"]) { _ = try SafeTensorsFile(bytes: [1, 2, 3, 4, 5]) }
    expectIOError(.truncated, mentioning: ["says 50 bytes but only 2"]) { _ = try SafeTensorsFile(bytes: Self.file("{}", length: 50)) }
    expectIOError(.headerTooLarge, mentioning: ["100000001"]) { _ = try SafeTensorsFile(bytes: Self.file("{}", length: 100_000_001)) }
    expectIOError(.headerTooLarge, mentioning: ["18446744073709551615"]) { _ = try SafeTensorsFile(bytes: Self.file("{}", length: .max)) }
    // Every prefix of a valid file is an error, never a crash.
    let valid = SafeTensorsFile(tensors: [("a", Tensor([1, 2])), ("b", Tensor([3]))], metadata: ["k": "v"]).serialized()
    for n in 0..<valid.count {
      #expect(throws: IOError.self) { _ = try SafeTensorsFile(bytes: Array(valid.prefix(n))) }
    }
    // Tensor data cut short: the header is fine but the data is not all there.
    expectIOError(.truncated, mentioning: ["need 12 bytes of data but only 8"]) { _ = try SafeTensorsFile(bytes: Array(valid.dropLast(4))) }
  }

  @Test func foreignFilesAreRecognised() throws {
    expectIOError(.headerTooLarge, mentioning: ["zip archive"]) { _ = try SafeTensorsFile(bytes: [0x50, 0x4B, 0x03, 0x04, 0x14, 0, 0, 0x08, 0, 0]) }
    expectIOError(.headerTooLarge, mentioning: ["pickle"]) { _ = try SafeTensorsFile(bytes: [0x80, 0x02, 0x8A, 0x0A, 0x6C, 0xFC, 0x9C, 0x46, 0xF9, 0x20]) }
    let npy = try InteropFixtures.bytes("f32_2x3.npy")
    expectIOError(.headerTooLarge, mentioning: ["NumPy .npy"]) { _ = try SafeTensorsFile(bytes: npy) }
  }

  @Test func malformedHeaderJSON() {
    let data = [UInt8](repeating: 0, count: 8)
    let cases: [(String, IOError.Kind, String)] = [
      ("[]", .invalidHeader, "does not start with '{'"),
      ("  {}", .invalidHeader, "does not start with '{'"),
      ("{\"a\":{\"dtype\":\"F32\"", .invalidHeader, "not valid JSON"),
      ("{\"a\" {}}", .invalidHeader, "expected ':'"),
      ("{\"a\":{}} x", .invalidHeader, "after the end"),
      ("{\"a\":\"\u{1}\"}", .invalidHeader, "control character"),
      ("{\"\\ud800\":{}}", .invalidHeader, "surrogate"),
      ("{\"a\\\n\":{}}", .invalidHeader, "backslash followed by byte 0xa"),
      ("{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8],}}", .invalidHeader, "expected a string key"),
      ("{\"a\":[1,2]}", .invalidHeader, "entry \"a\" is an array"),
      ("{\"a\":{\"shape\":[2],\"data_offsets\":[0,8]}}", .invalidHeader, "has no \"dtype\""),
      ("{\"a\":{\"dtype\":7,\"shape\":[2],\"data_offsets\":[0,8]}}", .invalidHeader, "dtype that is not a string"),
      ("{\"a\":{\"dtype\":\"F32\",\"data_offsets\":[0,8]}}", .invalidHeader, "has no \"shape\""),
      ("{\"__metadata__\":{\"k\":1}}", .invalidMetadata, "must be strings"),
      ("{\"__metadata__\":[\"k\"]}", .invalidMetadata, "expected an object of strings"),
    ]
    for (header, kind, mention) in cases {
      let bytes = header.hasPrefix("{\"a\":{\"dtype\":\"F32\",\"shape\":[2]") ? Self.file(header, data: data) : Self.file(header)
      expectIOError(kind, mentioning: [mention]) { _ = try SafeTensorsFile(bytes: bytes) }
    }
    // Invalid UTF-8 inside a string.
    var bytes = Self.file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}", data: [0, 0, 0, 0])
    bytes[10] = 0xFF
    expectIOError(.invalidHeader, mentioning: ["UTF-8"]) { _ = try SafeTensorsFile(bytes: bytes) }
  }

  @Test func hugeAndDeepJSONIsRejectedWithoutCrashing() {
    // 200 000 nested arrays would overflow a naive recursive parser's stack.
    let deep = "{\"a\":" + String(repeating: "[", count: 200_000) + "}"
    expectIOError(.invalidHeader, mentioning: ["nested deeper than 64"]) { _ = try SafeTensorsFile(bytes: Self.file(deep)) }
    // A long but valid header (1 MB of metadata) is fine.
    let big = String(repeating: "x", count: 1 << 20)
    let file = SafeTensorsFile(tensors: [("t", Tensor([1]))], metadata: ["big": big])
    #expect((try? SafeTensorsFile(bytes: file.serialized()))?.metadata["big"] == big)
    // A shape array with 100 000 entries parses, then fails cleanly (and briefly) on its element count.
    let longShape = "{\"a\":{\"dtype\":\"F32\",\"shape\":[" + Array(repeating: "2", count: 100_000).joined(separator: ",") + "],\"data_offsets\":[0,4]}}"
    expectIOError(.invalidShape, mentioning: ["overflows"]) { _ = try SafeTensorsFile(bytes: Self.file(longShape, data: [0, 0, 0, 0])) }
  }

  @Test func badShapesDTypesAndSizes() {
    func entry(_ dtype: String = "F32", shape: String = "[2]", offsets: String = "[0,8]") -> String {
      "{\"a\":{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":\(offsets)}}"
    }
    let eight = [UInt8](repeating: 0, count: 8)
    let cases: [(String, IOError.Kind, String)] = [
      (entry("F128"), .unsupportedDType, "unknown dtype \"F128\""),
      (entry("f32"), .unsupportedDType, "unknown dtype"),
      (entry(shape: "[-2]"), .invalidShape, "not a non-negative integer"),
      (entry(shape: "[2.0]"), .invalidShape, "not a non-negative integer"),
      (entry(shape: "[99999999999999999999]"), .invalidShape, "not a non-negative integer"),
      (entry(shape: "[4294967296,4294967296,0]"), .invalidShape, "overflows"),
      (entry(shape: "[4611686018427387904]"), .invalidShape, "byte count overflows"),
      (entry(shape: "2"), .invalidShape, "not an array"),
      (entry(shape: "[3]"), .sizeMismatch, "[3] of F32 (12 bytes) but data_offsets [0, 8] span 8 bytes"),
      (entry("F64"), .sizeMismatch, "(16 bytes)"),
      (entry(offsets: "[8,0]"), .invalidOffsets, "end before they begin"),
      (entry(offsets: "[0]"), .invalidOffsets, "not two non-negative integers"),
      (entry(offsets: "[0,8,16]"), .invalidOffsets, "not two non-negative integers"),
      (entry(offsets: "[-1,7]"), .invalidOffsets, "not two non-negative integers"),
      (entry("F4", shape: "[3]", offsets: "[0,2]"), .invalidShape, "byte boundary"),
    ]
    for (header, kind, mention) in cases {
      expectIOError(kind, mentioning: [mention]) { _ = try SafeTensorsFile(bytes: Self.file(header, data: eight)) }
    }
  }

  @Test func offsetsOutOfRangeOverlappingOrLeavingGaps() {
    func two(_ a: String, _ b: String) -> String {
      "{\"a\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":\(a)},\"b\":{\"dtype\":\"F32\",\"shape\":[4],\"data_offsets\":\(b)}}"
    }
    let data32 = [UInt8](repeating: 0, count: 32)
    expectIOError(.invalidOffsets, mentioning: ["\"a\" [0, 16) and \"b\" [8, 24) overlap"]) { _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[8,24]"), data: data32)) }
    expectIOError(.invalidOffsets, mentioning: ["overlap"]) { _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[0,16]"), data: data32)) }
    expectIOError(.invalidOffsets, mentioning: ["bytes [16, 20) after \"a\" belong to no tensor"]) {
      _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[20,36]"), data: data32 + [0, 0, 0, 0]))
    }
    expectIOError(.invalidOffsets, mentioning: ["at the start of the data"]) { _ = try SafeTensorsFile(bytes: Self.file(two("[4,20]", "[20,36]"), data: data32 + [0, 0, 0, 0])) }
    expectIOError(.truncated, mentioning: ["need 32 bytes of data but only 16"]) { _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[16,32]"), data: Array(data32.prefix(16)))) }
    expectIOError(.invalidOffsets, mentioning: ["\"b\" has data_offsets [1000000, 1000016] beyond the 32 bytes"]) {
      _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[1000000,1000016]"), data: data32))
    }
    expectIOError(.invalidOffsets, mentioning: ["4 bytes after the last tensor"]) { _ = try SafeTensorsFile(bytes: Self.file(two("[0,16]", "[16,32]"), data: data32 + [1, 2, 3, 4])) }
    // Contiguous in a different order than the header: fine.
    #expect(throws: Never.self) { _ = try SafeTensorsFile(bytes: Self.file(two("[16,32]", "[0,16]"), data: data32)) }
  }

  @Test func duplicateNames() {
    let header = "{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[4,8]}}"
    expectIOError(.duplicateName, mentioning: ["duplicate key \"a\""]) { _ = try SafeTensorsFile(bytes: Self.file(header, data: [UInt8](repeating: 0, count: 8))) }
    let metadata = "{\"__metadata__\":{\"k\":\"1\",\"k\":\"2\"}}"
    expectIOError(.duplicateName, mentioning: ["\"k\""]) { _ = try SafeTensorsFile(bytes: Self.file(metadata)) }
    let field = "{\"a\":{\"dtype\":\"F32\",\"dtype\":\"F64\",\"shape\":[1],\"data_offsets\":[0,4]}}"
    expectIOError(.duplicateName, mentioning: ["\"dtype\""]) { _ = try SafeTensorsFile(bytes: Self.file(field, data: [0, 0, 0, 0])) }
  }

  @Test func fileSystemErrorsNameThePath() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    expectIOError(.fileSystem, mentioning: [dir.file("missing.safetensors").path, "No such file"]) { _ = try SafeTensorsFile.read(from: dir.file("missing.safetensors")) }
    expectIOError(.fileSystem, mentioning: ["is a directory"]) { _ = try SafeTensorsFile.read(from: dir.url) }
    expectIOError(.fileSystem, mentioning: ["temporary file"]) { try SafeTensorsFile().write(to: dir.file("no/such/dir/x.safetensors")) }
    // Errors from reading a file carry its path.
    let bad = dir.file("bad.safetensors")
    try Data([1, 2, 3]).write(to: bad)
    expectIOError(.truncated, mentioning: [bad.path + ": file is 3 bytes long"]) { _ = try SafeTensorsFile.read(from: bad) }
    expectIOError(.truncated, mentioning: [bad.path]) { _ = try SafeTensorsHeader.read(from: bad) }
  }

  // MARK: Fuzzing

  @Test func fuzzedFilesNeverCrashAndRoundTripWhenTheyParse() throws {
    var seeds: [_IOFuzzer.Seed] = []
    for name in ["dtypes.safetensors", "lstm_lm.safetensors", "seq2seq.safetensors", "complex.safetensors"] {
      seeds.append(.init(name: name, format: .safetensors, bytes: try InteropFixtures.bytes(name)))
    }
    for name in ["f64_3.npy", "i64_2x2.npy", "v2_f4.npy", "be_f4_3.npy", "fortran_2x3.npy", "object.npy", "structured.npy"] {
      seeds.append(.init(name: name, format: .npy, bytes: try InteropFixtures.bytes(name)))
    }
    let report = _IOFuzzer.run(cases: 3000, seed: 20_240_611, extraSeeds: seeds)
    #expect(report.cases == 3000)
    #expect(report.failures.isEmpty, "\(report)")
    #expect(report.parsed + report.rejectedTotal == 3000)
    // The mutations reach past the first checks: many kinds of rejection, and survivors.
    #expect(report.parsed > 100, "\(report)")
    #expect(report.rejected.count >= 9, "\(report)")
    #expect(report.slowestCase < 2, "\(report)")
  }

  // MARK: Interop in both directions and the CLI

  /// The Recur-written fixtures that Tools/Reference/interop.py reads back with Python are exactly
  /// what Recur writes today.
  @Test func recurWrittenFixturesMatchTheWriter() throws {
    let lm = try SafeTensorsFile.read(from: InteropFixtures.url("lstm_lm.safetensors"))
    struct Config: Codable, Equatable {
      var cell = "lstm", embedding = 6, hidden = 8, layers = 2, bidirectional = true, proj_size = 4, vocabulary = ["a", "b", "\n", "é", "\"", "\\"]
    }
    struct Training: Codable, Equatable {
      var step = 42
      var rng = RandomGenerator(seed: 7).stateWords
    }
    var archive = ModelArchive(task: "language-model", configuration: try ModelArchive.json(Config()), producer: "Recur interop fixture")
    archive.training = try ModelArchive.json(Training())
    archive.add(lm.orderedTensors)
    archive.add([("exp_avg.lstm.weight_ih_l0", lm["lstm.weight_ih_l0"]!.tensor * 0.5),
                 ("exp_avg.decoder.bias", lm["decoder.bias"]!.tensor * 0.5),
                 ("step", Tensor(scalar: 42))], prefix: ModelArchive.optimizerPrefix)
    archive.file.metadata["note"] = "written by Recur"
    let bytes = archive.safeTensorsFile().serialized()
    let committed = try InteropFixtures.recurWritten("written_by_recur.safetensors", current: bytes)
    #expect(committed == bytes, "Recur's safetensors output changed; check it with Tools/Reference/interop.py after RECUR_UPDATE_INTEROP_FIXTURES=1")
    let loaded = try ModelArchive(file: SafeTensorsFile(bytes: committed))
    #expect(try loaded.decodeConfiguration(Config.self) == Config())
    #expect(try loaded.decodeTraining(Training.self) == Training())
    #expect((try loaded.stateDict).keys.sorted() == lm.names.sorted())
    #expect(Array(loaded.file.names.prefix(lm.count)) == lm.names)
  }

  @Test func inspectCommandListsTensorsAndArchitecture() throws {
    let lm = try runRecur(["inspect", try InteropFixtures.url("lstm_lm.safetensors").path])
    #expect(lm.status == 0, "\(lm.stderr)")
    #expect(lm.stdout.contains("safetensors, 23 tensors"))
    #expect(lm.stdout.contains("lstm.weight_hr_l1_reverse"))
    #expect(lm.stdout.contains("F32    [4, 8]"))
    #expect(lm.stdout.contains("embedding: Embedding — 11 embeddings of size 6"))
    #expect(lm.stdout.contains("lstm: lstm, input size 6, hidden size 8, 2 layers, bidirectional, proj_size 4, bias — nn.LSTM(6, 8, num_layers=2, bidirectional=True, proj_size=4)"))
    #expect(lm.stdout.contains("decoder: Linear — 8 → 11"))

    let seq = try runRecur(["inspect", "--stats", try InteropFixtures.url("seq2seq.safetensors").path])
    #expect(seq.status == 0 && seq.stdout.contains("rnn (tanh or relu: not stored in weights)") && seq.stdout.contains(" / "))

    let checkpoint = try runRecur(["inspect", try InteropFixtures.url("written_by_recur.safetensors").path])
    #expect(checkpoint.status == 0 && checkpoint.stdout.contains(
      "Recur archive: format 2, task language-model, model 1,957 parameters, training state 3 tensors (resumable), written by Recur interop fixture"),
      "\(checkpoint.stdout)")
    // Optimiser state is not mistaken for more layers.
    #expect(checkpoint.stdout.components(separatedBy: "nn.LSTM(").count == 2, "\(checkpoint.stdout)")

    let legacy = try runRecur(["inspect", try InteropFixtures.url("recur_0.1_checkpoint.safetensors").path])
    #expect(legacy.status == 0 && legacy.stdout.contains("Recur 0.1 checkpoint (format 1)"), "\(legacy.stdout)")

    let npy = try runRecur(["inspect", try InteropFixtures.url("f64_3.npy").path])
    #expect(npy.status == 0 && npy.stdout.contains("npy, float64 array, shape [3], 3 elements, C order (read as float32)"))

    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let truncated = dir.file("cut.safetensors")
    try Data(try InteropFixtures.bytes("lstm_lm.safetensors").prefix(500)).write(to: truncated)
    for bad in [truncated.path, dir.file("missing.safetensors").path, try InteropFixtures.url("object.npy").path] {
      let result = try runRecur(["inspect", bad])
      #expect(result.status != 0)
      #expect(result.stdout.isEmpty)
      #expect(result.stderr.hasPrefix("error: \(bad): "), "\(result.stderr)")
      #expect(result.stderr.filter { $0 == "\n" }.count == 1, "one line: \(result.stderr)")
    }
  }
}

/// A module with parameters of given names and shapes (zeros), for state_dict loading tests.
final class NamedParameters: Module {
  var isTraining = true
  let ownParameters: [(name: String, parameter: Parameter)]
  init(_ shapes: [(String, [Int])]) {
    ownParameters = shapes.map { ($0.0, Parameter(Tensor.zeros($0.1))) }
  }
}
