import Foundation
import Testing

@testable import Recur
import _RecurTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("ModelArchive")
struct ModelArchiveTests {
  struct Config: Codable, Equatable {
    var cell: String
    var hiddenSize: Int
    var learningRate: Double
    var vocabulary: [String]
  }

  struct Training: Codable, Equatable {
    var step: Int
    var rng: [UInt64]
    var bestLoss: Double
  }

  static let config = Config(cell: "gru", hiddenSize: 2, learningRate: 2e-3, vocabulary: ["a", "b", "\n", "é"])

  static func training() -> Training {
    var generator = RandomGenerator(seed: 3)
    _ = generator.next()
    return Training(step: 12, rng: generator.stateWords, bestLoss: 1.25)
  }

  /// F64 values whose float32 rounding loses bits, so a conversion on the way would show.
  static let doubles: [Double] = [0.1, -1e-300, 1e300, .pi]

  static func sample() throws -> ModelArchive {
    var archive = ModelArchive(task: "language-model", configuration: try ModelArchive.json(config), producer: "Recur test (unit)")
    archive.training = try ModelArchive.json(training())
    archive.add([("embedding.weight", Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])), ("rnn.bias_ih_l0", Tensor([0.5, -0.5]))])
    var raw: [UInt8] = []
    for d in doubles { withUnsafeBytes(of: d.bitPattern.littleEndian) { raw.append(contentsOf: $0) } }
    archive.file["scale64"] = SafeTensorsFile.Entry(dtype: .f64, shape: [2, 2], raw: raw)
    archive.file["token_ids"] = SafeTensorsFile.Entry(integers: [-(1 << 40), 0, 7], shape: [3])
    archive.add([("exp_avg.0", Tensor(shape: [3, 2], scalars: [0, 0.1, 0.2, 0.3, 0.4, 0.5])), ("step", Tensor(scalar: 12))],
                prefix: ModelArchive.optimizerPrefix)
    archive.file[ModelArchive.dataPrefix + "cursor"] = SafeTensorsFile.Entry(integers: [5, -1], shape: [2], dtype: .i32)
    archive.add([("h", Tensor([0.25, -0.75]))], prefix: ModelArchive.dataPrefix)
    archive.file.metadata["note"] = "free-form metadata survives"
    return archive
  }

  static let names = ["embedding.weight", "rnn.bias_ih_l0", "scale64", "token_ids", "optimizer.exp_avg.0", "optimizer.step",
                      "data.cursor", "data.h"]

  @Test func roundTripRestoresEverything() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("step12.safetensors")
    let original = try Self.sample()
    try original.write(to: url)
    let loaded = try ModelArchive.read(from: url)

    #expect(loaded.formatVersion == ModelArchive.currentFormat && loaded.formatVersion == 2)
    #expect(loaded.task == "language-model")
    #expect(loaded.producer == "Recur test (unit)")
    #expect(loaded.configuration == original.configuration && loaded.training == original.training)
    #expect(try loaded.decodeConfiguration(Config.self) == Self.config)
    #expect(try loaded.decodeTraining(Training.self) == Self.training())
    #expect(loaded.file.metadata == ["note": "free-form metadata survives"], "the recur.* keys are fields, not metadata")

    // Every tensor in its order, with its dtype and exact bytes.
    #expect(loaded.file.names == Self.names)
    for name in Self.names { #expect(loaded.file[name] == original.file[name], "\(name)") }
    let f64 = try #require(loaded.file["scale64"])
    #expect(f64.dtype == .f64 && f64.shape == [2, 2] && f64.byteCount == 32)
    #expect(f64.tensor.scalars == Self.doubles.map { Float($0) }, "F64 reads as Float rounded to nearest")
    #expect(loaded.file["token_ids"]?.dtype == .i64 && loaded.file["token_ids"]?.integers == [-(1 << 40), 0, 7])
    #expect(loaded.file["data.cursor"]?.dtype == .i32 && loaded.file["data.cursor"]?.integers == [5, -1])

    // The state dict is the floating-point tensors outside the training prefixes (F64 included,
    // integers not); the prefixed entries come back in order without their prefix.
    #expect((try loaded.stateDict).keys.sorted() == ["embedding.weight", "rnn.bias_ih_l0", "scale64"])
    #expect(bits((try loaded.stateDict)["rnn.bias_ih_l0"]!) == bits(Tensor([0.5, -0.5])))
    let optimizer = loaded.tensors(prefix: ModelArchive.optimizerPrefix)
    #expect(optimizer.map(\.name) == ["exp_avg.0", "step"])
    #expect(optimizer[1].tensor.item == 12)
    #expect(loaded.tensors(prefix: ModelArchive.dataPrefix).map(\.name) == ["h"], "integer entries are not float tensors")

    // The restored generator words continue the exact stream.
    var a = RandomGenerator(seed: 3)
    _ = a.next()
    let restoredTraining = try loaded.decodeTraining(Training.self)
    var b = RandomGenerator(state: try #require(restoredTraining).rng)
    #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })

    // The file is a plain safetensors file with the format's metadata keys.
    let file = try SafeTensorsFile.read(from: url)
    #expect(file.names == Self.names)
    #expect(file.metadata[ModelArchive.Key.format] == "2")
    #expect(file.metadata[ModelArchive.Key.task] == "language-model")
    #expect(file.metadata[ModelArchive.Key.producer] == "Recur test (unit)")
    #expect(file.metadata[ModelArchive.Key.configuration]
            == "{\"cell\":\"gru\",\"hiddenSize\":2,\"learningRate\":0.002,\"vocabulary\":[\"a\",\"b\",\"\\n\",\"é\"]}")
    #expect(file.metadata[ModelArchive.Key.training] == original.training)
    #expect(file.metadata[ModelArchive.Key.legacyFormat] == nil)

    // Model weights load into a module by name.
    let module = NamedParameters([("embedding.weight", [3, 2]), ("rnn.bias_ih_l0", [2])])
    var weights = (try loaded.stateDict)
    weights["scale64"] = nil
    try module.loadStateDict(weights)
    #expect(module.stateDict()[1].tensor == Tensor([0.5, -0.5]))
  }

  @Test func modelOnlyArchiveHasNoTrainingState() throws {
    var archive = ModelArchive(task: "forecasting", configuration: "{}")
    archive.add([("w", Tensor([1]))])
    #expect(archive.producer == "Recur \(RecurVersion.current)")
    let loaded = try ModelArchive(file: SafeTensorsFile(bytes: archive.safeTensorsFile().serialized()))
    let training = try loaded.decodeTraining(Training.self)
    #expect(loaded.training == nil && training == nil)
    #expect(loaded.safeTensorsFile().metadata[ModelArchive.Key.training] == nil)
    #expect(loaded.tensors(prefix: ModelArchive.optimizerPrefix).isEmpty && loaded.file.metadata.isEmpty)
    #expect((try loaded.stateDict).keys.sorted() == ["w"])
    #expect(loaded.producer == "Recur \(RecurVersion.current)")
  }

  @Test func tensorNamesAreKeptInOrderAndNeverMerged() throws {
    var archive = ModelArchive(task: "t", configuration: "[]")
    let names = ["z", "a", "é", "E", "e", "optimizer.z", "optimizer.a", "data.b", "m"]
    for (i, name) in names.enumerated() { archive.file[name] = SafeTensorsFile.Entry(Tensor([Float(i)])) }
    let loaded = try ModelArchive(file: SafeTensorsFile(bytes: archive.safeTensorsFile().serialized()))
    #expect(loaded.file.names == names, "order and bytes of every name")
    #expect(loaded.tensors(prefix: ModelArchive.optimizerPrefix).map(\.name) == ["z", "a"])
    #expect((try loaded.stateDict).count == 6, "\"é\", \"E\" and \"e\" are three tensors")
    #expect(loaded.file.orderedEntries.enumerated().allSatisfy { $0.element.entry.tensor.scalars == [Float($0.offset)] })
  }

  // MARK: - Rejected files

  @Test func plainSafeTensorsWeightsAreNotArchives() throws {
    let url = try InteropFixtures.url("lstm_lm.safetensors")
    expectIOError(.notACheckpoint, mentioning: [url.path, "not a Recur archive", "SafeTensorsFile.read(from:)", "loadStateDict"]) {
      _ = try ModelArchive.read(from: url)
    }
  }

  @Test func recur01CheckpointsAreRejectedWithAWayForward() throws {
    // A checkpoint written by Recur 0.1 (`recur.format_version` = 1, no `recur.format`).
    let url = try InteropFixtures.url("recur_0.1_checkpoint.safetensors")
    let file = try SafeTensorsFile.read(from: url)
    #expect(file.metadata[ModelArchive.Key.legacyFormat] == "1" && file.metadata[ModelArchive.Key.format] == nil)
    expectIOError(.notACheckpoint, mentioning: [url.path, "a Recur 0.1 checkpoint (format 1)", "recur convert OLD.safetensors NEW.safetensors"]) {
      _ = try ModelArchive.read(from: url)
    }
    // Any legacy version, even one that is not a number, is named (abbreviated) in the message.
    var other = SafeTensorsFile(metadata: [ModelArchive.Key.legacyFormat: "7"])
    other["w"] = SafeTensorsFile.Entry(Tensor([1]))
    expectIOError(.notACheckpoint, mentioning: ["Recur 0.1 checkpoint (format 7)"]) { _ = try ModelArchive(file: other) }
  }

  @Test func newerFormatsAskForAnUpgrade() throws {
    var file = try Self.sample().safeTensorsFile()
    file.metadata[ModelArchive.Key.format] = "3"
    expectIOError(.notACheckpoint, mentioning: ["archive format 3 is newer than this Recur reads (2)", "Upgrade Recur"]) {
      _ = try ModelArchive(file: file)
    }
  }

  @Test func malformedMetadataIsRejected() throws {
    let base = try Self.sample().safeTensorsFile()
    let cases: [(key: String, value: String?, mention: String)] = [
      (ModelArchive.Key.format, "two", "recur.format is \"two\", not a format number"),
      (ModelArchive.Key.format, "1", "not a format number"),
      (ModelArchive.Key.format, "-2", "not a format number"),
      (ModelArchive.Key.task, nil, "recur.task or recur.configuration is missing"),
      (ModelArchive.Key.configuration, nil, "recur.task or recur.configuration is missing"),
      (ModelArchive.Key.configuration, "{\"a\":", "recur.configuration is not valid JSON"),
      (ModelArchive.Key.configuration, "", "recur.configuration is not valid JSON"),
      (ModelArchive.Key.training, "[1,2,]", "recur.training is not valid JSON"),
    ]
    for (key, value, mention) in cases {
      var file = base
      file.metadata[key] = value
      expectIOError(.invalidMetadata, mentioning: [mention, IOError.corruptSafeTensors]) { _ = try ModelArchive(file: file) }
    }
    // Valid JSON of the wrong shape fails when decoded, naming the field and the type.
    var archive = try ModelArchive(file: base)
    archive.configuration = "{\"cell\": 3}"
    expectIOError(.invalidMetadata, mentioning: ["recur.configuration does not decode as Config", "written by recur for this task"]) {
      _ = try archive.decodeConfiguration(Config.self)
    }
    archive.training = "{\"step\": \"twelve\"}"
    expectIOError(.invalidMetadata, mentioning: ["recur.training does not decode as Training"]) {
      _ = try archive.decodeTraining(Training.self)
    }
    // A value that is not JSON-encodable is a caller error.
    expectIOError(.invalidArgument, mentioning: ["cannot encode", "JSON-encodable"]) { _ = try ModelArchive.json(["x": Double.nan]) }
  }

  // MARK: - Atomic writes

  @Test func failedWritesLeaveTheOldFileAndNoTemporaryFile() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("c.safetensors")
    try Self.sample().write(to: url)
    let before = try Data(contentsOf: url)
    struct Interrupted: Error {}
    #expect(throws: Interrupted.self) {
      try AtomicFile.write(to: url) { out in
        try out.write([UInt8](repeating: 7, count: 1000))
        throw Interrupted()
      }
    }
    #expect(try Data(contentsOf: url) == before)
    #expect(try dir.contents() == ["c.safetensors"])
    // Overwriting replaces the whole file.
    var next = try Self.sample()
    next.task = "other"
    try next.write(to: url)
    #expect(try ModelArchive.read(from: url).task == "other")
    #expect(try dir.contents() == ["c.safetensors"])
    // A destination that is a directory: refused before any temporary file is written.
    let sub = dir.file("sub")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
    try Data([1]).write(to: sub.appendingPathComponent("keep"))
    expectIOError(.fileSystem, mentioning: ["is a directory"]) { try Self.sample().write(to: sub) }
    #expect(try dir.contents() == ["c.safetensors", "sub"])
  }

  /// Kills a process that writes a 3 MiB archive in a loop, at random moments, many times; the
  /// archive on disk must always read and be exactly the last completed write (or the one whose
  /// rename had just happened), never a torn or mixed file.
  @Test func killedWriterLeavesTheOldOrTheNewArchive() throws {
    let recur = URL(fileURLWithPath: recurExecutablePath())
    try #require(FileManager.default.isExecutableFile(atPath: recur.path), "no built recur at \(recur.path); run swift build first")
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("ckpt.safetensors")
    var initial = ModelArchive(task: "stress", configuration: "0")
    initial.add([("weight_a", Tensor([0]))])
    try initial.write(to: url)

    func step(_ archive: ModelArchive) throws -> Int { try #require(Int(archive.configuration), "configuration \(archive.configuration)") }

    var rounds = 0, killedMidWrite = 0, advanced = 0, onDisk = 0
    var delays = RandomGenerator(seed: 11)
    while rounds < 60 && (rounds < 12 || killedMidWrite < 5 || advanced < 1) {
      rounds += 1
      let process = Process()
      process.executableURL = recur
      // Odd rounds let the writer find the step on disk itself (reading the archive first).
      process.arguments = ["checkpoint-stress", "--output", url.path, "--megabytes", "3"] + (rounds % 2 == 0 ? ["--start-step", "\(onDisk + 1)"] : [])
      let out = Pipe()
      process.standardOutput = out
      process.standardError = FileHandle.nullDevice
      try process.run()
      var text = ""
      while !text.contains("\n") {
        let chunk = out.fileHandleForReading.availableData
        if chunk.isEmpty { break }
        text += String(decoding: chunk, as: UTF8.self)
      }
      if rounds % 4 == 3 {
        // After a completed save (however slow the machine), then any moment of the next one.
        while !text.contains("saved ") {
          let chunk = out.fileHandleForReading.availableData
          if chunk.isEmpty { break }
          text += String(decoding: chunk, as: UTF8.self)
        }
        usleep(UInt32(delays.next() % 20_000))
      } else if rounds % 2 == 1 {
        // Any moment: while loading, building, writing, syncing, renaming or printing.
        usleep(UInt32(delays.next() % 150_000))
      } else {
        // Aim at the write: wait for the temporary file to appear, then a little longer.
        var polls = 0
        while polls < 4000, try dir.contents().allSatisfy({ !$0.hasPrefix(".ckpt.safetensors.tmp-") }) {
          usleep(250)
          polls += 1
        }
        usleep(UInt32(delays.next() % 15_000))
      }
      kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      text += String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
      #expect(process.terminationReason == .uncaughtSignal, "the writer finished instead of being killed")

      let lines = text.split(separator: "\n")
      let ready = try #require(lines.first.flatMap { $0.hasPrefix("ready ") ? Int($0.dropFirst(6)) : nil }, "writer output: \(text)")
      let lastSaved = lines.compactMap { $0.hasPrefix("saved ") ? Int($0.dropFirst(6)) : nil }.last ?? ready - 1
      let archive = try ModelArchive.read(from: url)
      let k = try step(archive)
      #expect(k == lastSaved || k == lastSaved + 1, "on disk: step \(k), last save reported: \(lastSaved)")
      #expect(archive.task == "stress" && archive.formatVersion == ModelArchive.currentFormat)
      if k > 0 {
        let value = Float(k)
        #expect(archive.file.names == ["weight_a", "weight_b", "optimizer.exp_avg"])
        #expect((try archive.stateDict).values.allSatisfy { $0.withUnsafeBufferPointer { $0.allSatisfy { $0 == value } } },
                "mixed model values at step \(k)")
        let optimizer = archive.tensors(prefix: ModelArchive.optimizerPrefix)
        #expect(optimizer.map(\.name) == ["exp_avg"])
        #expect(optimizer.first?.tensor.withUnsafeBufferPointer { $0.allSatisfy { $0 == -value } } == true)
      }
      if k >= ready { advanced += 1 }
      #expect(ready == onDisk + 1)
      onDisk = k
      // A kill during a write leaves the writer's temporary file: proof the kill landed mid-write.
      let temporaries = try dir.contents().filter { $0.hasPrefix(".ckpt.safetensors.tmp-") }
      if !temporaries.isEmpty { killedMidWrite += 1 }
      for name in temporaries { try FileManager.default.removeItem(at: dir.file(name)) }
    }
    #expect(killedMidWrite >= 5, "only \(killedMidWrite) of \(rounds) kills landed mid-write")
    #expect(advanced >= 1, "no save completed in \(rounds) rounds")
  }
}

@Suite("Tensor names are bytes")
struct TensorNameBytesTests {
  @Test func canonicallyEquivalentNamesStayTwoTensors() throws {
    // "é" as one scalar and as "e" + combining acute: equal Swift strings, two names to PyTorch.
    let composed = "w\u{E9}", decomposed = "we\u{301}"
    #expect(composed == decomposed)
    var file = SafeTensorsFile()
    file[composed] = SafeTensorsFile.Entry(Tensor([1]))
    file[decomposed] = SafeTensorsFile.Entry(Tensor([2]))
    #expect(file.count == 2)
    let read = try SafeTensorsFile(bytes: file.serialized())
    #expect(read.names.map { Array($0.utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
    #expect(read.orderedTensors.map { $0.tensor.scalars } == [[1], [2]])
    var archive = ModelArchive(task: "t", configuration: "{}")
    archive.file = read
    let again = try ModelArchive(file: SafeTensorsFile(bytes: archive.safeTensorsFile().serialized()))
    #expect(again.file.count == 2)
    file[decomposed] = nil
    #expect(file.count == 1 && file.names.map { Array($0.utf8) } == [Array(composed.utf8)])
  }
}
