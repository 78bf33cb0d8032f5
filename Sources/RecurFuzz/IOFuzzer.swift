import Foundation
import Recur

/// A mutation fuzzer for the safetensors, .npy and checkpoint readers and the text data readers
/// (CSV, TSV, CoNLL-U, .ts; see `DataFuzzing.swift`): it takes valid files, damages
/// them (bit flips, byte changes, truncations, appended garbage, header-length edits, header text
/// edits: numbers, dtypes, duplicated and deleted spans, deep nesting), parses the result and
/// checks that every outcome is either a value or an `IOError` — and that what parses survives a
/// write/read round trip unchanged.
///
/// Used by the test suite (a few thousand cases) and by the hidden `recur fuzz-io` command
/// (100 000 and more). The underscore says: a test tool, not API.
public enum _IOFuzzer {
  /// What a run found.
  public struct Report: Sendable, CustomStringConvertible {
    public var cases = 0
    /// Mutated inputs that still parsed (and passed the round-trip checks).
    public var parsed = 0
    /// Mutated inputs rejected with an `IOError`, by kind.
    public var rejected: [IOError.Kind: Int] = [:]
    /// Mutated text data files that parsed (a subset of `parsed`).
    public var parsedData = 0
    /// Mutated text data files rejected with a `DataError` (or a `TimeSeriesError` for series CSV).
    public var rejectedData = 0
    /// Mutated checkpoints that loaded and ran (a subset of `parsed`).
    public var parsedCheckpoints = 0
    /// Mutated checkpoints a task loader rejected with its typed error (`IOError`s count in `rejected`).
    public var rejectedCheckpoints = 0
    /// Broken invariants: a non-`IOError` error, or a parsed value that does not round-trip.
    /// Each entry names the case (seed file, mutation, case number) so it can be replayed.
    public var failures: [String] = []
    /// The slowest single case, in seconds (a guard against pathological inputs).
    public var slowestCase = 0.0

    public var rejectedTotal: Int { rejected.values.reduce(0, +) + rejectedData + rejectedCheckpoints }

    public var description: String {
      var lines = ["cases: \(cases)", "parsed: \(parsed)", "rejected: \(rejectedTotal)",
                   "rejected with IOError: \(rejected.values.reduce(0, +))"]
      for kind in IOError.Kind.allCases where rejected[kind, default: 0] > 0 {
        lines.append("  \(kind.rawValue): \(rejected[kind]!)")
      }
      lines.append("data files: \(parsedData) parsed, \(rejectedData) rejected with DataError or TimeSeriesError")
      lines.append("checkpoints: \(parsedCheckpoints) loaded and ran, \(rejectedCheckpoints) rejected by a task loader (plus IOErrors above)")
      lines.append("invariant failures: \(failures.count)")
      lines += failures.prefix(10).map { "  \($0)" }
      lines.append(String(format: "slowest case: %.2f ms", slowestCase * 1000))
      return lines.joined(separator: "\n")
    }
  }

  /// File formats the fuzzer feeds.
  public enum Format: String, Sendable, CaseIterable {
    case safetensors, npy
    /// A model archive of a task (language model, forecaster, classifier), read by the task's loader.
    case checkpoint
    /// Text data formats: a labelled text CSV, wide / long numeric CSV, UCR/UEA .ts, token-per-line
    /// TSV, CoNLL-U, a time-series CSV (`recur forecast --csv`), source<TAB>target pairs.
    case textCSV, wideCSV, longCSV, ts, tsv, conllu, seriesCSV, pairs
    /// CTC inputs: a labels CSV of label strings (joined to fixed frames), an FSDD-style index for the digit-string builder.
    case ctcLabels, digitIndex

    /// Whether this is one of the text data formats.
    public var isText: Bool { self != .safetensors && self != .npy && self != .checkpoint }
  }

  /// A valid file to start mutating from.
  public struct Seed: Sendable {
    public var name: String
    public var format: Format
    public var bytes: [UInt8]
    public init(name: String, format: Format, bytes: [UInt8]) {
      self.name = name
      self.format = format
      self.bytes = bytes
    }
  }

