import Foundation
import Testing
@testable import Recur

struct ClassifyCLITests {
  /// 200 short texts: "pos" when they hold a positive word, "neg" when a negative one.
  static func toyCSV() -> String {
    var g = RandomGenerator(seed: 5)
    let pos = ["great", "lovely", "superb"], neg = ["awful", "dull", "boring"], filler = ["the", "movie", "was", "a", "plot", "very"]
    var lines = ["text,label"]
    for i in 0..<200 {
      var words = (0..<(2 + Int(g.next() % 5))).map { _ in filler[Int(g.next() % 6)] }
      words.insert((i % 2 == 0 ? pos : neg)[Int(g.next() % 3)], at: Int(g.next() % UInt64(words.count + 1)))
      lines.append("\"\(words.joined(separator: " "))\",\(i % 2 == 0 ? "pos" : "neg")")
    }
    return lines.joined(separator: "\n") + "\n"
  }

  @Test func trainEvalPredictRoundTrip() throws {
    let scratch = try CLIScratch()
    try scratch.write("toy.csv", Array(Self.toyCSV().utf8))
    let out = scratch.path("run")
    let train = try RecurExecutable.run(["classify", "train", "--data", scratch.path("toy.csv"), "--out", out, "--epochs", "12",
                                         "--hidden-size", "16", "--embedding-size", "16", "--learning-rate", "0.01", "--json"])
    #expect(train.status == 0, "\(train.stderr)")
    for file in ["best.safetensors", "last.safetensors", "metrics.jsonl", "metrics.json", "confusion.svg"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
    }
    let eval = try RecurExecutable.run(["classify", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("toy.csv"), "--json"])
    #expect(eval.status == 0, "\(eval.stderr)")
    let report = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    #expect((report?["accuracy"] as? Double ?? 0) >= 0.9, "\(eval.stdout)")
    try scratch.write("new.txt", Array("what a superb movie\nthe plot was awful\n".utf8))
    let predict = try RecurExecutable.run(["classify", "predict", "--checkpoint", out + "/best.safetensors", "--input", scratch.path("new.txt"), "--json"])
    #expect(predict.status == 0, "\(predict.stderr)")
    let labels = predict.stdout.split(separator: "\n").compactMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] }.map { $0["label"] as? String }
    #expect(labels == ["pos", "neg"], "\(predict.stdout)")
  }

  @Test func badInputsFailCleanly() throws {
    let scratch = try CLIScratch()
    try scratch.write("toy.csv", Array(Self.toyCSV().utf8))
    try scratch.write("empty-text.csv", Array("text,label\ngood film,pos\n\"  \",neg\n".utf8))
    try scratch.write("test-only.csv", Array("text,label,split\ngood film,pos,train\nbad film,neg,train\nodd film,meh,test\n".utf8))
    let cases: [([String], String)] = [
      (["--data", "$/toy.csv", "--text-column", "review"], "column 'review' not found"),
      (["--data", "$/empty-text.csv"], "line 3, column 'text' is empty"),
      (["--data", "$/test-only.csv"], "label 'meh' appears only in the test part"),
      (["--data", "$/toy.csv", "--pooling", "median"], "--pooling"),
      (["--data", "$/toy.csv", "--max-length", "0"], "--max-length must be a positive integer"),
    ]
    for (arguments, message) in cases {
      let before = try scratch.listing()
      let args = ["classify", "train", "--out", scratch.path("run"), "--steps", "2"] + arguments.map { $0.replacingOccurrences(of: "$/", with: scratch.root.path + "/") }
      let r = try RecurExecutable.run(args)
      let shown = "recur \(args.joined(separator: " ")) → status \(r.status), stderr: \(r.stderr)"
      #expect(r.status != 0, "\(shown)")
      #expect(r.stderrLines.count == 1 && r.stderr.hasPrefix("error: ") && r.stderr.contains(message), "\(shown)")
      #expect(try scratch.listing() == before, "files were written: \(shown)")
    }
  }
}

