import Foundation
import Testing
@testable import Recur

#if canImport(Glibc)
import Glibc
#endif

/// `recur abc`, `recur generate --format abc`, `recur complete` and `recur chat` as a user drives
/// them: a model memorises one tune, then samples it back as valid ABC and MIDI; completions come
/// as text and JSON; a conversation runs through a pipe and through a pseudo-terminal.
@Suite("recur abc / generate --format abc / complete / chat (executable)", .serialized)
struct GenerationCLITests {
  static let tune = "X: 1\nT: Test Jig\nM: 6/8\nL: 1/8\nK:G\nD | GAG GBd | ege dBG | ABc BAG | AGE D2 :|\n\n"

  final class Scratch: Sendable {
    let root: URL
    init() throws {
      root = FileManager.default.temporaryDirectory.appendingPathComponent("recur-gen-\(UUID().uuidString)")
      try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    }
    deinit { try? FileManager.default.removeItem(at: root) }
    func path(_ name: String) -> String { root.appendingPathComponent(name).path }
  }

  /// A model that has learnt one tune by heart (greedy sampling writes it back).
  static let trained: (scratch: Scratch, checkpoint: String)? = {
    guard let scratch = try? Scratch() else { return nil }
    let corpus = scratch.path("tunes.abc")
    try? Data(String(repeating: tune, count: 40).utf8).write(to: URL(fileURLWithPath: corpus))
    let result = try? RecurExecutable.run(["train", "--corpus", corpus, "--hidden-size", "48", "--num-layers", "1", "--embedding-size", "8",
                                           "--batch-size", "8", "--seq-length", "32", "--dropout", "0", "--learning-rate", "0.01",
                                           "--steps", "300", "--eval-every", "300", "--val-fraction", "0.05", "--sample-every", "0",
                                           "--out", scratch.path("run"), "--seed", "1"], timeout: 300)
    guard result?.status == 0 else { return nil }
    return (scratch, scratch.path("run/best.safetensors"))
  }()