  /// Runs `cases` mutated inputs derived from the built-in seeds plus `extraSeeds`, reproducibly
  /// for a given `seed`. `progress` is called every 10 000 cases.
  public static func run(cases: Int, seed: UInt64, extraSeeds: [Seed] = [], progress: ((Report) -> Void)? = nil) -> Report {
    let seeds = builtInSeeds() + extraSeeds
    var rng = RandomGenerator(seed: seed)
    var report = Report()
    for i in 0..<cases {
      let s = seeds[Int(rng.next() % UInt64(seeds.count))]
      var bytes = s.bytes
      var applied: [String] = []
      for _ in 0..<(1 + Int(rng.next() % 3)) {
        applied.append(mutate(&bytes, format: s.format, rng: &rng))
      }
      // Now and then, feed a file to the other format's reader.
      var format = s.format
      if rng.next() % 16 == 0 {
        let family = Format.allCases.filter { $0.isText == format.isText && $0 != format }
        format = family[Int(rng.next() % UInt64(family.count))]
      }
      let label = "case \(i) seed \(seed): \(s.name) [\(applied.joined(separator: ", "))] as \(format.rawValue)"
      let start = DispatchTime.now().uptimeNanoseconds
      check(bytes, format: format, label: label, into: &report)
      let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
      report.slowestCase = max(report.slowestCase, seconds)
      report.cases += 1
      if let progress, (i + 1) % 10_000 == 0 { progress(report) }
    }
    return report
  }

  /// Parses `bytes` and checks the invariants, recording the outcome.
  static func check(_ bytes: [UInt8], format: Format, label: String, into report: inout Report) {
    do {
      switch format {
      case .safetensors:
        let file = try SafeTensorsFile(bytes: bytes)
        if let problem = safeTensorsRoundTripProblem(file) { report.failures.append("\(label): \(problem)") } else { report.parsed += 1 }
      case .npy:
        let array = try NumPyArray(bytes: bytes)
        if let problem = numPyRoundTripProblem(array) { report.failures.append("\(label): \(problem)") } else { report.parsed += 1 }
      case .checkpoint:
        if let problem = try checkpointProblem(bytes) { report.failures.append("\(label): \(problem)") } else {
          report.parsed += 1
          report.parsedCheckpoints += 1
        }
      default:
        if let problem = try dataProblem(bytes, format: format) { report.failures.append("\(label): \(problem)") } else {
          report.parsed += 1
          report.parsedData += 1
        }
      }
    } catch let error where format == .checkpoint && !(error is IOError) {
      // The task loaders speak the task's error types (TrainingError, ForecastError, StateDictError…).
      report.rejectedCheckpoints += 1
      let text = "\(error)"
      if text.isEmpty || text.contains("\n") || text.count > 2000 {
        report.failures.append("\(label): \(type(of: error)) message empty, multi-line or huge: \(text.prefix(300))")
      }
    } catch let error as TimeSeriesError where format == .seriesCSV {
      report.rejectedData += 1
      if error.description.isEmpty || error.description.contains("\n") {
        report.failures.append("\(label): TimeSeriesError message empty or multi-line: \(error.description.prefix(300))")
      }
    } catch let error as DataError {
      report.rejectedData += 1
      if error.description.isEmpty || error.description.contains("\n") || error.description.count > 2000 {
        report.failures.append("\(label): DataError message empty, multi-line or huge: \(error.description.prefix(300))")
      }
    } catch let error as IOError {
      report.rejected[error.kind, default: 0] += 1
      if error.problem.isEmpty || error.remedy.isEmpty || error.description.contains("\n") || error.description.count > 2000 {
        report.failures.append("\(label): IOError message empty, multi-line or huge: \(error.description.prefix(300))")
      }
    } catch {
      report.failures.append("\(label): threw a non-IOError \(type(of: error)): \(error)")
    }
  }

  /// Exercises everything a parsed safetensors file offers; returns a description of the first
  /// broken invariant, or nil.
  static func safeTensorsRoundTripProblem(_ file: SafeTensorsFile) -> String? {
    for (_, entry) in file.orderedEntries {
      let t = entry.tensor
      if t.shape != entry.shape { return "decoded tensor shape \(t.shape) differs from entry shape \(entry.shape)" }
      if entry.dtype.isInteger && entry.dtype != .u64 && entry.integers == nil { return "integer entry without integers" }
    }
    let bytes = file.serialized()
    let again: SafeTensorsFile
    do { again = try SafeTensorsFile(bytes: bytes) } catch { return "re-serialized file does not parse: \(error)" }
    if again != file { return "re-serialized file differs from the parsed one" }
    if bytes.count % 8 != 0 && file.count > 0 && file.orderedEntries.allSatisfy({ $0.entry.byteCount % 8 == 0 }) {
      return "serialized file is not 8-byte aligned"
    }
    _ = RNNStateDictArchitecture(file.orderedEntries.map { ($0.name, $0.entry.shape) })?.description
    do {
      let archive = try ModelArchive(file: file)
      let rewritten = try ModelArchive(file: archive.safeTensorsFile())
      let sameFields = rewritten.task == archive.task && rewritten.producer == archive.producer
        && rewritten.configuration == archive.configuration && rewritten.training == archive.training
      let sameBody = rewritten.file == archive.file
      if !sameFields || !sameBody { return "archive does not round-trip" }
    } catch let error as IOError {
      if error.problem.isEmpty { return "checkpoint IOError without a message" }
    } catch {
      return "checkpoint threw a non-IOError \(type(of: error)): \(error)"
    }
    return nil
  }