/// `recur classify series` on numeric sequences.
struct ClassifySeriesCLITests {
  /// 80 wide rows of 12 steps: class "up" rises, class "down" falls (with noise).
  static func toyCSV() -> String {
    var g = RandomGenerator(seed: 3)
    var lines = ["label," + (0..<12).map { "t\($0)" }.joined(separator: ",")]
    for i in 0..<80 {
      let up = i % 2 == 0
      let values = (0..<12).map { t in Float(up ? t : 12 - t) / 6 + (g.nextUniform() - 0.5) }
      lines.append((up ? "up," : "down,") + values.map { String($0) }.joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  @Test func trainsAndScoresOnTheTestPart() throws {
    let scratch = try CLIScratch()
    try scratch.write("series.csv", Array(Self.toyCSV().utf8))
    let out = scratch.path("run")
    let r = try RecurExecutable.run(["classify", "series", "--data", scratch.path("series.csv"), "--epochs", "30", "--hidden-size", "16",
                                     "--learning-rate", "0.01", "--out", out, "--json"])
    #expect(r.status == 0, "\(r.stderr)")
    for file in ["best.safetensors", "metrics.json", "confusion.svg"] {
      #expect(FileManager.default.fileExists(atPath: out + "/" + file), "\(file) missing")
    }
    // With --json, standard output holds only the report (progress goes to standard error).
    let report = try JSONSerialization.jsonObject(with: Data(r.stdout.utf8)) as? [String: Any]
    #expect((report?["accuracy"] as? Double ?? 0) >= 0.9, "\(r.stdout)")
    let saved = try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: out + "/metrics.json"))) as? [String: Any]
    #expect(saved?["accuracy"] as? Double == report?["accuracy"] as? Double)

    // eval and predict read the series checkpoint with the same layout flags.
    let eval = try RecurExecutable.run(["classify", "eval", "--checkpoint", out + "/best.safetensors", "--data", scratch.path("series.csv"),
                                        "--layout", "wide", "--json"])
    #expect(eval.status == 0, "\(eval.stderr)")
    let scored = try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any]
    #expect((scored?["accuracy"] as? Double ?? 0) >= 0.9, "\(eval.stdout)")
    let predict = try RecurExecutable.run(["classify", "predict", "--checkpoint", out + "/best.safetensors", "--input", scratch.path("series.csv"),
                                           "--json"])
    #expect(predict.status == 0, "\(predict.stderr)")
    let lines = predict.stdout.split(separator: "\n")
    #expect(lines.count == 80)
    let first = try JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any]
    #expect(first?["label"] as? String == "up" && (first?["probabilities"] as? [String: Double])?.count == 2, "\(lines[0])")
    // A text flag set on a series model, and a series model on standard input, are one-line errors.
    let stdin = try RecurExecutable.run(["classify", "predict", "--checkpoint", out + "/best.safetensors"])
    #expect(stdin.status != 0 && stdin.stderrLines.count == 1 && stdin.stderr.contains("--input FILE"), "\(stdin.stderr)")
  }

  @Test func badInputsFailCleanly() throws {
    let scratch = try CLIScratch()
    try scratch.write("series.csv", Array(Self.toyCSV().utf8))
    try scratch.write("text-cell.csv", Array("label,t0,t1\nup,1,2\ndown,x,3\n".utf8))
    let cases: [([String], String)] = [
      (["--data", scratch.path("series.csv"), "--layout", "diagonal"], "unknown --layout"),
      (["--data", scratch.path("text-cell.csv")], "line 3"),
      (["--data", scratch.path("series.csv"), "--layout", "joined"], "--labels"),
      (["--data", scratch.path("missing.csv")], "missing.csv"),
    ]
    for (arguments, message) in cases {
      let r = try RecurExecutable.run(["classify", "series"] + arguments + ["--out", scratch.path("out")])
      #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains(message), "\(arguments) → \(r.stderr)")
      #expect(!FileManager.default.fileExists(atPath: scratch.path("out")), "\(arguments) wrote files")
    }
  }
}
