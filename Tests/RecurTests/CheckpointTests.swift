import Foundation
import Testing

@testable import Recur
import _RecurTestSupport

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@Suite("Checkpoint")
struct CheckpointTests {
  struct Config: Codable, Equatable {
    var cell: String
    var hiddenSize: Int
    var learningRate: Double
  }

  static func sample() throws -> Checkpoint {
    var generator = RandomGenerator(seed: 3)
    _ = generator.next()
    var checkpoint = Checkpoint(
      model: [("embedding.weight", Tensor(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6])), ("rnn.bias_ih_l0", Tensor([0.5, -0.5]))],
      optimizer: [("exp_avg.0", Tensor(shape: [3, 2], scalars: [0, 0.1, 0.2, 0.3, 0.4, 0.5])), ("step", Tensor(scalar: 12))],
      step: 12, rng: generator, metadata: ["recur.note": "user keys may use the recur. prefix", "val_loss": "1.25"])
    try checkpoint.setConfig(Config(cell: "gru", hiddenSize: 2, learningRate: 2e-3))
    try checkpoint.setVocabulary(["a", "b", "\n"])
    return checkpoint
  }

  @Test func roundTripRestoresEverything() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("step12.safetensors")
    let original = try Self.sample()
    try original.save(to: url)
    let loaded = try Checkpoint.load(from: url)

    #expect(loaded.model.map(\.name) == ["embedding.weight", "rnn.bias_ih_l0"])
    #expect(zip(loaded.model, original.model).allSatisfy { bits($0.tensor) == bits($1.tensor) })
    #expect(loaded.optimizer.map(\.name) == ["exp_avg.0", "step"])
    #expect(loaded.optimizerState["step"]?.item == 12)
    #expect(loaded.step == 12)
    #expect(try loaded.decodeConfig(Config.self) == Config(cell: "gru", hiddenSize: 2, learningRate: 2e-3))
    #expect(try loaded.decodeVocabulary([String].self) == ["a", "b", "\n"])
    #expect(loaded.metadata == original.metadata)

    // The restored generator continues the exact stream.
    var a = try #require(original.rng), b = try #require(loaded.rng)
    #expect((0..<5).map { _ in a.next() } == (0..<5).map { _ in b.next() })

    // The file is a plain safetensors file: weights and optimiser state under their names.
    let file = try SafeTensorsFile.read(from: url)
    #expect(file.names == ["embedding.weight", "rnn.bias_ih_l0", "optimizer.exp_avg.0", "optimizer.step"])
    #expect(file.metadata[Checkpoint.Key.formatVersion] == "1" && file.metadata[Checkpoint.Key.step] == "12")
    #expect(file.metadata[Checkpoint.Key.config] == "{\"cell\":\"gru\",\"hiddenSize\":2,\"learningRate\":0.002}")
    #expect(file.metadata[Checkpoint.Key.rng] == "[" + original.rng!.stateWords.map(String.init).joined(separator: ",") + "]")

    // Model weights load into a module by name.
    let module = NamedParameters([("embedding.weight", [3, 2]), ("rnn.bias_ih_l0", [2])])
    try module.loadStateDict(loaded.modelStateDict)
    #expect(module.stateDict()[1].tensor == Tensor([0.5, -0.5]))
  }

  @Test func minimalCheckpointHasNoOptionalFields() throws {
    let checkpoint = try Checkpoint(file: Checkpoint(model: [("w", Tensor([1]))]).file())
    #expect(checkpoint.step == 0 && checkpoint.rng == nil && checkpoint.config == nil && checkpoint.vocabulary == nil)
    #expect(try checkpoint.decodeConfig(Config.self) == nil)
    #expect(checkpoint.optimizer.isEmpty && checkpoint.metadata.isEmpty)
  }

  @Test func plainWeightsAndNewerFormatsAreNotCheckpoints() throws {
    let url = try InteropFixtures.url("lstm_lm.safetensors")
    expectIOError(.notACheckpoint, mentioning: [url.path, "not a Recur checkpoint", "SafeTensorsFile.read"]) { _ = try Checkpoint.load(from: url) }
    var file = try Checkpoint(model: [("w", Tensor([1]))]).file()
    file.metadata[Checkpoint.Key.formatVersion] = "2"
    expectIOError(.notACheckpoint, mentioning: ["format 2 is newer", "Upgrade Recur"]) { _ = try Checkpoint(file: file) }
  }

  @Test func malformedMetadataIsRejected() throws {
    let base = try Checkpoint(model: [("w", Tensor([1]))], step: 3, rng: RandomGenerator(seed: 1)).file()
    let cases: [(String, String, String)] = [
      (Checkpoint.Key.formatVersion, "one", "not a positive integer"),
      (Checkpoint.Key.formatVersion, "0", "not a positive integer"),
      (Checkpoint.Key.step, "-1", "recur.step"),
      (Checkpoint.Key.step, "3.5", "recur.step"),
      (Checkpoint.Key.rng, "[1,2,3]", "4 unsigned 64-bit integers"),
      (Checkpoint.Key.rng, "[1,2,3,18446744073709551616]", "4 unsigned 64-bit integers"),
      (Checkpoint.Key.rng, "[1,2,3,-4]", "4 unsigned 64-bit integers"),
      (Checkpoint.Key.rng, "nope", "4 unsigned 64-bit integers"),
      (Checkpoint.Key.config, "{\"a\":", "recur.config is not valid JSON"),
      (Checkpoint.Key.vocabulary, "[\"a\",]", "recur.vocabulary is not valid JSON"),
    ]
    for (key, value, mention) in cases {
      var file = base
      file.metadata[key] = value
      expectIOError(.invalidMetadata, mentioning: [mention]) { _ = try Checkpoint(file: file) }
    }
    var missingStep = base
    missingStep.metadata[Checkpoint.Key.step] = nil
    expectIOError(.invalidMetadata, mentioning: ["recur.step is missing"]) { _ = try Checkpoint(file: missingStep) }
    // The largest words round-trip exactly (no Double on the way).
    var max = base
    max.metadata[Checkpoint.Key.rng] = "[18446744073709551615, 0, 1, 9223372036854775808]"
    #expect(try Checkpoint(file: max).rng?.stateWords == [.max, 0, 1, 1 << 63])
    var config = try Checkpoint(file: base)
    config.config = "{\"cell\": 3}"
    expectIOError(.invalidMetadata, mentioning: ["does not decode as Config"]) { _ = try config.decodeConfig(Config.self) }
  }

  @Test func unwritableCheckpointsAreCallerErrors() throws {
    func expectInvalid(_ checkpoint: Checkpoint, _ mention: String) {
      expectIOError(.invalidArgument, mentioning: [mention]) { _ = try checkpoint.file() }
    }
    expectInvalid(Checkpoint(model: [("w", Tensor([1]))], metadata: [Checkpoint.Key.step: "9"]), "\"recur.step\" is reserved")
    expectInvalid(Checkpoint(model: [("optimizer.w", Tensor([1]))]), "starts with the optimiser prefix")
    expectInvalid(Checkpoint(model: [("w", Tensor([1])), ("w", Tensor([2]))]), "two model tensors are named \"w\"")
    expectInvalid(Checkpoint(model: [], optimizer: [("m", Tensor([1])), ("m", Tensor([2]))]), "two optimiser tensors")
    expectInvalid(Checkpoint(model: [], step: -1), "negative")
    expectInvalid(Checkpoint(model: [], config: "{not json}"), "recur.config is not valid JSON")
    var nonFinite = Checkpoint(model: [])
    expectIOError(.invalidArgument, mentioning: ["cannot encode recur.config"]) { try nonFinite.setConfig(["x": Double.nan]) }

    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("c.safetensors")
    expectIOError(.invalidArgument, mentioning: [url.path]) { try Checkpoint(model: [("optimizer.x", Tensor([1]))]).save(to: url) }
    #expect(try dir.contents().isEmpty)
  }

  @Test func failedWritesLeaveTheOldFileAndNoTemporaryFile() throws {
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("c.safetensors")
    try Self.sample().save(to: url)
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
    // A destination that is a directory: the rename fails, the temporary file is removed.
    let sub = dir.file("sub")
    try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: false)
    try Data([1]).write(to: sub.appendingPathComponent("keep"))
    expectIOError(.fileSystem, mentioning: ["rename"]) { try AtomicFile.write([1, 2, 3], to: sub) }
    #expect(try dir.contents() == ["c.safetensors", "sub"])
  }

  /// Kills a process that saves a 3 MiB checkpoint in a loop, at random moments, many times; the
  /// checkpoint on disk must always load and be exactly the last completed save (or the one whose
  /// rename had just happened), never a torn or mixed file.
  @Test func killedWriterLeavesTheOldOrTheNewCheckpoint() throws {
    let recur = URL(fileURLWithPath: recurExecutablePath())
    try #require(FileManager.default.isExecutableFile(atPath: recur.path), "no built recur at \(recur.path); run swift build first")
    let dir = try ScratchDirectory()
    defer { dir.cleanUp() }
    let url = dir.file("ckpt.safetensors")
    try Checkpoint(model: [("weight_a", Tensor([0]))], step: 0).save(to: url)

    var rounds = 0, killedMidWrite = 0, advanced = 0, onDisk = 0
    var delays = RandomGenerator(seed: 11)
    while rounds < 60 && (rounds < 12 || killedMidWrite < 5) {
      rounds += 1
      let process = Process()
      process.executableURL = recur
      // Odd rounds let the writer find the step on disk itself (reading the checkpoint first).
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
      if rounds % 2 == 1 {
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
      let checkpoint = try Checkpoint.load(from: url)
      #expect(checkpoint.step == lastSaved || checkpoint.step == lastSaved + 1, "on disk: step \(checkpoint.step), last save reported: \(lastSaved)")
      if checkpoint.step > 0 {
        let k = Float(checkpoint.step)
        #expect(checkpoint.model.map(\.name) == ["weight_a", "weight_b"])
        #expect(checkpoint.model.allSatisfy { $0.tensor.withUnsafeBufferPointer { $0.allSatisfy { $0 == k } } }, "mixed model values at step \(checkpoint.step)")
        #expect(checkpoint.optimizerState["exp_avg"]?.withUnsafeBufferPointer { $0.allSatisfy { $0 == -k } } == true)
        #expect(checkpoint.config == "{\"step\":\(checkpoint.step)}")
        #expect(checkpoint.rng == RandomGenerator(seed: UInt64(checkpoint.step)))
      }
      if checkpoint.step >= ready { advanced += 1 }
      #expect(ready == onDisk + 1)
      onDisk = checkpoint.step
      // A kill during a write leaves the writer's temporary file: proof the kill landed mid-write.
      let temporaries = try dir.contents().filter { $0.hasPrefix(".ckpt.safetensors.tmp-") }
      if !temporaries.isEmpty { killedMidWrite += 1 }
      for name in temporaries { try FileManager.default.removeItem(at: dir.file(name)) }
    }
    #expect(killedMidWrite >= 5, "only \(killedMidWrite) of \(rounds) kills landed mid-write")
    #expect(advanced >= 1, "no save completed in \(rounds) rounds")
  }
}
