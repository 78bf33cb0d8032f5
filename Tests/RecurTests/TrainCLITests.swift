import Foundation
import Testing
@testable import Recur

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs the built `recur` executable, which SwiftPM puts in the same products directory as the
/// test bundle (so this works with any `--scratch-path`).
enum RecurExecutable {
  static let url: URL? = {
    var candidates: [URL] = []
    #if os(Linux)
    candidates.append(URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent())
    #endif
    candidates.append(Bundle.main.bundleURL.deletingLastPathComponent())
    candidates.append(Bundle.main.bundleURL)
    for directory in candidates {
      let url = directory.appendingPathComponent("recur")
      var isDirectory: ObjCBool = false
      if FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory), !isDirectory.boolValue { return url }
    }
    return nil
  }()

  struct Result {
    var status: Int32
    var stdout: String
    var stderr: String
    var stderrLines: [Substring] { stderr.split(separator: "\n", omittingEmptySubsequences: true) }
  }

  /// Runs `recur arguments…`, killing it after `timeout` seconds.
  static func run(_ arguments: [String], timeout: Double = 120, whileRunning: ((Process) throws -> Void)? = nil) throws -> Result {
    let executable = try #require(url, "the recur executable was not found next to the test bundle; build the package (swift build) first")
    return try launch(executable, arguments, label: "recur \(arguments.joined(separator: " "))", timeout: timeout, whileRunning: whileRunning)
  }

  /// Runs `executable arguments…` (with `environment` added to this process's), output captured in
  /// files, killed after `timeout` seconds; `whileRunning` sees the started process.
  static func launch(_ executable: URL, _ arguments: [String], environment: [String: String] = [:], label: String,
                     timeout: Double, whileRunning: ((Process) throws -> Void)? = nil) throws -> Result {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recur-cli-io-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let outURL = directory.appendingPathComponent("stdout"), errURL = directory.appendingPathComponent("stderr")
    FileManager.default.createFile(atPath: outURL.path, contents: nil)
    FileManager.default.createFile(atPath: errURL.path, contents: nil)
    let process = Process()
    process.executableURL = executable
    process.arguments = arguments
    if !environment.isEmpty { process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 } }
    process.standardOutput = try FileHandle(forWritingTo: outURL)
    process.standardError = try FileHandle(forWritingTo: errURL)
    try process.run()
    let deadline = Date().addingTimeInterval(timeout)
    try whileRunning?(process)
    while process.isRunning {
      if Date() > deadline {
        kill(process.processIdentifier, SIGKILL)  // SIGTERM may be blocked (inherited signal mask)
        process.waitUntilExit()
        Issue.record("\(label) did not finish in \(timeout) s")
        break
      }
      usleep(20_000)
    }
    process.waitUntilExit()
    return Result(status: process.terminationStatus,
                  stdout: (try? String(contentsOf: outURL, encoding: .utf8)) ?? "",
                  stderr: (try? String(contentsOf: errURL, encoding: .utf8)) ?? "")
  }
}

