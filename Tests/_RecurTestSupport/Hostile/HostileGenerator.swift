import Foundation
import Recur

/// Hostile variants of every input `recur` reads: numeric flags at their extremes, checkpoints of
/// every kind with each configuration and training field pushed to 0, −1, huge, NaN or a value
/// of the wrong type and with damaged tensors, plain weights (.safetensors), arrays (.npy), CSV,
/// TSV, corpus text, and output destinations that cannot all be written. What runs on what is
/// registered in `HostileRegistry`.
public enum HostileGenerator {
  /// Every case, grouped by what it attacks, in a fixed order. With `checkpointSample`, that
  /// many of the checkpoint cases are kept (a fixed, seeded choice), so a CI run stays short
  /// while a full run covers every field.
  public static func cases(_ seeds: HostileSeeds, checkpointSample: Int? = nil) -> [HostileCase] {
    var checkpoints = checkpointCases(seeds)
    if let n = checkpointSample, n < checkpoints.count {
      var g = RandomGenerator(seed: 18)
      var keep = Array(checkpoints.indices)
      for i in stride(from: keep.count - 1, to: 0, by: -1) { keep.swapAt(i, Int(g.next() % UInt64(i + 1))) }
      checkpoints = keep.prefix(n).sorted().map { checkpoints[$0] }
    }
    return flagCases(seeds) + checkpoints + weightsCases(seeds) + arrayCases(seeds) + tableCases(seeds)
      + corpusCases(seeds) + resultsCases(seeds) + abcCases(seeds) + destinationCases(seeds)
  }

  // MARK: - Flags

  static func flagCases(_ seeds: HostileSeeds) -> [HostileCase] {
    var cases: [HostileCase] = []
    for command in HostileRegistry.commands {
      let words = command.arguments.prefix { !$0.hasPrefix("-") }.joined(separator: " ")
      for flag in command.numericFlags {
        for (label, text) in HostileRegistry.extremeValues {
          var arguments = command.arguments.filter { _ in true }
          // The flag under test replaces the base value of the same flag.
          if let i = arguments.firstIndex(of: flag) { arguments.removeSubrange(i...(i + 1)) }
          if command.budgetFlags.contains(flag) && flag != "--time-limit" {
            // Long work asked for: the time limit bounds the run.
            if command.budgetFlags.contains("--time-limit") { arguments += ["--time-limit", "2s"] }
          } else {
            arguments += command.budgetArguments
          }
          arguments.append("\(flag)=\(text)")
          cases.append(HostileCase(group: "flag", name: "\(words) \(flag)=\(label)", arguments: arguments,
                                   files: seeds.pick(command.seeds), stdin: command.stdin.map { Array($0.utf8) }))
        }
      }
    }
    return cases
  }

  // MARK: - Checkpoints

  /// Replacement texts for a JSON value of each kind.
  static func replacements(for leaf: JSONLeaf, original: String) -> [(label: String, text: String)] {
    switch leaf.kind {
    case .number:
      var values: [(String, String)] = [("0", "0"), ("-1", "-1"), ("2^62", "4611686018427387904"), ("NaN", "NaN"), ("\"x\"", "\"x\"")]
      values.append(original.contains(where: { ".eE".contains($0) }) ? ("-1e300", "-1e300") : ("1e300", "1e300"))
      return values
    case .string:
      if original.hasPrefix("\"{") {
        return [("{}", "\"{}\""), ("position -1", "\"{\\\"position\\\":-1}\""),
                ("position 2^62", "\"{\\\"position\\\":4611686018427387904}\""), ("0", "0")]
      }
      return [("\"\"", "\"\""), ("\"x\"", "\"x\""), ("0", "0")]
    case .bool, .null: return [("0", "0"), ("\"x\"", "\"x\"")]
    case .array: return [("[]", "[]"), ("0", "0")]
    case .object: return [("{}", "{}")]
    }
  }

  /// The checkpoint `bytes` with metadata `key`'s JSON value at `leaf` replaced by `text`.
  static func editingMetadata(_ file: SafeTensorsFile, key: String, _ edit: (String) -> String?) -> [UInt8]? {
    var file = file
    guard let text = file.metadata[key] else { return nil }
    guard let edited = edit(text) else { return nil }
    file.metadata[key] = edited
    return file.serialized()
  }

