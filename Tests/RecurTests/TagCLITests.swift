import Foundation
import Testing
@testable import Recur

@Suite("recur tag (executable)", .serialized)
struct TagCLITests {
  /// A tiny TSV of the toy language of ``TaggingTaskTests``, with a comment line and a third column.
  static func tsv(count: Int, seed: UInt64) -> String {
    TaggingTaskTests.sentences(count: count, seed: seed).map { s in
      s.map { "\($0.token)\t\($0.tag)\tx" }.joined(separator: "\n")
    }.joined(separator: "\n\n") + "\n"
  }

  @Test func trainEvalPredictRoundTrip() throws {
    let scratch = try CLIScratch()
    try scratch.write("train.tsv", Array(("# a comment\n" + Self.tsv(count: 60, seed: 1)).utf8))
    try scratch.write("test.tsv", Array(Self.tsv(count: 20, seed: 2).utf8))
    try scratch.write("text.txt", Array("the big cat sat\na dog\n".utf8))
    let out = scratch.path("run")
    let train = try RecurExecutable.run(["tag", "train", "--train", scratch.path("train.tsv"), "--crf", "--hidden-size", "16",
                                         "--embedding-size", "16", "--char-embedding-size", "8", "--char-hidden-size", "8",
                                         "--batch-size", "8", "--learning-rate", "0.02", "--steps", "60", "--eval-every", "20",
                                         "--out", out, "--seed", "3"])
    #expect(train.status == 0, "\(train.stderr)")
    for name in [TrainingOutputFile.best, TrainingOutputFile.last, TrainingOutputFile.metrics] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
    }
    let eval = try RecurExecutable.run(["tag", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("test.tsv"), "--json"])
    #expect(eval.status == 0, "\(eval.stderr)")
    let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    let accuracy = try #require(metrics?["accuracy"] as? Double)
    #expect(accuracy > 0.9, "\(eval.stdout)")
    let table = try RecurExecutable.run(["tag", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("test.tsv")])
    #expect(table.stdout.contains("accuracy") && table.stdout.contains("NOUN"))
    let predict = try RecurExecutable.run(["tag", "predict", "--checkpoint", out + "/best.safetensors", scratch.path("text.txt")])
    #expect(predict.status == 0, "\(predict.stderr)")
    #expect(predict.stdout == "the/DET big/ADJ cat/NOUN sat/VERB\na/DET dog/NOUN\n", "\(predict.stdout)")
    // Resume continues the saved run to a larger budget.
    let resumed = try RecurExecutable.run(["tag", "train", "--resume", out + "/last.safetensors", "--steps", "70"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("Resuming at step 60"))
  }

  @Test func trainFractionTrainsOnASeededSubsetAndResumesWithIt() throws {
    let scratch = try CLIScratch()
    try scratch.write("train.tsv", Array(Self.tsv(count: 60, seed: 1).utf8))
    func run(_ extra: [String], out: String) throws -> String {
      let r = try RecurExecutable.run(["tag", "train", "--train", scratch.path("train.tsv"), "--val-fraction", "0.1", "--hidden-size", "8",
                                       "--steps", "2", "--out", scratch.path(out)] + extra)
      #expect(r.status == 0, "\(r.stderr)")
      return r.stdout
    }
    #expect(try run([], out: "all").contains("54 training and 6 validation sentences"))
    #expect(try run(["--train-fraction", "0.25"], out: "quarter").contains("14 training and 6 validation sentences"))
    let resumed = try RecurExecutable.run(["tag", "train", "--resume", scratch.path("quarter") + "/last.safetensors", "--steps", "3"])
    #expect(resumed.stdout.contains("14 training and 6 validation sentences"), "\(resumed.stdout)")
    let bad = try RecurExecutable.run(["tag", "train", "--train", scratch.path("train.tsv"), "--train-fraction", "0", "--out", scratch.path("never")])
    #expect(bad.status != 0 && bad.stderr.contains("--train-fraction must be in (0, 1]"), "\(bad.stderr)")
    #expect(!FileManager.default.fileExists(atPath: scratch.path("never")))
  }

  @Test func badInputIsOneLineAndWritesNothing() throws {
    let scratch = try CLIScratch()
    try scratch.write("two-columns.tsv", Array(Self.tsv(count: 5, seed: 1).utf8))
    let cases: [([String], String)] = [
      (["--train", scratch.path("empty.txt")], "no sentences"),
      (["--train", scratch.path("two-columns.tsv"), "--tag-column", "5"], "no tag in column 5"),
      (["--train", scratch.path("missing.tsv")], "cannot be read"),
    ]
    for (arguments, expected) in cases {
      let out = scratch.path("never")
      let result = try RecurExecutable.run(["tag", "train"] + arguments + ["--out", out, "--steps", "2"])
      #expect(result.status != 0)
      #expect(result.stderrLines.count == 1 && result.stderr.contains(expected), "\(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) wrote its output directory")
    }
  }
}