  /// Same for .npy: writing and reading back keeps shape and values (floats as float32 bits).
  static func numPyRoundTripProblem(_ array: NumPyArray) -> String? {
    let again: NumPyArray
    do { again = try NumPyArray(bytes: array.serialized()) } catch { return "re-serialized array does not parse: \(error)" }
    if again.shape != array.shape { return "shape changed in a round trip" }
    switch (array.values, again.values) {
    case (.float(let a), .float(let b)):
      if a.scalars.map(\.bitPattern) != b.scalars.map(\.bitPattern) { return "float values changed in a round trip" }
    case (.integer(let a), .integer(let b)):
      if a != b { return "integer values changed in a round trip" }
    default:
      return "value family changed in a round trip"
    }
    return nil
  }

  // MARK: - Seeds

  /// Valid files covering every dtype, layouts and the Recur checkpoint conventions.
  public static func builtInSeeds() -> [Seed] {
    var seeds: [Seed] = []
    var g = RandomGenerator(seed: 42)
    func values(_ n: Int) -> [Float] { (0..<n).map { _ in g.nextNormal() } }

    let small = SafeTensorsFile(tensors: [("a", Tensor(shape: [2, 3], scalars: values(6))), ("b", Tensor(values(3)))], metadata: ["format": "pt"])
    seeds.append(Seed(name: "f32", format: .safetensors, bytes: small.serialized()))

    var mixed = SafeTensorsFile(metadata: ["note": "mixed dtypes", "json": "{\"a\": [1, 2]}"])
    func raw(_ dtype: SafeTensorsDType, _ shape: [Int]) -> SafeTensorsFile.Entry {
      let n = shape.reduce(1, *)
      return SafeTensorsFile.Entry(dtype: dtype, shape: shape, raw: (0..<(n * dtype.bitWidth / 8)).map { _ in UInt8(truncatingIfNeeded: g.next()) })
    }
    mixed["half"] = raw(.f16, [4])
    mixed["brain"] = raw(.bf16, [2, 2])
    mixed["double"] = raw(.f64, [3])
    mixed["long"] = SafeTensorsFile.Entry(integers: [-3, 0, 1 << 40], shape: [3])
    mixed["int"] = SafeTensorsFile.Entry(integers: [7, -8], shape: [2], dtype: .i32)
    mixed["bytes"] = raw(.u8, [5])
    mixed["flags"] = SafeTensorsFile.Entry(dtype: .bool, shape: [2], raw: [0, 1])
    mixed["fp8"] = raw(.f8E4M3, [3])
    mixed["fp8b"] = raw(.f8E5M2, [2])
    mixed["unsigned"] = raw(.u64, [1])
    mixed["scalar"] = SafeTensorsFile.Entry(Tensor(scalar: 2.5))
    mixed["empty"] = SafeTensorsFile.Entry(Tensor(shape: [0, 3], scalars: []))
    seeds.append(Seed(name: "mixed", format: .safetensors, bytes: mixed.serialized()))

    // A bidirectional projected LSTM language model's state_dict, as PyTorch names it.
    var lm: [(name: String, tensor: Tensor)] = [("embedding.weight", Tensor(shape: [5, 2], scalars: values(10)))]
    for layer in 0..<2 {
      for suffix in ["", "_reverse"] {
        let input = layer == 0 ? 2 : 2
        lm += [("lstm.weight_ih_l\(layer)\(suffix)", Tensor(shape: [12, input], scalars: values(12 * input))),
               ("lstm.weight_hh_l\(layer)\(suffix)", Tensor(shape: [12, 1], scalars: values(12))),
               ("lstm.bias_ih_l\(layer)\(suffix)", Tensor(values(12))),
               ("lstm.bias_hh_l\(layer)\(suffix)", Tensor(values(12))),
               ("lstm.weight_hr_l\(layer)\(suffix)", Tensor(shape: [1, 3], scalars: values(3)))]
      }
    }
    lm += [("decoder.weight", Tensor(shape: [5, 2], scalars: values(10))), ("decoder.bias", Tensor(values(5)))]
    seeds.append(Seed(name: "lstm-lm", format: .safetensors, bytes: SafeTensorsFile(tensors: lm).serialized()))

    var archive = ModelArchive(task: "language-model", configuration: "{\"cell\":\"rnn\",\"vocabulary\":[97,98,10]}")
    archive.add([("rnn.weight_ih_l0", Tensor(shape: [3, 2], scalars: values(6))), ("rnn.weight_hh_l0", Tensor(shape: [3, 3], scalars: values(9)))])
    archive.add([("exp_avg.0", Tensor(values(6))), ("step", Tensor(scalar: 3))], prefix: ModelArchive.optimizerPrefix)
    archive.training = "{\"step\":17,\"generator\":[\"1\",\"2\",\"3\",\"4\"]}"
    archive.file.metadata["user"] = "x"
    seeds.append(Seed(name: "archive", format: .safetensors, bytes: archive.safeTensorsFile().serialized()))
    seeds.append(Seed(name: "no-tensors", format: .safetensors, bytes: SafeTensorsFile().serialized()))

    seeds.append(Seed(name: "npy-f4", format: .npy, bytes: NumPyArray(Tensor(shape: [2, 3], scalars: values(6))).serialized()))
    seeds.append(Seed(name: "npy-i8", format: .npy, bytes: NumPyArray(integers: [1, -2, 3, Int.max], shape: [2, 2]).serialized()))
    func npy(_ descr: String, _ shape: [Int], fortran: Bool = false, version: UInt8 = 1) -> [UInt8] {
      let size = Int(descr.dropFirst(2))!
      let n = shape.reduce(1, *)
      return npyBytes(descr: descr, shapeText: shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")",
                      fortran: fortran, version: version, data: (0..<(n * size)).map { _ in UInt8(truncatingIfNeeded: g.next()) })
    }
    seeds.append(Seed(name: "npy-f8", format: .npy, bytes: npy("<f8", [3])))
    seeds.append(Seed(name: "npy-f2", format: .npy, bytes: npy("<f2", [2, 2])))
    seeds.append(Seed(name: "npy-be-f4", format: .npy, bytes: npy(">f4", [3])))
    seeds.append(Seed(name: "npy-i4", format: .npy, bytes: npy("<i4", [4])))
    seeds.append(Seed(name: "npy-u8", format: .npy, bytes: npy("<u8", [2])))
    seeds.append(Seed(name: "npy-bool", format: .npy, bytes: npy("|b1", [3])))
    seeds.append(Seed(name: "npy-scalar", format: .npy, bytes: npy("<f8", [])))
    seeds.append(Seed(name: "npy-empty", format: .npy, bytes: npy("<f4", [0, 4])))
    seeds.append(Seed(name: "npy-v2", format: .npy, bytes: npy("<f4", [2], version: 2)))
    seeds.append(Seed(name: "npy-fortran-1d", format: .npy, bytes: npy("<f4", [1, 3], fortran: true)))
    return seeds + dataSeeds() + checkpointSeeds() + seriesSeeds()
  }