  static func checkpointCases(_ seeds: HostileSeeds) -> [HostileCase] {
    var cases: [HostileCase] = []
    for checkpoint in HostileRegistry.checkpoints {
      guard let file = try? SafeTensorsFile(bytes: seeds[checkpoint.seed]) else { preconditionFailure("seed \(checkpoint.seed) does not parse") }
      let target = "hostile-" + checkpoint.seed
      let words = checkpoint.arguments.prefix { !$0.hasPrefix("-") && $0 != "{}" }.joined(separator: " ")
      func add(_ what: String, _ bytes: [UInt8]) {
        var files = seeds.pick(checkpoint.otherSeeds)
        files[target] = bytes
        cases.append(HostileCase(group: "checkpoint", name: "\(words) on \(checkpoint.seed): \(what)",
                                 arguments: checkpoint.arguments.map { $0 == "{}" ? target : $0 }, files: files,
                                 stdin: checkpoint.stdin.map { Array($0.utf8) }))
      }
      // Every value of the configuration (and, for the commands that resume, of the training record).
      let resumes = checkpoint.arguments.contains("--resume")
      for key in file.metadata.keys.sorted() where key.hasPrefix("recur.") && (resumes || key != "recur.training") {
        let text = file.metadata[key]!
        if let leaves = jsonLeaves(text) {
          for leaf in leaves where !leaf.path.split(separator: ".").contains(where: { Int($0).map { $0 > 0 } ?? false }) {
            let original = String(decoding: Array(text.utf8)[leaf.range], as: UTF8.self)
            for (label, replacement) in replacements(for: leaf, original: original) {
              if let bytes = editingMetadata(file, key: key, { replacing($0, leaf.range, with: replacement) }) {
                add("\(key) \(leaf.path) = \(label)", bytes)
              }
            }
          }
        }
        for (label, replacement) in [("\"\"", ""), ("\"-1\"", "-1"), ("\"99999999999999999999\"", "99999999999999999999")] {
          var damaged = file
          damaged.metadata[key] = replacement
          add("\(key) = \(label)", damaged.serialized())
        }
        var removed = file
        removed.metadata[key] = nil
        add("\(key) removed", removed.serialized())
      }
      for (what, bytes) in tensorDamage(file) { add(what, bytes) }
    }
    return cases
  }

  /// Damaged tensors of `file`: non-finite values, values beyond float32's range, a missing
  /// tensor, a wrong or empty shape — on the first tensor, a recurrent weight and an optimiser
  /// state tensor.
  static func tensorDamage(_ file: SafeTensorsFile) -> [(String, [UInt8])] {
    let names = file.names
    var targets: [String] = []
    for pick in [names.first, names.first { $0.contains("weight_hh") }, names.first { $0.contains("weight_ih") },
                 names.first { $0.hasPrefix("optimizer.") }, names.first { $0.hasPrefix("data.") }, names.last] {
      if let pick, !targets.contains(pick) { targets.append(pick) }
    }
    var result: [(String, [UInt8])] = []
    for name in targets {
      guard let entry = file[name] else { continue }
      let values = entry.tensor.scalars
      let shape = entry.shape
      func with(_ replacement: SafeTensorsFile.Entry?, _ what: String) {
        var damaged = file
        damaged[name] = replacement
        result.append(("tensor \(name) \(what)", damaged.serialized()))
      }
      func float32(_ shape: [Int], _ values: [Float]) -> SafeTensorsFile.Entry {
        SafeTensorsFile.Entry(Tensor(shape: shape, scalars: values))
      }
      if !values.isEmpty {
        for (label, bad) in [("NaN", Float.nan), ("inf", Float.infinity), ("-inf", -Float.infinity)] {
          var v = values
          v[v.count / 2] = bad
          with(float32(shape, v), "holds \(label)")
        }
        var huge: [UInt8] = []
        for (i, x) in values.enumerated() {
          let d = i == 0 ? 1e300 : Double(x)
          withUnsafeBytes(of: d.bitPattern.littleEndian) { huge.append(contentsOf: $0) }
        }
        with(SafeTensorsFile.Entry(dtype: .f64, shape: shape, raw: huge), "as F64 holding 1e300")
      }
      with(nil, "removed")
      if let first = shape.first {
        var bigger = shape
        bigger[0] = first + 1
        with(float32(bigger, [Float](repeating: 0.5, count: bigger.reduce(1, *))), "with an extra row \(bigger)")
        var empty = shape
        empty[0] = 0
        with(float32(empty, []), "with shape \(empty)")
        if shape.count == 2 {
          with(float32([shape[0], 0], []), "with shape \([shape[0], 0])")
          with(float32([shape[1], shape[0]], values), "transposed")
        }
      }
      with(float32([], [1]), "as a scalar")
      // A shape the library refuses to build: written by editing the header text.
      var zero = file
      zero[name] = float32([0, 7, 7], [])
      result.append(("tensor \(name) with shape [0, 2^40, 2^40]",
                     patchingHeader(zero.serialized(), "[0,7,7]", "[0,1099511627776,1099511627776]")))
    }
    return result
  }

