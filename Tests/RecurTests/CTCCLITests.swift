import Foundation
import Testing
@testable import Recur

/// `recur ctc` end to end on a tiny synthetic data set.
struct CTCCLITests {
  static func write(_ scratch: CLIScratch) throws {
    let items = SyntheticCTC.items(240, seed: 11, split: .train) + SyntheticCTC.items(40, seed: 12, split: .test).map { item in
      var copy = item
      copy.id = "t" + item.id
      return copy
    }
    let (frames, labels) = SyntheticCTC.csv(items)
    try scratch.write("frames.csv", Array(frames.utf8))
    try scratch.write("labels.csv", Array(labels.utf8))
  }

  @Test func trainEvalPredictRoundTrip() throws {
    let scratch = try CLIScratch()
    try Self.write(scratch)
    let out = scratch.path("run")
    let data = ["--data", scratch.path("frames.csv"), "--labels", scratch.path("labels.csv")]
    let train = try RecurExecutable.run(["ctc", "train"] + data + ["--out", out, "--steps", "160", "--eval-every", "40", "--model", "gru",
                                                                    "--hidden-size", "24", "--num-layers", "1", "--frame-stack", "1",
                                                                    "--batch-size", "16", "--learning-rate", "0.02", "--json"])
    #expect(train.status == 0, "\(train.stderr)")
    for file in ["best.safetensors", "last.safetensors", "metrics.jsonl", "metrics.json", "probabilities.svg"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
    }
    let svgPath = scratch.path("spikes.svg")
    let eval = try RecurExecutable.run(["ctc", "eval", "--checkpoint", out + "/best.safetensors"] + data + ["--json", "--svg", svgPath, "--item", "ts3"])
    #expect(eval.status == 0, "\(eval.stderr)")
    let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    let greedy = report?["greedy"] as? [String: Any], beam = report?["beam"] as? [String: Any]
    #expect(report?["sequences"] as? Int == 40, "\(eval.stdout)")
    #expect((greedy?["label_error_rate"] as? Double ?? 1) <= 0.1, "\(eval.stdout)")
    #expect((beam?["label_error_rate"] as? Double ?? 1) <= 0.1, "\(eval.stdout)")
    let svg = try String(contentsOfFile: svgPath, encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("CTC label probabilities of ts3") && svg.contains(">blank<"))

    let predict = try RecurExecutable.run(["ctc", "predict", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("frames.csv"),
                                           "--n-best", "2", "--beam-width", "4"])
    #expect(predict.status == 0, "\(predict.stderr)")
    let lines = predict.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    #expect(lines.count == 2 * 280 && lines.allSatisfy { $0.count == 4 && Double($0[3]) != nil }, "\(predict.stdout.prefix(400))")
    #expect(lines[0][0] == "s0" && lines[0][1] == "1" && lines[1][1] == "2")
    let greedyLines = try RecurExecutable.run(["ctc", "predict", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("frames.csv")])
    let decoded = greedyLines.stdout.split(separator: "\n").map { $0.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }
    #expect(decoded.count == 280 && decoded.allSatisfy { $0.count == 2 && $0[1].allSatisfy { "abc".contains($0) } }, "\(greedyLines.stdout.prefix(300))")
  }

  @Test func aFinishedRunResumesWithALargerBudget() throws {
    let scratch = try CLIScratch()
    try Self.write(scratch)
    let out = scratch.path("run")
    let data = ["--data", scratch.path("frames.csv"), "--labels", scratch.path("labels.csv")]
    let first = try RecurExecutable.run(["ctc", "train"] + data + ["--out", out, "--steps", "20", "--eval-every", "10", "--hidden-size", "8",
                                                                    "--num-layers", "1"])
    #expect(first.status == 0, "\(first.stderr)")
    let resumed = try RecurExecutable.run(["ctc", "train"] + data + ["--resume", out + "/last.safetensors", "--steps", "30"])
    #expect(resumed.status == 0, "\(resumed.stderr)")
    #expect(resumed.stdout.contains("Resuming at step 20") && resumed.stdout.contains("step     30"), "\(resumed.stdout)")
    let other = try RecurExecutable.run(["ctc", "eval", "--checkpoint", scratch.path("forecaster.safetensors")] + data)
    #expect(other.status != 0 && other.stderrLines.count == 1 && other.stderr.contains("not a CTC model"), "\(other.stderr)")
  }