  /// A .npy file with the given header fields and raw data (header padded as numpy.save pads).
  public static func npyBytes(descr: String, shapeText: String, fortran: Bool, version: UInt8, data: [UInt8]) -> [UInt8] {
    var header = Array("{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shapeText), }".utf8)
    let preamble = version == 1 ? 10 : 12
    header += repeatElement(UInt8(ascii: " "), count: (64 - (preamble + header.count + 1) % 64) % 64)
    header.append(UInt8(ascii: "\n"))
    var bytes = NumPyArray.magic + [version, 0]
    let length: [UInt8]
    if version == 1 {
      length = [UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
    } else {
      length = (0..<4).map { (shift: Int) -> UInt8 in UInt8((header.count >> (8 * shift)) & 0xFF) }
    }
    bytes += length
    return bytes + header + data
  }

  // MARK: - Mutations

  /// Where the header lives: the length field's range and the header text's range, if they fit.
  static func layout(_ bytes: [UInt8], format: Format) -> (lengthField: Range<Int>, header: Range<Int>)? {
    switch format {
    case .safetensors, .checkpoint:
      guard bytes.count >= 8 else { return nil }
      let n = bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
      guard n <= UInt64(bytes.count - 8) else { return nil }
      return (0..<8, 8..<(8 + Int(n)))
    default:
      guard format == .npy, bytes.count >= 10 else { return nil }
      let wide = bytes[6] >= 2
      let field = wide ? 8..<12 : 8..<10
      guard bytes.count >= field.upperBound else { return nil }
      let n = field.enumerated().reduce(0) { $0 | Int(bytes[$1.element]) << (8 * $1.offset) }
      guard n <= bytes.count - field.upperBound else { return nil }
      return (field, field.upperBound..<(field.upperBound + n))
    }
  }

  /// Writes `value` little-endian into `range`.
  static func store(_ value: UInt64, into bytes: inout [UInt8], _ range: Range<Int>) {
    for (k, i) in range.enumerated() { bytes[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(k))) }
  }