  /// A safetensors file with `old` replaced by `new` in its header (the length prefix updated).
  static func patchingHeader(_ bytes: [UInt8], _ old: String, _ new: String) -> [UInt8] {
    let length = Int(bytes[0..<8].enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
    let header = String(decoding: bytes[8..<(8 + length)], as: UTF8.self).replacingOccurrences(of: old, with: new)
    let text = Array(header.utf8)
    return withUnsafeBytes(of: UInt64(text.count).littleEndian) { Array($0) } + text + bytes[(8 + length)...]
  }

  // MARK: - Plain weights (infer, inspect)

  static func weightsCases(_ seeds: HostileSeeds) -> [HostileCase] {
    var cases: [HostileCase] = []
    for (weights, input) in [("lstm.safetensors", "lstm_x.npy"), ("gru.safetensors", "gru_x.npy")] {
      guard let file = try? SafeTensorsFile(bytes: seeds[weights]) else { preconditionFailure("seed \(weights) does not parse") }
      var damages = tensorDamage(file)
      // Architectures a state dict can imply: input size 0, a projection not smaller than the hidden size.
      if let ih = file["weight_ih_l0"] {
        var d = file
        d["weight_ih_l0"] = SafeTensorsFile.Entry(Tensor.zeros([ih.shape[0], 0]))
        damages.append(("input size 0", d.serialized()))
      }
      if let hr = file["weight_hr_l0"], let hh = file["weight_hh_l0"] {
        var d = file
        let hidden = hr.shape[1]
        for suffix in ["", "_reverse"] {
          d["weight_hr_l0" + suffix] = SafeTensorsFile.Entry(Tensor.zeros([hidden, hidden]))
          d["weight_hh_l0" + suffix] = SafeTensorsFile.Entry(Tensor.zeros([hh.shape[0], hidden]))
        }
        damages.append(("projection = hidden size", d.serialized()))
      }
      var unicode = file
      unicode["caf\u{E9}.weight"] = SafeTensorsFile.Entry(Tensor([1]))
      unicode["cafe\u{301}.weight"] = SafeTensorsFile.Entry(Tensor([2]))
      damages.append(("two names equal after Unicode normalisation", unicode.serialized()))
      for (what, bytes) in damages {
        let files = [weights: bytes, input: seeds[input]]
        cases.append(HostileCase(group: "safetensors", name: "infer \(weights): \(what)",
                                 arguments: ["infer", "--weights", weights, "--input", input, "--output", "y.npy", "--final-state", "h.npy"],
                                 files: files))
        if !what.hasPrefix("tensor") || what.contains("2^40") {
          cases.append(HostileCase(group: "safetensors", name: "inspect --stats \(weights): \(what)",
                                   arguments: ["inspect", weights, "--stats"], files: files))
        }
      }
    }
    return cases
  }

  // MARK: - Arrays (.npy)

  /// A version-1 .npy file with a free-form header.
  public static func npy(descr: String, shape: String, data: [UInt8]) -> [UInt8] {
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shape), }"
    while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
    header += "\n"
    let length = UInt16(header.utf8.count)
    return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(length & 0xFF), UInt8(length >> 8)] + Array(header.utf8) + data
  }

  static func float32Bytes(_ values: [Float]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }
  static func float64Bytes(_ values: [Double]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } } }
  static func int64Bytes(_ values: [Int64]) -> [UInt8] { values.flatMap { v in withUnsafeBytes(of: v.littleEndian) { Array($0) } } }

  static func arrayCases(_ seeds: HostileSeeds) -> [HostileCase] {
    // lstm_x.npy is [6, 2, 5] float32; gru_x.npy is batch-first with lengths.
    let inputs: [(String, [UInt8])] = [
      ("shape (0, 2^62, 2^62)", npy(descr: "<f4", shape: "(0, 4611686018427387904, 4611686018427387904)", data: [])),
      ("shape (2^62,)", npy(descr: "<f4", shape: "(4611686018427387904,)", data: [])),
      ("shape (2^31, 2, 5) without data", npy(descr: "<f4", shape: "(2147483648, 2, 5)", data: [])),
      ("shape (6, 0, 5)", npy(descr: "<f4", shape: "(6, 0, 5)", data: [])),
      ("shape (0, 2, 5)", npy(descr: "<f4", shape: "(0, 2, 5)", data: [])),
      ("shape (6, 2, 0)", npy(descr: "<f4", shape: "(6, 2, 0)", data: [])),
      ("shape (6, 2, 4)", npy(descr: "<f4", shape: "(6, 2, 4)", data: float32Bytes([Float](repeating: 0.1, count: 48)))),
      ("rank 1", npy(descr: "<f4", shape: "(5,)", data: float32Bytes([1, 2, 3, 4, 5]))),
      ("rank 4", npy(descr: "<f4", shape: "(1, 6, 2, 5)", data: float32Bytes([Float](repeating: 0.1, count: 60)))),
      ("holding NaN", npy(descr: "<f4", shape: "(6, 2, 5)", data: float32Bytes([Float](repeating: .nan, count: 60)))),
      ("holding inf", npy(descr: "<f4", shape: "(6, 2, 5)", data: float32Bytes([Float](repeating: .infinity, count: 60)))),
      ("f8 holding 1e300", npy(descr: "<f8", shape: "(6, 2, 5)", data: float64Bytes([Double](repeating: 1e300, count: 60)))),
      ("int64", npy(descr: "<i8", shape: "(6, 2, 5)", data: int64Bytes([Int64](repeating: Int64.max, count: 60)))),
      ("truncated data", npy(descr: "<f4", shape: "(6, 2, 5)", data: float32Bytes([1, 2, 3]))),
      ("empty file", []),
    ]
    var cases: [HostileCase] = []
    for (what, bytes) in inputs {
      cases.append(HostileCase(group: "npy", name: "infer --input \(what)",
                               arguments: ["infer", "--weights", "lstm.safetensors", "--input", "x.npy", "--output", "y.npy", "--final-state", "h.npy"],
                               files: ["lstm.safetensors": seeds["lstm.safetensors"], "x.npy": bytes]))
      cases.append(HostileCase(group: "npy", name: "inspect \(what)", arguments: ["inspect", "x.npy", "--stats"], files: ["x.npy": bytes]))
    }
    let lengths: [(String, [UInt8])] = [
      ("negative", npy(descr: "<i8", shape: "(3,)", data: int64Bytes([-1, 2, 3]))),
      ("zero", npy(descr: "<i8", shape: "(3,)", data: int64Bytes([0, 2, 3]))),
      ("2^62", npy(descr: "<i8", shape: "(3,)", data: int64Bytes([1 << 62, 2, 3]))),
      ("Int64.min", npy(descr: "<i8", shape: "(3,)", data: int64Bytes([Int64.min, 2, 3]))),
      ("too few", npy(descr: "<i8", shape: "(2,)", data: int64Bytes([2, 3]))),
      ("float 2.5", npy(descr: "<f8", shape: "(3,)", data: float64Bytes([2.5, 2, 3]))),
      ("float NaN", npy(descr: "<f8", shape: "(3,)", data: float64Bytes([.nan, 2, 3]))),
      ("float 1e300", npy(descr: "<f8", shape: "(3,)", data: float64Bytes([1e300, 2, 3]))),
      ("rank 2", npy(descr: "<i8", shape: "(3, 1)", data: int64Bytes([1, 2, 3]))),
    ]
    for (what, bytes) in lengths {
      cases.append(HostileCase(group: "npy", name: "infer --lengths \(what)",
                               arguments: ["infer", "--weights", "gru.safetensors", "--input", "gru_x.npy", "--batch-first", "--lengths", "l.npy",
                                           "--output", "y.npy", "--final-state", "h.npy"],
                               files: seeds.pick(["gru.safetensors", "gru_x.npy"]).merging(["l.npy": bytes]) { $1 }))
    }
    for (what, bytes) in inputs.prefix(9) {
      cases.append(HostileCase(group: "npy", name: "infer --initial-state \(what)",
                               arguments: ["infer", "--weights", "lstm.safetensors", "--input", "lstm_x.npy", "--initial-state", "s.npy", "--output", "y.npy"],
                               files: seeds.pick(["lstm.safetensors", "lstm_x.npy"]).merging(["s.npy": bytes]) { $1 }))
    }
    return cases
  }

  // MARK: - Tables (CSV, TSV)

  static func tableCases(_ seeds: HostileSeeds) -> [HostileCase] {
    let n = 120
    func series(_ value: (Int) -> String) -> [UInt8] { Array(("x\n" + (0..<n).map { value($0) + "\n" }.joined()).utf8) }
    let seriesFiles: [(String, [UInt8])] = [
      ("values ±1e300", series { $0 % 2 == 0 ? "1e300" : "-1e300" }),
      ("values near 1e308", series { $0 % 3 == 0 ? "1.7e308" : "1.6e308" }),
      ("a value of 1e300", series { $0 == 50 ? "1e300" : String(sin(Double($0) / 5)) }),
      ("a NaN cell", series { $0 == 7 ? "NaN" : String(sin(Double($0) / 5)) }),
      ("an inf cell", series { $0 == 7 ? "inf" : String(sin(Double($0) / 5)) }),
      ("an empty cell", series { $0 == 7 ? "" : String(sin(Double($0) / 5)) }),
      ("a text cell", series { $0 == 7 ? "abc" : String(sin(Double($0) / 5)) }),
      ("a constant series", series { _ in "3" }),
      ("subnormal values", series { $0 % 2 == 0 ? "4e-320" : "-4e-320" }),
      ("values 1e-30 apart", series { String(1 + Double($0) * 1e-30) }),
      ("one row", Array("x\n1\n".utf8)),
      ("a header only", Array("x\n".utf8)),
      ("an empty file", []),
      ("no column x", Array("y\n1\n2\n3\n".utf8)),
      ("column x twice", Array(("x,x\n" + (0..<n).map { "\($0),\($0)\n" }.joined()).utf8)),
      ("ragged rows", Array(("x\n" + (0..<n).map { $0 == 9 ? "1,2,3\n" : "\($0)\n" }.joined()).utf8)),
      ("invalid UTF-8", Array("x\n1\n".utf8) + [0xFF, 0xFE, 0x0A] + Array("2\n".utf8)),
      ("NUL bytes", Array("x\n1\n\0\0\n2\n".utf8)),
      ("a 1 MB line", Array("x\n".utf8) + [UInt8](repeating: UInt8(ascii: "7"), count: 1 << 20)),
    ]
    var cases: [HostileCase] = []
    for (what, bytes) in seriesFiles {
      for (label, arguments) in [
        ("forecast lstm", ["forecast", "--csv", "s.csv", "--column", "x", "--model", "lstm", "--hidden-size", "4", "--epochs", "2", "--lookback", "8", "--out", "out"]),
        ("forecast esn", ["forecast", "--csv", "s.csv", "--column", "x", "--model", "esn", "--units", "20", "--out", "out"]),
        ("forecast esn minmax", ["forecast", "--csv", "s.csv", "--column", "x", "--model", "esn", "--units", "20", "--scaling", "minmax", "--json"]),
        ("forecast --predict", ["forecast", "--predict", "--checkpoint", "forecast_lstm.safetensors", "--csv", "s.csv", "--column", "x", "--steps", "3"]),
      ] {
        cases.append(HostileCase(group: "csv", name: "\(label) on \(what)", arguments: arguments,
                                 files: ["s.csv": bytes, "forecast_lstm.safetensors": seeds["forecast_lstm.safetensors"]]))
      }
    }
    let reviews = String(decoding: seeds["reviews.csv"], as: UTF8.self)
    let reviewFiles: [(String, String)] = [
      ("a header only", "id,mean_rating,label,text\n"),
      ("no text column", "id,label\n1,1\n2,0\n"),
      ("empty texts", "label,text\n1,\n0,\n1,\n0,\n1,\n0,\n"),
      ("one class", "label,text\n" + (0..<20).map { "1,text number \($0)\n" }.joined()),
      ("a label per row", "label,text\n" + (0..<40).map { "\($0),text number \($0)\n" }.joined()),
      ("an unterminated quote", reviews + "9,1,1,\"never closed\n"),
      ("a 200 kB text", "label,text\n" + (0..<20).map { "\($0 % 2),\(String(repeating: "word ", count: $0 == 3 ? 40_000 : 3))\n" }.joined()),
      ("NUL bytes", reviews.replacingOccurrences(of: "e", with: "\0")),
      ("an empty file", ""),
    ]
    for (what, text) in reviewFiles {
      cases.append(HostileCase(group: "csv", name: "classify train on \(what)",
                               arguments: ["classify", "train", "--data", "r.csv", "--hidden-size", "4", "--embedding-size", "4", "--head-size", "4",
                                           "--steps", "2", "--out", "out"], files: ["r.csv": Array(text.utf8)]))
      cases.append(HostileCase(group: "csv", name: "classify eval on \(what)",
                               arguments: ["classify", "eval", "--checkpoint", "classify_best.safetensors", "--data", "r.csv"],
                               files: ["r.csv": Array(text.utf8), "classify_best.safetensors": seeds["classify_best.safetensors"]]))
    }
    let italy = String(decoding: seeds["italy.csv"], as: UTF8.self)
    let italyLines = italy.split(separator: "\n").map(String.init)
    let seriesTables: [(String, String)] = [
      ("values 1e300", italyLines[0] + "\n" + italyLines.dropFirst().map { $0.replacingOccurrences(of: "0.", with: "1e300,").components(separatedBy: ",").prefix(26).joined(separator: ",") }.joined(separator: "\n")),
      ("a NaN value", italy.replacingOccurrences(of: "-0.71051757", with: "NaN")),
      ("an inf value", italy.replacingOccurrences(of: "-0.71051757", with: "inf")),
      ("a ragged row", italy + "train,1,0.5\n"),
      ("a header only", italyLines[0] + "\n"),
      ("a text label only", italyLines[0] + "\ntrain,abc," + Array(repeating: "0", count: 24).joined(separator: ",") + "\n"),
    ]
    for (what, text) in seriesTables {
      cases.append(HostileCase(group: "csv", name: "classify series on \(what)",
                               arguments: ["classify", "series", "--data", "i.csv", "--hidden-size", "4", "--steps", "2", "--out", "out"],
                               files: ["i.csv": Array(text.utf8)]))
    }
    let tags = String(decoding: seeds["tags.tsv"], as: UTF8.self)
    let tagFiles: [(String, String)] = [
      ("an empty file", ""),
      ("one token", "word\tNOUN\n"),
      ("no tag column", "a\nb\nc\n"),
      ("a 100 kB word", "\(String(repeating: "w", count: 100_000))\tNOUN\tNN\n\n" + tags),
      ("NUL bytes", tags.replacingOccurrences(of: "e", with: "\0")),
      ("blank lines only", "\n\n\n\n"),
    ]
    for (what, text) in tagFiles {
      cases.append(HostileCase(group: "tsv", name: "tag train on \(what)",
                               arguments: ["tag", "train", "--train", "t.tsv", "--validation", "t.tsv", "--hidden-size", "4", "--embedding-size", "4",
                                           "--char-embedding-size", "2", "--char-hidden-size", "2", "--steps", "2", "--out", "out"],
                               files: ["t.tsv": Array(text.utf8)]))
      cases.append(HostileCase(group: "tsv", name: "tag eval on \(what)",
                               arguments: ["tag", "eval", "--checkpoint", "tag_best.safetensors", "--data", "t.tsv"],
                               files: ["t.tsv": Array(text.utf8), "tag_best.safetensors": seeds["tag_best.safetensors"]]))
    }
    return cases
  }

  // MARK: - Corpus text

  static func corpusCases(_ seeds: HostileSeeds) -> [HostileCase] {
    let texts: [(String, [UInt8])] = [
      ("an empty file", []),
      ("one character", [UInt8(ascii: "a")]),
      ("one character repeated", [UInt8](repeating: UInt8(ascii: "a"), count: 5_000)),
      ("invalid UTF-8", [UInt8](repeating: 0xFF, count: 500)),
      ("NUL bytes", [UInt8](repeating: 0, count: 3_000)),
      ("a truncated UTF-8 sequence", Array(HostileRegistry.corpus.utf8) + [0xE2, 0x82]),
      ("many distinct characters", Array((0..<3_000).map { String(UnicodeScalar(0x4E00 + $0)!) }.joined().utf8)),
    ]
    var cases: [HostileCase] = []
    for (what, bytes) in texts {
      cases.append(HostileCase(group: "corpus", name: "train on \(what)",
                               arguments: ["train", "--corpus", "c.txt", "--hidden-size", "8", "--num-layers", "1", "--embedding-size", "4",
                                           "--seq-length", "16", "--batch-size", "4", "--steps", "2", "--out", "out"], files: ["c.txt": bytes]))
      cases.append(HostileCase(group: "corpus", name: "eval on \(what)",
                               arguments: ["eval", "--checkpoint", "lm_best.safetensors", "--corpus", "c.txt"],
                               files: ["c.txt": bytes, "lm_best.safetensors": seeds["lm_best.safetensors"]]))
      cases.append(HostileCase(group: "corpus", name: "generate --prompt from \(what)",
                               arguments: ["generate", "--checkpoint", "lm_best.safetensors", "--length", "5", "--seed", "1",
                                           "--prompt", String(decoding: bytes.prefix(40), as: UTF8.self)],
                               files: ["lm_best.safetensors": seeds["lm_best.safetensors"]]))
    }
    return cases
  }

  // MARK: - Experiment results and metrics

  /// `recur report` on damaged experiment results (every value of the first run replaced, the file
  /// cut or emptied) and damaged metrics; `recur experiment` adding to a damaged results file.
  static func resultsCases(_ seeds: HostileSeeds) -> [HostileCase] {
    var cases: [HostileCase] = []
    let report = ["report", "--results", "r.json", "--out", "page.html"]
    let text = String(decoding: seeds["results.json"], as: UTF8.self)
    guard let leaves = jsonLeaves(text) else { preconditionFailure("seed results.json does not parse") }
    for leaf in leaves where !leaf.path.split(separator: ".").contains(where: { Int($0).map { $0 > 0 } ?? false }) {
      let original = String(decoding: Array(text.utf8)[leaf.range], as: UTF8.self)
      for (label, replacement) in replacements(for: leaf, original: original) {
        cases.append(HostileCase(group: "results", name: "report on results \(leaf.path) = \(label)", arguments: report,
                                 files: ["r.json": Array(replacing(text, leaf.range, with: replacement).utf8)]))
      }
    }
    let bytes = seeds["results.json"]
    let damaged: [(String, [UInt8])] = [
      ("an empty file", []), ("the first half", Array(bytes.prefix(bytes.count / 2))), ("NUL bytes", [UInt8](repeating: 0, count: 100)),
      ("invalid UTF-8", [UInt8](repeating: 0xFF, count: 100)), ("a JSON array", Array("[]".utf8)),
    ]
    for (what, file) in damaged {
      cases.append(HostileCase(group: "results", name: "report on results: \(what)", arguments: report, files: ["r.json": file]))
      cases.append(HostileCase(group: "results", name: "experiment adding to results: \(what)", arguments: HostileRegistry.experiment + ["--out", "ex"],
                               files: ["ex/results.json": file]))
      cases.append(HostileCase(group: "results", name: "report on metrics: \(what)", arguments: ["report", "--metrics", "m.jsonl", "--out", "page.html"],
                               files: ["m.jsonl": file]))
    }
    let metrics = String(decoding: seeds["metrics.jsonl"], as: UTF8.self)
    for (what, edited) in [("NaN losses", metrics.replacingOccurrences(of: "\"train_loss\":", with: "\"train_loss\":NaN,\"x\":")),
                           ("step 2^62", metrics.replacingOccurrences(of: "\"step\":", with: "\"step\":4611686018427387904,\"y\":")),
                           ("loss 1e300", metrics.replacingOccurrences(of: "\"val_loss\":", with: "\"val_loss\":1e300,\"z\":"))] {
      cases.append(HostileCase(group: "results", name: "report on metrics with \(what)", arguments: ["report", "--metrics", "m.jsonl", "--out", "page.html"],
                               files: ["m.jsonl": Array(edited.utf8)]))
    }
    return cases
  }

  // MARK: - ABC tunes

  /// Hostile ABC files for `recur abc` (to MIDI files and as JSON) and hostile `--header` fields
  /// for `recur generate --format abc`.
  static func abcCases(_ seeds: HostileSeeds) -> [HostileCase] {
    let head = "X:1\nM:6/8\nL:1/8\nK:G\n"
    let texts: [(String, String)] = [
      ("an empty file", ""),
      ("no X: field", "T:x\nK:G\nABC|\n"),
      ("no K: field", "X:1\nM:6/8\n"),
      ("header only", "X:1\nM:6/8\nK:G\n"),
      ("a huge reference number", "X:99999999999999999999999\nK:G\nA|\n"),
      ("a huge metre", "X:1\nM:99999999999/8\nK:G\nA|\n"),
      ("a metre over zero", "X:1\nM:3/0\nK:G\nA|\n"),
      ("a huge unit length", "X:1\nL:1/999999999999\nK:G\nA|\n"),
      ("a huge tempo", "X:1\nQ:1/4=1e300\nK:G\nA|\n"),
      ("a key with 14 sharps", "X:1\nK:B#lyd\nA|\n"),
      ("an unknown key", "X:1\nK:H\nA|\n"),
      ("a huge note length", head + "A99999999999999999|\n"),
      ("a length of zero", head + "A0 B|\n"),
      ("endless halvings", head + "A" + String(repeating: "/", count: 200) + "|\n"),
      ("lengths too fine to add", head + "A/4093 B/4091 c/4087 d/4079 e/4073 f/4057 g/4051 a/4049 b/4027|\n"),
      ("nested tuplets", head + String(repeating: "(9:7:9", count: 60) + String(repeating: "A", count: 60) + "|\n"),
      ("a huge tuplet", head + "(99999999 ABC|\n"),
      ("octave marks beyond MIDI", head + "c" + String(repeating: "'", count: 40) + " C" + String(repeating: ",", count: 40) + "|\n"),
      ("unterminated chord, quote, grace, decoration", head + "[ceg \"Am {ag !trill\n"),
      ("a lone colon and broken rhythms", head + "A : B >>>> c > | >\n"),
      ("a huge multi-bar rest", "X:1\nM:6/8\nK:G\nZ9999999999|\n"),
      ("a long multi-bar rest", "X:1\nM:6/8\nK:G\nZ10000 Z10000 Z10000 Z10000|\n"),
      ("an ending without number", head + "A |[ B |\n"),
      ("a huge ending range", head + "A |[1-99999999 B |\n"),
      ("a tie with nothing before", head + "- A|\n"),
      ("control characters", head + "A\u{01}\u{7F}B|\n"),
      ("20,000 notes", head + String(repeating: "ABc def | ", count: 3_334) + "\n"),
      ("many tunes", String(repeating: "X:1\nM:2/4\nK:D\nAB|\n\n", count: 300)),
    ]
    var cases: [HostileCase] = []
    for (what, text) in texts {
      cases.append(HostileCase(group: "abc", name: "abc --midi on \(what)", arguments: ["abc", "t.abc", "--midi", "out", "--problems"],
                               files: ["t.abc": Array(text.utf8)]))
      cases.append(HostileCase(group: "abc", name: "abc --json on \(what)", arguments: ["abc", "t.abc", "--json"], files: ["t.abc": Array(text.utf8)]))
    }
    for (what, bytes) in [("invalid UTF-8", [UInt8](repeating: 0xFF, count: 50)), ("NUL bytes", [UInt8](repeating: 0, count: 50))] {
      cases.append(HostileCase(group: "abc", name: "abc on \(what)", arguments: ["abc", "t.abc"], files: ["t.abc": bytes]))
    }
    for field in ["M:7/0", "K:Hm", "X:3", "M", ":G", "K:G\nX:2", "L:0/8", "Q:1/4=nan", "T:\u{1F3B5}"] {
      cases.append(HostileCase(group: "abc", name: "generate --format abc --header \(field.debugDescription)",
                               arguments: ["generate", "--checkpoint", "abc_lm.safetensors", "--format", "abc", "--count", "1", "--length", "50",
                                           "--seed", "1", "--header", field, "--out", "out"],
                               files: seeds.pick(["abc_lm.safetensors"])))
    }
    return cases
  }

  // MARK: - Output destinations

  /// Commands whose outputs cannot all be written: a later destination is a directory, or its
  /// directory is missing. Nothing may be written then.
  static func destinationCases(_ seeds: HostileSeeds) -> [HostileCase] {
    let infer = ["infer", "--weights", "lstm.safetensors", "--input", "lstm_x.npy"]
    let inferFiles = seeds.pick(["lstm.safetensors", "lstm_x.npy"])
    var blocked = inferFiles
    blocked["h.npy/keep"] = []
    let forecast = ["forecast", "--csv", "series.csv", "--column", "x", "--model", "esn", "--units", "20", "--out", "out"]
    var cases = [
      HostileCase(group: "destination", name: "infer --final-state in a missing directory",
                  arguments: infer + ["--output", "y.npy", "--final-state", "missing/h.npy"], files: inferFiles),
      HostileCase(group: "destination", name: "infer --final-state is a directory",
                  arguments: infer + ["--output", "y.npy", "--final-state", "h.npy"], files: blocked),
      HostileCase(group: "destination", name: "infer --output is a directory",
                  arguments: infer + ["--output", "h.npy", "--final-state", "y.npy"], files: blocked),
      HostileCase(group: "destination", name: "infer --output /dev/full",
                  arguments: infer + ["--output", "/dev/full"], files: inferFiles),
      HostileCase(group: "destination", name: "infer --final-state /dev/full",
                  arguments: infer + ["--output", "y.npy", "--final-state", "/dev/full"], files: inferFiles),
      HostileCase(group: "destination", name: "generate > /dev/full",
                  arguments: ["generate", "--checkpoint", "lm_best.safetensors", "--length", "200", "--seed", "1"],
                  files: seeds.pick(["lm_best.safetensors"]), stdoutToDevFull: true),
      HostileCase(group: "destination", name: "forecast --json > /dev/full",
                  arguments: ["forecast", "--csv", "series.csv", "--column", "x", "--model", "esn", "--units", "20", "--json"],
                  files: seeds.pick(["series.csv"]), stdoutToDevFull: true),
      HostileCase(group: "destination", name: "inspect > /dev/full",
                  arguments: ["inspect", "lstm.safetensors"], files: seeds.pick(["lstm.safetensors"]), stdoutToDevFull: true),
      HostileCase(group: "destination", name: "forecast --out is a file",
                  arguments: forecast, files: seeds.pick(["series.csv"]).merging(["out": [1]]) { $1 }),
      HostileCase(group: "destination", name: "train --out is a file",
                  arguments: ["train", "--corpus", "corpus.txt", "--hidden-size", "8", "--num-layers", "1", "--steps", "2", "--out", "out"],
                  files: seeds.pick(["corpus.txt"]).merging(["out": [1]]) { $1 }),
    ]
    for blockedName in ["forecast.svg", "metrics.json", "model.safetensors", "forecasts.csv"] {
      cases.append(HostileCase(group: "destination", name: "forecast: out/\(blockedName) is a directory",
                               arguments: forecast, files: seeds.pick(["series.csv"]).merging(["out/\(blockedName)/keep": []]) { $1 }))
    }
    return cases
  }
}