/// A scratch directory with the input files the cases need.
final class CLIScratch {
  let root: URL
  init() throws {
    root = FileManager.default.temporaryDirectory.appendingPathComponent("recur-cli-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
    try write("empty.txt", [])
    try write("binary.bin", [0x7F, 0x45, 0x4C, 0x46, 0x02, 0x01, 0x00, 0x00, 0xFF, 0xFE])
    try write("latin1.txt", Array("Les mis".utf8) + [0xE9] + Array("rables, caf".utf8) + [0xE9])
    try write("short.txt", Array("hello world".utf8))
    try write("small.txt", Array(Self.smallText.utf8))
    try write("plain-file", Array("not a directory".utf8))
    try write("corrupt.safetensors", [0x10, 0, 0, 0, 0, 0, 0, 0] + Array("{\"a\":{\"dtype\"".utf8))
    try FileManager.default.createDirectory(at: url("adir"), withIntermediateDirectories: true)
    // A valid checkpoint of another kind of model, and plain weights.
    var forecaster = ModelArchive(task: "forecasting", configuration: "{}")
    forecaster.add([("weight", Tensor([1, 2, 3]))])
    try forecaster.write(to: url("forecaster.safetensors"))
    // A Recur 0.1 checkpoint: weights plus its metadata keys.
    try SafeTensorsFile(tensors: [("weight", Tensor([1, 2, 3]))], metadata: ["recur.format_version": "1", "recur.step": "4", "charlm.kind": "char-lm"])
      .write(to: url("wave1.safetensors"))
    try SafeTensorsFile(tensors: [("weight", Tensor([1, 2, 3]))]).write(to: url("weights.safetensors"))
  }
  deinit { try? FileManager.default.removeItem(at: root) }

  static let smallText = String(repeating: "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n", count: 30)

  func url(_ name: String) -> URL { root.appendingPathComponent(name) }
  func path(_ name: String) -> String { url(name).path }
  func write(_ name: String, _ bytes: [UInt8]) throws { try Data(bytes).write(to: url(name)) }
  /// The names in the scratch directory.
  func listing() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: root.path).sorted() }

  /// Flags for a tiny, fast model on `small.txt`.
  func tinyTraining(out: String, steps: Int) -> [String] {
    ["train", "--corpus", path("small.txt"), "--hidden-size", "16", "--num-layers", "2", "--embedding-size", "8",
     "--batch-size", "4", "--seq-length", "16", "--dropout", "0.1", "--steps", "\(steps)", "--out", out, "--seed", "3"]
  }
}

@Suite("recur train / generate / eval (executable)", .serialized)
struct TrainCLITests {
  /// Each bad input: one line on stderr naming the problem, a non-zero exit, no files written.
  static let badTrainInputs: [(arguments: [String], message: String)] = [
    (["--corpus", "$/missing.txt"], "does not exist"),
    (["--corpus", "$/adir"], "is a directory"),
    (["--corpus", "$/empty.txt"], "is empty"),
    (["--corpus", "$/binary.bin"], "looks binary"),
    (["--corpus", "$/latin1.txt"], "not valid UTF-8"),
    (["--corpus", "$/short.txt"], "fewer than --seq-length + 1 = 101; use a longer text or a smaller --seq-length"),
    (["--corpus", "$/small.txt", "--batch-size", "64", "--seq-length", "100"], "too few for --batch-size 64 × (--seq-length 100 + 1)"),
    (["--hidden-size", "0"], "--hidden-size must be a positive integer"),
    (["--hidden-size", "-5"], "--hidden-size must be a positive integer"),
    (["--num-layers", "0"], "--num-layers must be a positive integer"),
    (["--embedding-size", "-1"], "--embedding-size must be a positive integer"),
    (["--batch-size", "0"], "--batch-size must be a positive integer"),
    (["--seq-length", "0"], "--seq-length must be a positive integer"),
    (["--dropout", "1"], "--dropout must be in [0, 1)"),
    (["--dropout", "-0.1"], "--dropout must be in [0, 1)"),
    (["--conv-kernel", "4"], "--conv-kernel shape the residual blocks; add --residual"),
    (["--residual"], "--residual wraps a mingru or minlstm layer"),
    (["--model", "mingru", "--residual", "--conv-kernel", "1"], "--conv-kernel must be 0 (none) or in 2...64"),
    (["--model", "mingru", "--residual", "--expansion", "0"], "--expansion must be in (0, 64]"),
    (["--model", "transformer"], "unknown --model \"transformer\"; use lstm, gru, rnn, mingru or minlstm"),
    (["--dropout-placement", "everywhere"], "unknown --dropout-placement \"everywhere\"; use all or between-layers"),
    (["--optimizer", "lbfgs"], "unknown --optimizer"),
    (["--learning-rate", "0"], "--learning-rate must be a positive number"),
    (["--val-fraction", "1"], "--val-fraction must be in [0, 1)"),
    (["--steps", "0"], "--steps must be a positive integer"),
    (["--time-limit", "soon"], "is not a duration"),
    (["--threads", "0"], "--threads must be a positive integer"),
    (["--matmul-precision", "low"], "unknown --matmul-precision \"low\"; use highest or medium"),
    (["--corpus", "$/small.txt", "--out", "$/plain-file"], "exists and is not a directory"),
    (["--corpus", "$/small.txt", "--out", "$/plain-file/run"], "cannot be created"),
    (["--resume", "$/missing.safetensors"], "does not exist"),
    (["--resume", "$/adir"], "is a directory"),
    (["--resume", "$/corrupt.safetensors"], "corrupt"),
    (["--resume", "$/forecaster.safetensors"], "holds a forecasting model, not a language-model model"),
    (["--resume", "$/weights.safetensors"], "not a Recur archive"),
    (["--resume", "$/wave1.safetensors"], "Recur 0.1 checkpoint"),
  ]