  static let interestingBytes: [UInt8] = Array("{}[]\",:-09 .eE\\".utf8) + [0x00, 0xFF, 0x7F, 0x80, 0x0A]
  static let replacementNumbers = ["0", "1", "2", "7", "8", "-1", "1.5", "1e3", "24", "4294967296", "9223372036854775807",
                                   "9223372036854775808", "18446744073709551616", "99999999999999999999999"]
  static let dtypeNames = SafeTensorsDType.allCases.map(\.rawValue) + ["F99", "", "f32", "I128"]
  static let npyDescrs = ["<f4", "<f8", "<f2", ">f4", "<i4", "<i8", "|u1", "|b1", "<u8", "|O", "<U3", "<c8", "|V8", "<M8", "f4", "<f16", "<i3"]

  /// Applies one random mutation, returning its name.
  static func mutate(_ bytes: inout [UInt8], format: Format, rng: inout RandomGenerator) -> String {
    func random(_ n: Int) -> Int { n <= 0 ? 0 : Int(rng.next() % UInt64(n)) }
    let layout = layout(bytes, format: format)
    // Positions near the header are worth more than positions deep in the data.
    func position() -> Int {
      if let layout, random(4) != 0 { return random(min(bytes.count, layout.header.upperBound + 8)) }
      return random(bytes.count)
    }

    if format.isText && random(2) == 0 { return mutateText(&bytes, rng: &rng) }
    if format == .checkpoint && random(2) == 0, let name = mutateCheckpointMetadata(&bytes, rng: &rng) { return name }
    switch random(12) {
    case 0 where !bytes.isEmpty:
      let i = position()
      bytes[i] ^= 1 << UInt8(random(8))
      return "bit flip at \(i)"
    case 1 where !bytes.isEmpty:
      let i = position()
      bytes[i] = interestingBytes[random(interestingBytes.count)]
      return "byte \(i) := \(bytes[i])"
    case 2:
      let n = random(bytes.count + 1)
      bytes.removeLast(bytes.count - n)
      return "truncate to \(n)"
    case 3:
      let n = 1 + random(64)
      bytes += (0..<n).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
      return "append \(n)"
    case 4 where layout != nil:
      let field = layout!.lengthField
      let old = field.enumerated().reduce(UInt64(0)) { $0 | UInt64(bytes[$1.element]) << (8 * UInt64($1.offset)) }
      let choices: [UInt64] = [0, 1, old &+ 1, old &- 1, old &+ UInt64(1 + random(16)), old &- UInt64(1 + random(16)),
                               UInt64(bytes.count), UInt64.max, 100_000_001, UInt64(random(1 << 20)), rng.next()]
      store(choices[random(choices.count)], into: &bytes, field)
      return "length field edit"
    case 5 where layout != nil:
      return editHeader(&bytes, layout!, rng: &rng, name: "number") { text, rng in
        let digits = text.indices.filter { text[$0] >= 0x30 && text[$0] <= 0x39 }
        guard let start = digits.randomElement(using: &rng) else { return }
        var end = start
        while end < text.count, text[end] >= 0x30 && text[end] <= 0x39 { end += 1 }
        text.replaceSubrange(start..<end, with: Array(replacementNumbers.randomElement(using: &rng)!.utf8))
      }
    case 6 where layout != nil:
      return editHeader(&bytes, layout!, rng: &rng, name: "dtype") { text, rng in
        let candidates = format != .npy ? dtypeNames : npyDescrs
        let pattern = format != .npy ? Array("\"dtype\":\"".utf8) : Array("'descr': '".utf8)
        guard let at = firstRange(of: pattern, in: text, rng: &rng) else { return }
        var end = at.upperBound
        while end < text.count, text[end] != UInt8(ascii: "\"") && text[end] != UInt8(ascii: "'") { end += 1 }
        text.replaceSubrange(at.upperBound..<end, with: Array(candidates.randomElement(using: &rng)!.utf8))
      }
    case 7 where layout != nil:
      return editHeader(&bytes, layout!, rng: &rng, name: "duplicate span") { text, rng in
        guard !text.isEmpty else { return }
        let a = Int(rng.next() % UInt64(text.count)), length = 1 + Int(rng.next() % UInt64(min(120, text.count - a)))
        let chunk = Array(text[a..<(a + length)])
        text.insert(contentsOf: chunk, at: Int(rng.next() % UInt64(text.count + 1)))
      }
    case 8 where layout != nil:
      return editHeader(&bytes, layout!, rng: &rng, name: "delete span") { text, rng in
        guard !text.isEmpty else { return }
        let a = Int(rng.next() % UInt64(text.count)), length = 1 + Int(rng.next() % UInt64(min(40, text.count - a)))
        text.removeSubrange(a..<(a + length))
      }
    case 9 where layout != nil:
      return editHeader(&bytes, layout!, rng: &rng, name: "structure") { text, rng in
        let inserts = ["[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
                       String(repeating: "[", count: 5000), "{\"x\":", "\"__metadata__\":{\"k\":1},", "True", "'fortran_order': True, ",
                       "\"\\ud800\"", "\"\\u0000\"", "\u{FF}\u{FE}", ",", "null", "{}", "\"data_offsets\":[0,0],", "(1, 2, 3)"]
        text.insert(contentsOf: Array(inserts.randomElement(using: &rng)!.utf8), at: Int(rng.next() % UInt64(text.count + 1)))
      }
    case 10 where layout != nil && format != .npy:
      // Duplicate a whole tensor entry: the text from one name's quote to the closing brace of its info.
      return editHeader(&bytes, layout!, rng: &rng, name: "duplicate entry") { text, rng in
        guard let at = firstRange(of: Array("\":{\"dtype\"".utf8), in: text, rng: &rng), at.lowerBound > 0 else { return }
        var start = at.lowerBound - 1
        while start > 0, text[start] != UInt8(ascii: "\"") { start -= 1 }
        guard let close = text[at.upperBound...].firstIndex(of: UInt8(ascii: "}")) else { return }
        let entry = Array(text[start...close])
        text.insert(contentsOf: entry + Array(",".utf8), at: start)
      }
    default:
      if bytes.count >= 2 {
        let a = position(), b = random(bytes.count)
        bytes.swapAt(a, b)
        return "swap \(a) \(b)"
      }
    }
    bytes.append(UInt8(truncatingIfNeeded: rng.next()))
    return "append 1"
  }

