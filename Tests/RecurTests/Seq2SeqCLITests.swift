import Foundation
import Testing
@testable import Recur

@Suite("recur seq2seq (executable)", .serialized)
struct Seq2SeqCLITests {
  /// Digit strings and their reversals as a TSV (sources are unique, so each has one reference).
  static func tsv(count: Int, seed: UInt64) -> String {
    Seq2SeqTaskTests.reversals(count: count, lengths: 3...6, seed: seed).map { p in
      p.source.joined() + "\t" + p.target.joined(separator: " ")
    }.joined(separator: "\n") + "\n"
  }

  @Test func trainEvalPredictRoundTrip() throws {
    let scratch = try CLIScratch()
    try scratch.write("train.tsv", Array(Self.tsv(count: 800, seed: 1).utf8))
    // Two references for one source: "123" → "3 2 1" or "x"; either counts as right.
    try scratch.write("dev.tsv", Array((Self.tsv(count: 40, seed: 2) + "123\t3 2 1\n123\t9\n").utf8))
    try scratch.write("sources.txt", Array("4321\n\n98765\n".utf8))
    let out = scratch.path("run")
    let train = try RecurExecutable.run(["seq2seq", "train", "--train", scratch.path("train.tsv"), "--validation", scratch.path("dev.tsv"),
                                         "--target-tokens", "words", "--input-feeding", "--hidden-size", "24", "--embedding-size", "12", "--dropout", "0",
                                         "--label-smoothing", "0", "--batch-size", "32", "--learning-rate", "0.01", "--steps", "150",
                                         "--eval-every", "50", "--out", out, "--seed", "3"])
    #expect(train.status == 0, "\(train.stderr)")
    #expect(train.stdout.contains("general attention with input feeding"), "\(train.stdout)")
    #expect(train.stdout.contains("1 × 24, decoder 24,"), "the decoder is --hidden-size wide by default: \(train.stdout)")
    for name in [TrainingOutputFile.best, TrainingOutputFile.last, TrainingOutputFile.metrics] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + name), "\(name)")
    }
    let heatmap = scratch.path("attention.svg")
    let eval = try RecurExecutable.run(["seq2seq", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("dev.tsv"),
                                        "--beam", "3", "--json", "--heatmap", heatmap])
    #expect(eval.status == 0, "\(eval.stderr)")
    let metrics = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    #expect(metrics?["sources"] as? Int == 41, "\(eval.stdout)")
    let wer = try #require(metrics?["wer"] as? Double)
    #expect(wer < 0.2, "\(eval.stdout)")
    let svg = try String(contentsOfFile: heatmap, encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("</svg>") && svg.contains("<rect"))
    let text = try RecurExecutable.run(["seq2seq", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("dev.tsv"), "--beam", "1"])
    #expect(text.stdout.contains("41 sources (greedy)") && text.stdout.contains("WER"), "\(text.stdout)")
    let predict = try RecurExecutable.run(["seq2seq", "predict", "--checkpoint", out + "/best.safetensors", "--beam", "4", "--n-best", "2",
                                           scratch.path("sources.txt")])
    #expect(predict.status == 0, "\(predict.stderr)")
    let lines = predict.stdout.split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
    #expect(lines.count == 4 && lines.allSatisfy { $0.count == 4 }, "\(predict.stdout)")
    #expect(lines.first?[3] == "1 2 3 4", "\(predict.stdout)")
    #expect(lines.map { $0[1] } == ["1", "2", "1", "2"])
    // Resume continues the saved run to a larger budget.
    let resumed = try RecurExecutable.run(["seq2seq", "train", "--resume", out + "/last.safetensors", "--steps", "160"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("Resuming at step 150"), "\(resumed.stdout)")
  }

  @Test func badInputIsOneLineAndWritesNothing() throws {
    let scratch = try CLIScratch()
    try scratch.write("no-tab.tsv", Array("abc\tA B C\nabd A B D\n".utf8))
    try scratch.write("empty-target.tsv", Array("abc\tA B C\nabd\t \n".utf8))
    try scratch.write("empty-source.tsv", Array("\tA\n".utf8))
    try scratch.write("two-tabs.tsv", Array("a\tb\tc\n".utf8))
    try scratch.write("ok.tsv", Array("abc\tA B C\nabd\tA B D\n".utf8))
    let cases: [([String], String)] = [
      (["--train", scratch.path("no-tab.tsv")], "no-tab.tsv line 2: no tab"),
      (["--train", scratch.path("empty-target.tsv")], "empty-target.tsv line 2, column 'target' is empty"),
      (["--train", scratch.path("empty-source.tsv")], "empty-source.tsv line 1, column 'source' is empty"),
      (["--train", scratch.path("two-tabs.tsv")], "two-tabs.tsv line 1: 2 tabs"),
      (["--train", scratch.path("missing.tsv")], "cannot read"),
      (["--train", scratch.path("two-tabs.tsv"), "--target-tokens", "phones"], "--target-tokens must be chars or words"),
      (["--train", scratch.path("no-tab.tsv"), "--attention", "luong"], "--attention must be"),
      (["--train", scratch.path("no-tab.tsv"), "--matmul-precision", "low"], "unknown --matmul-precision \"low\"; use highest or medium"),
      (["--train", scratch.path("ok.tsv"), "--decoder-size", "0"], "--decoder-size must be a positive integer, got 0"),
      (["--train", scratch.path("ok.tsv"), "--attention", "dot", "--decoder-size", "7"],
       "--decoder-size must be the memory width 512 with dot attention"),
    ]
    for (arguments, expected) in cases {
      let out = scratch.path("never")
      let result = try RecurExecutable.run(["seq2seq", "train"] + arguments + ["--out", out, "--steps", "2"])
      #expect(result.status != 0)
      #expect(result.stderrLines.count == 1 && result.stderr.contains(expected), "\(arguments): \(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out), "\(arguments) wrote its output directory")
    }
    let predict = try RecurExecutable.run(["seq2seq", "predict", "--checkpoint", scratch.path("missing.safetensors")])
    #expect(predict.status != 0 && predict.stderrLines.count == 1, "\(predict.stderr)")
  }
}