  static let badGenerateInputs: [(arguments: [String], message: String)] = [
    (["generate", "--checkpoint", "$/missing.safetensors"], "does not exist"),
    (["generate", "--checkpoint", "$/adir"], "is a directory"),
    (["generate", "--checkpoint", "$/corrupt.safetensors"], "corrupt"),
    (["generate", "--checkpoint", "$/binary.bin"], "safetensors"),
    (["generate", "--checkpoint", "$/forecaster.safetensors"], "holds a forecasting model"),
    (["generate", "--checkpoint", "$/wave1.safetensors"], "recur convert"),
    (["eval", "--checkpoint", "$/forecaster.safetensors", "--corpus", "$/small.txt"], "holds a forecasting model"),
    (["eval", "--checkpoint", "$/corrupt.safetensors", "--corpus", "$/small.txt"], "corrupt"),
  ]

  func expectCleanFailure(_ arguments: [String], message: String, scratch: CLIScratch, out: String? = nil) throws {
    let before = try scratch.listing()
    let args = arguments.map { $0.replacingOccurrences(of: "$/", with: scratch.root.path + "/") }
    let r = try RecurExecutable.run(args)
    let shown = "recur \(args.joined(separator: " ")) → status \(r.status), stderr: \(r.stderr)"
    #expect(r.status != 0, "\(shown)")
    #expect(r.stderrLines.count == 1, "expected one line on stderr: \(shown)")
    #expect(r.stderr.hasPrefix("error: "), "\(shown)")
    #expect(r.stderr.contains(message), "expected “\(message)”: \(shown)")
    #expect(try scratch.listing() == before, "files were written: \(shown)")
    if let out { #expect(!FileManager.default.fileExists(atPath: out), "\(out) was created: \(shown)") }
  }

  @Test func badTrainingInputsFailCleanly() throws {
    let scratch = try CLIScratch()
    for (arguments, message) in Self.badTrainInputs {
      let hasOut = arguments.contains("--out")
      let out = scratch.path("run-out")
      try expectCleanFailure(["train"] + arguments + (hasOut ? [] : ["--out", out]), message: message, scratch: scratch, out: hasOut ? nil : out)
    }
  }

  @Test func badCheckpointsFailCleanly() throws {
    let scratch = try CLIScratch()
    for (arguments, message) in Self.badGenerateInputs {
      try expectCleanFailure(arguments, message: message, scratch: scratch)
    }
  }

  /// The residual minGRU language model goes through train, resume, generate (one step at a time
  /// with its carried recurrent and convolution state) and eval like the others.
  @Test func residualMinGRUTrainsResumesAndGenerates() throws {
    let scratch = try CLIScratch()
    let out = scratch.path("residual")
    let flags = ["--model", "mingru", "--residual", "--conv-kernel", "3", "--expansion", "2", "--ff-mult", "2", "--sample-every", "0"]
    let train = try RecurExecutable.run(scratch.tinyTraining(out: out, steps: 4) + flags + ["--eval-every", "2"])
    #expect(train.status == 0, "train failed: \(train.stderr)")
    #expect(train.stdout.contains("residual minGRU (expansion 2.0, feed-forward × 2.0, convolution 3) language model: 2 × 16"), "\(train.stdout)")
    let resumed = try RecurExecutable.run(["train", "--resume", out + "/last.safetensors", "--steps", "6", "--sample-every", "0"])
    #expect(resumed.status == 0, "resume failed: \(resumed.stderr)")
    let checkpoint = out + "/last.safetensors"
    let (model, _, _) = try LanguageModelTask.loadModel(from: try ModelArchive.read(from: URL(fileURLWithPath: checkpoint)))
    #expect(model.configuration.residualBlocks == ResidualBlockSettings(expansion: 2, feedForwardMultiplier: 2, convolutionKernel: 3))
    let a = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "It is", "--length", "40", "--seed", "5"])
    let b = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "It is", "--length", "40", "--seed", "5"])
    #expect(a.status == 0 && a.stdout == b.stdout && a.stdout.unicodeScalars.count == 5 + 40 + 1, "\(a.stderr)")
    let eval = try RecurExecutable.run(["eval", "--checkpoint", checkpoint, "--corpus", scratch.path("small.txt")])
    #expect(eval.status == 0 && eval.stdout.contains("nats/char"), "\(eval.stderr)")
  }

  @Test func trainGenerateEvalRoundTrip() throws {
    let scratch = try CLIScratch()
    let out = scratch.path("run")
    let train = try RecurExecutable.run(scratch.tinyTraining(out: out, steps: 8) + ["--eval-every", "4", "--sample-every", "4", "--sample-length", "30"])
    #expect(train.status == 0, "train failed: \(train.stderr)")
    #expect(train.stdout.contains("Final validation loss:"))
    #expect(train.stdout.contains("generate --checkpoint"))
    #expect(train.stdout.contains("train --resume"))
    #expect(!train.stdout.contains("\u{1B}["), "escape codes in non-terminal output")
    let files = try FileManager.default.contentsOfDirectory(atPath: out).sorted()
    #expect(files == ["best.safetensors", "last.safetensors", "loss.svg", "metrics.jsonl"])
    let metrics = try String(contentsOfFile: out + "/metrics.jsonl", encoding: .utf8).split(separator: "\n")
    #expect(metrics.count == 2)
    #expect(metrics.allSatisfy { $0.contains("\"val_loss\":") && $0.contains("\"train_loss\":") })
    let svg = try String(contentsOfFile: out + "/loss.svg", encoding: .utf8)
    #expect(svg.hasPrefix("<svg") || svg.hasPrefix("<?xml"))

    let checkpoint = out + "/best.safetensors"
    let a = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "It is", "--length", "60", "--seed", "5"])
    let b = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "It is", "--length", "60", "--seed", "5"])
    let c = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "It is", "--length", "60", "--seed", "6"])
    #expect(a.status == 0 && b.status == 0, "\(a.stderr)")
    #expect(a.stdout == b.stdout)
    #expect(a.stdout != c.stdout)
    #expect(a.stdout.hasPrefix("It is"))
    #expect(a.stdout.unicodeScalars.count == 5 + 60 + 1)

    let eval = try RecurExecutable.run(["eval", "--checkpoint", checkpoint, "--corpus", scratch.path("small.txt")])
    #expect(eval.status == 0, "\(eval.stderr)")
    #expect(eval.stdout.contains("nats/char") && eval.stdout.contains("bits/char"))

    // Prompts and texts with characters the model does not know.
    let before = try scratch.listing()
    let prompt = try RecurExecutable.run(["generate", "--checkpoint", checkpoint, "--prompt", "Zoë €"])
    #expect(prompt.status != 0 && prompt.stderrLines.count == 1)
    #expect(prompt.stderr.contains("vocabulary lacks") && prompt.stderr.contains("\"ë\" (U+00EB)") && prompt.stderr.contains("\"€\" (U+20AC)"))
    let foreign = try RecurExecutable.run(["eval", "--checkpoint", checkpoint, "--corpus", scratch.path("latin1.txt")])
    #expect(foreign.status != 0 && foreign.stderrLines.count == 1 && foreign.stderr.contains("not valid UTF-8"))
    for (args, message) in [(["--length", "0"], "--length must be a positive integer"), (["--temperature", "-1"], "--temperature must be")] {
      let r = try RecurExecutable.run(["generate", "--checkpoint", checkpoint] + args)
      #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains(message), "\(r.stderr)")
    }
    #expect(try scratch.listing() == before)
  }

  @Test func resumeInAFreshProcessIsBitIdentical() throws {
    let scratch = try CLIScratch()
    let straight = scratch.path("straight"), halves = scratch.path("halves")
    let constant = ["--lr-schedule", "constant", "--eval-every", "3"]
    let a = try RecurExecutable.run(scratch.tinyTraining(out: straight, steps: 10) + constant)
    #expect(a.status == 0, "\(a.stderr)")
    let b1 = try RecurExecutable.run(scratch.tinyTraining(out: halves, steps: 5) + constant)
    #expect(b1.status == 0, "\(b1.stderr)")
    let b2 = try RecurExecutable.run(["train", "--resume", halves + "/last.safetensors", "--steps", "10", "--sample-every", "0"])
    #expect(b2.status == 0, "\(b2.stderr)")
    #expect(b2.stdout.contains("Resuming at step 5"))
    let x = try SafeTensorsFile.read(from: URL(fileURLWithPath: straight + "/last.safetensors"))
    let y = try SafeTensorsFile.read(from: URL(fileURLWithPath: halves + "/last.safetensors"))
    #expect(x.names == y.names)
    #expect(x.names.contains("rnn.weight_hh_l1") && x.names.contains("optimizer.state.0.exp_avg") && x.names.contains("data.h"))
    for name in x.names {
      let same = x[name]!.tensor.scalars.map(\.bitPattern) == y[name]!.tensor.scalars.map(\.bitPattern)
      #expect(same, "\(name) differs between the straight and the resumed run")
    }
    // The training state (step, random stream, data position…) is the same too, but for the wall time.
    func training(_ file: SafeTensorsFile) throws -> [String: String] {
      let json = try #require(file.metadata["recur.training"])
      let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
      return object.filter { $0.key != "trainingSeconds" && $0.key != "options" }.mapValues { "\($0)" }
    }
    #expect(try training(x) == training(y))
    #expect(try training(x)["step"] == "10")
    // The resumed run's metrics continue the first half's (evaluations at 3 and 5, then 6, 9, 10).
    let records = MetricsLog.read(from: URL(fileURLWithPath: halves + "/metrics.jsonl")).records
    #expect(records.map(\.step) == [3, 5, 6, 9, 10])
  }

  @Test func interruptSavesTheLastStepAndSaysHowToResume() throws {
    let scratch = try CLIScratch()
    let out = scratch.path("interrupted")
    let last = out + "/last.safetensors"
    let r = try RecurExecutable.run(scratch.tinyTraining(out: out, steps: 1_000_000) + ["--eval-every", "2", "--sample-every", "0"]) { process in
      let deadline = Date().addingTimeInterval(60)
      while !FileManager.default.fileExists(atPath: last) && process.isRunning && Date() < deadline { usleep(20_000) }
      process.interrupt()  // SIGINT
    }
    #expect(r.status == 130, "status \(r.status), stderr \(r.stderr)")
    #expect(r.stdout.contains("Interrupted after step"))
    #expect(r.stdout.contains("Resume with:") && r.stdout.contains("train --resume"))
    let archive = try ModelArchive.read(from: URL(fileURLWithPath: last))
    let resumed = try Trainer(resuming: archive, task: LanguageModelTask(archive: archive, corpus: TextCorpus.load(path: scratch.path("small.txt"))))
    #expect(resumed.step >= 2)
    let (model, _, _) = try LanguageModelTask.loadModel(from: archive)
    #expect(model.parameters.allSatisfy { $0.data.isFinite })
    let leftovers = try FileManager.default.contentsOfDirectory(atPath: out).filter { $0.contains(".tmp-") }
    #expect(leftovers.isEmpty, "half-written files: \(leftovers)")
  }

  @Test func divergenceStopsWithAMessage() throws {
    let scratch = try CLIScratch()
    let out = scratch.path("diverged")
    let r = try RecurExecutable.run(scratch.tinyTraining(out: out, steps: 40) + [
      "--model", "rnn", "--optimizer", "sgd", "--learning-rate", "3e38", "--grad-clip", "0", "--lr-schedule", "constant",
      "--eval-every", "1", "--sample-every", "0"])
    #expect(r.status != 0)
    #expect(r.stderrLines.count == 1, "\(r.stderr)")
    #expect(r.stderr.contains("diverged") && r.stderr.contains("--learning-rate"), "\(r.stderr)")
    // Whatever checkpoint exists holds finite weights.
    for name in ["best.safetensors", "last.safetensors"] where FileManager.default.fileExists(atPath: out + "/" + name) {
      let (model, _, _) = try LanguageModelTask.loadModel(from: try ModelArchive.read(from: URL(fileURLWithPath: out + "/" + name)))
      #expect(model.parameters.allSatisfy { $0.data.isFinite })
    }
  }
}