  /// Applies `edit` to the header text, then (usually) fixes the length field so parsing gets
  /// past it to the deeper checks.
  static func editHeader(_ bytes: inout [UInt8], _ layout: (lengthField: Range<Int>, header: Range<Int>), rng: inout RandomGenerator,
                         name: String, _ edit: (inout [UInt8], inout RandomGenerator) -> Void) -> String {
    var text = Array(bytes[layout.header])
    edit(&text, &rng)
    bytes.replaceSubrange(layout.header, with: text)
    let fix = rng.next() % 4 != 0
    if fix { store(UInt64(text.count), into: &bytes, layout.lengthField) }
    return "header \(name) edit\(fix ? "" : " (length not fixed)")"
  }

  /// A random occurrence of `pattern` in `text`.
  static func firstRange(of pattern: [UInt8], in text: [UInt8], rng: inout RandomGenerator) -> Range<Int>? {
    guard text.count >= pattern.count, !pattern.isEmpty else { return nil }
    var found: [Int] = []
    for i in 0...(text.count - pattern.count) where text[i] == pattern[0] && Array(text[i..<(i + pattern.count)]) == pattern {
      found.append(i)
    }
    guard let i = found.randomElement(using: &rng) else { return nil }
    return i..<(i + pattern.count)
  }
}