  @Test func badInputsFailWithOneLineAndWriteNothing() throws {
    let scratch = try CLIScratch()
    try Self.write(scratch)
    let labels = try String(contentsOfFile: scratch.path("labels.csv"), encoding: .utf8)
    let frames = try String(contentsOfFile: scratch.path("frames.csv"), encoding: .utf8)
    try scratch.write("unknown-id.csv", Array(labels.replacingOccurrences(of: "\ns7,", with: "\nx7,").utf8))
    try scratch.write("empty-label.csv", Array(labels.replacingOccurrences(of: "\ns3,", with: "\ns3,,train\nignored,").utf8))
    try scratch.write("odd-char.csv", Array(labels.replacingOccurrences(of: "\nts2,", with: "\nts2,az").utf8))
    try scratch.write("text-cell.csv", Array(frames.replacingOccurrences(of: "\ns1,1,", with: "\ns1,1,loud").utf8))
    let data = ["--data", "$/frames.csv"]
    let cases: [([String], String)] = [
      (["--labels", "$/unknown-id.csv"], "frames.csv line"),
      (["--labels", "$/unknown-id.csv"], "series 's7' has no row in unknown-id.csv"),
      (["--labels", "$/empty-label.csv"], "empty-label.csv line 5, column 'label' is empty"),
      (["--labels", "$/odd-char.csv"], "has the character 'z', which is not in the alphabet (abc)"),
      (["--labels", "$/odd-char.csv"], "odd-char.csv line 244, column 'label': label 'az"),
      (["--labels", "$/missing.csv"], "cannot read"),
      (["--data", "$/text-cell.csv", "--labels", "$/labels.csv"], "text-cell.csv line"),
      (["--data", "$/text-cell.csv", "--labels", "$/labels.csv"], "column 'c0': 'loud"),
      (["--labels", "$/labels.csv", "--frame-stack", "0"], "--frame-stack must be a positive integer"),
      (["--labels", "$/labels.csv", "--label-column", "text"], "column 'text' not found in labels.csv"),
      ([], "--labels FILE is required"),
    ]
    for (arguments, message) in cases {
      let before = try scratch.listing()
      let given = arguments.contains("--data") ? arguments : data + arguments
      let args = ["ctc", "train", "--out", scratch.path("run"), "--steps", "2"] + given.map { $0.replacingOccurrences(of: "$/", with: scratch.root.path + "/") }
      let r = try RecurExecutable.run(args)
      let shown = "recur \(args.joined(separator: " ")) → status \(r.status), stderr: \(r.stderr)"
      #expect(r.status != 0, "\(shown)")
      #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(shown)")
      #expect(try scratch.listing() == before, "files were written: \(shown)")
    }
  }

  @Test func buildStringsWritesBothFilesReproducibly() throws {
    let scratch = try CLIScratch()
    let (frames, index) = SpokenDigitStringsTests.files()
    try scratch.write("mfcc.csv", Array(frames.utf8))
    try scratch.write("index.csv", Array(index.utf8))
    let args = ["ctc", "build-strings", "--frames", scratch.path("mfcc.csv"), "--index", scratch.path("index.csv"),
                "--train-count", "30", "--val-count", "5", "--test-count", "8"]
    let a = try RecurExecutable.run(args + ["--out", scratch.path("a")]), b = try RecurExecutable.run(args + ["--out", scratch.path("b")])
    #expect(a.status == 0 && b.status == 0, "\(a.stderr) \(b.stderr)")
    #expect(a.stdout.contains("43 strings (30 train, 5 validation, 8 test;"), "\(a.stdout)")
    for file in ["frames.csv", "labels.csv"] {
      #expect(try Data(contentsOf: scratch.url("a/" + file)) == Data(contentsOf: scratch.url("b/" + file)), "\(file) differs between two runs")
    }
    let before = try scratch.listing()
    let bad = try RecurExecutable.run(args + ["--out", scratch.path("c"), "--min-digits", "3", "--max-digits", "2"])
    #expect(bad.status != 0 && bad.stderrLines.count == 1 && bad.stderr.contains("--max-digits must be ≥ minDigits"), "\(bad.stderr)")
    #expect(try scratch.listing() == before)
  }
}