  /// Runs `recur arguments` with `input` on standard input.
  func run(_ arguments: [String], input: String, in directory: String) throws -> (status: Int32, stdout: String, stderr: String) {
    let executable = try #require(RecurExecutable.url)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    process.currentDirectoryURL = URL(fileURLWithPath: directory)
    let stdin = Pipe(), stdout = Pipe(), stderr = Pipe()
    process.standardInput = stdin
    process.standardOutput = stdout
    process.standardError = stderr
    try process.run()
    stdin.fileHandleForWriting.write(Data(input.utf8))
    try stdin.fileHandleForWriting.close()
    let out = stdout.fileHandleForReading.readDataToEndOfFile()
    let err = stderr.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: out, as: UTF8.self), String(decoding: err, as: UTF8.self))
  }

  @Test func abcChecksFilesAndWritesTheirMIDI() throws {
    let scratch = try Scratch()
    let fixtures = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil)).appendingPathComponent("music")
    let bad = scratch.path("bad.abc")
    try Data("X:1\nM:2/4\nL:1/8\nK:G\nABcde|\n\nX:2\nK:G\n[AB\n".utf8).write(to: URL(fileURLWithPath: bad))
    let result = try RecurExecutable.run(["abc", fixtures.appendingPathComponent("tiny.abc").path, fixtures.appendingPathComponent("repeats.abc").path,
                                          bad, "--midi", scratch.path("midi"), "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let reports = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [[String: Any]])
    #expect(reports.map { $0["valid"] as? Int } == [1, 1, 0])
    #expect(reports.map { $0["read"] as? Int } == [1, 1, 1])
    #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("midi/tune-0001.mid"))) == Data(contentsOf: fixtures.appendingPathComponent("tiny.mid")))
    #expect(try Data(contentsOf: URL(fileURLWithPath: scratch.path("midi/tune-0002.mid"))) == Data(contentsOf: fixtures.appendingPathComponent("repeats.mid")))
    let text = try RecurExecutable.run(["abc", bad, "--problems"])
    #expect(text.stdout.contains("more than the metre") && text.stdout.contains("unterminated chord") && text.stdout.contains("2 tunes, 1 read"))
    let missing = try RecurExecutable.run(["abc", scratch.path("none.abc")])
    #expect(missing.status == 1 && missing.stderrLines.first?.contains("does not exist") == true)
  }

  @Test func generateWritesValidTunesAsABCAndMIDI() throws {
    let (scratch, checkpoint) = try #require(Self.trained, "training the tune model failed")
    let out = scratch.path("tunes")
    let result = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--format", "abc", "--count", "3", "--temperature", "0",
                                          "--header", "M:6/8", "--out", out, "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    #expect(report["tunes"] as? Int == 3)
    #expect(report["headers"] as? [String] == ["M:6/8"])
    let valid = try #require(report["valid"] as? Int)
    #expect(valid == 3, "greedy sampling of a memorised tune: \(result.stdout.prefix(1500))")
    for number in 1...valid {
      let stem = String(format: "%03d", number)
      let text = try String(contentsOfFile: "\(out)/\(stem).abc", encoding: .utf8)
      // X: with the tune's number (or 1 when the model never saw one of its digits), then the header field given.
      #expect(text.hasPrefix("X: \(number == 3 ? 1 : number)\nM:6/8\n"), "\(text)")
      let midi = try Data(contentsOf: URL(fileURLWithPath: "\(out)/\(stem).mid"))
      #expect([UInt8](midi) == (try ABCReader.readTune(text).midiFile().bytes()))
    }
    // The tunes on standard output, each followed by its verdict.
    let plain = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--format", "abc", "--count", "1", "--temperature", "0",
                                         "--out", scratch.path("plain")])
    #expect(plain.stdout.contains("% valid\n") && plain.stdout.contains("% valid tunes: 1 of 1"))
    // Without --temperature, tunes are drawn at 0.2.
    let drawn = try [[], ["--temperature", "0.2"]].map { flags in
      try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--format", "abc", "--count", "2", "--seed", "3",
                               "--out", scratch.path("default")] + flags).stdout
    }
    #expect(drawn[0] == drawn[1] && drawn[0].contains("% valid tunes:"))
    for (arguments, message) in [(["--header", "M:6/0"], "--header M:"), (["--prompt", "X"], "--prompt is for --format text"),
                                 (["--count", "0"], "--count must be a positive integer"), (["--format", "midi"], "unknown --format")] {
      let bad = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--format", "abc", "--out", scratch.path("bad")] + arguments)
      #expect(bad.status == 1 && bad.stderrLines.first?.contains(message) == true, "\(arguments): \(bad.stderr)")
      #expect(!FileManager.default.fileExists(atPath: scratch.path("bad")))
    }
    let textOnly = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--count", "2"])
    #expect(textOnly.status == 1 && textOnly.stderr.contains("--count is for --format abc"))
  }

  @Test func completeListsContinuationsWithProbabilities() throws {
    let (_, checkpoint) = try #require(Self.trained, "training the tune model failed")
    let result = try RecurExecutable.run(["complete", "--checkpoint", checkpoint, "--prefix", "T: Tes", "-k", "2", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    let report = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
    let completions = try #require(report["completions"] as? [[String: Any]])
    #expect(completions.first?["text"] as? String == "t")
    for c in completions { #expect((c["probability"] as? Double).map { $0 > 0 && $0 <= 1 } == true) }
    let text = try RecurExecutable.run(["complete", "--checkpoint", checkpoint, "--prefix", "T: Tes", "-k", "1"])
    #expect(text.stdout.hasSuffix("  Test\n"), "\(text.stdout)")
    let bad = try RecurExecutable.run(["complete", "--checkpoint", checkpoint, "--prefix", "Zebra"])
    #expect(bad.status == 1 && bad.stderr.contains("vocabulary lacks"))
  }

  @Test func chatRunsThroughAPipeSavesAndResumes() throws {
    let (scratch, checkpoint) = try #require(Self.trained, "training the tune model failed")
    let args = ["chat", "--checkpoint", checkpoint, "--turn-prefix", "|", "--seed", "4", "--max-length", "40"]
    let first = try run(args, input: "GAG\n/temperature 0\n/save talk.safetensors\nABc\n/bogus\n/reset\n", in: scratch.root.path)
    #expect(first.status == 0, "\(first.stderr)")
    #expect(first.stdout.contains("(temperature 0.0)") && first.stdout.contains("(saved to talk.safetensors")
      && first.stdout.contains("(unknown command /bogus") && first.stdout.contains("(conversation forgotten)"))
    #expect(!first.stdout.contains("> "), "no prompts on a pipe")
    // Resumed, the conversation goes on exactly as it did after /save.
    let resumed = try run(["chat", "--checkpoint", checkpoint, "--resume", "talk.safetensors", "--max-length", "40"], input: "ABc\n", in: scratch.root.path)
    #expect(resumed.status == 0, "\(resumed.stderr)")
    let afterSave = first.stdout.components(separatedBy: "talk.safetensors)\n").last ?? ""
    #expect(afterSave.hasPrefix(resumed.stdout), "resumed \(resumed.stdout.debugDescription) vs \(afterSave.debugDescription)")
    let unknown = try run(args, input: "Zebra\n", in: scratch.root.path)
    #expect(unknown.status == 0 && unknown.stdout.contains("say it with other characters"))
  }

  @Test func chatRunsInAPseudoTerminal() throws {
    let (scratch, checkpoint) = try #require(Self.trained, "training the tune model failed")
    var master: Int32 = 0, slave: Int32 = 0
    #expect(openpty(&master, &slave, nil, nil, nil) == 0)
    let process = Process()
    process.executableURL = try #require(RecurExecutable.url)
    process.arguments = ["chat", "--checkpoint", checkpoint, "--turn-prefix", "|", "--seed", "4", "--max-length", "30"]
    process.currentDirectoryURL = scratch.root
    let terminal = FileHandle(fileDescriptor: slave, closeOnDealloc: false)
    process.standardInput = terminal
    process.standardOutput = terminal
    process.standardError = terminal
    try process.run()
    close(slave)
    let input = "GAG\n/quit\n"
    _ = input.withCString { write(master, $0, strlen($0)) }
    var output = [UInt8]()
    var buffer = [UInt8](repeating: 0, count: 4096)
    let deadline = Date().addingTimeInterval(60)
    while Date() < deadline {
      var descriptor = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
      if poll(&descriptor, 1, 200) > 0 {
        let n = read(master, &buffer, buffer.count)
        if n <= 0 { break }
        output += buffer[0..<n]
      } else if !process.isRunning {
        break
      }
    }
    close(master)
    process.waitUntilExit()
    let text = String(decoding: output, as: UTF8.self)
    #expect(process.terminationStatus == 0, "\(text)")
    #expect(text.contains("/help for commands") && text.contains("> "), "\(text)")
  }
}
