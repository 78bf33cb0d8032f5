import Foundation
#if canImport(FoundationXML)
import FoundationXML
#endif
import Testing
@testable import Recur
import _RecurTestSupport

/// `recur experiment` and `recur report` end to end: a tiny experiment, then the page — every SVG
/// well-formed XML, every number in its tables equal to the JSON it came from.
struct ReportCLITests {
  /// Runs a tiny adding experiment (four cells, two lengths, the RNN at two rates) and a report over
  /// it and one run's metrics.jsonl; returns the directory, the results and the page.
  static func experimentAndReport() throws -> (dir: URL, results: LongMemoryResults, json: JSONValue, page: String) {
    let dir = try makeTemporaryDirectory("recur-report")
    let run = try runRecur(["experiment", "adding", "--cells", "rnn,lstm,gru,mingru", "--lengths", "22,30", "--hidden-size", "8", "--steps", "40",
                            "--eval-every", "20", "--validation-count", "32", "--test-count", "64", "--rnn-learning-rates", "0.01,0.001",
                            "--batch-size", "8", "--out", dir.path])
    #expect(run.status == 0, "\(run.stderr)")
    let resultsURL = dir.appendingPathComponent("results.json")
    let results = try LongMemoryResults.read(from: resultsURL)
    let metrics = dir.appendingPathComponent("adding-lstm-T30-lr0.001/metrics.jsonl").path
    let page = dir.appendingPathComponent("report.html")
    let report = try runRecur(["report", "--results", resultsURL.path, "--metrics", metrics, "--out", page.path])
    #expect(report.status == 0, "\(report.stderr)")
    let json = try JSONParser.parse([UInt8](try Data(contentsOf: resultsURL)))
    return (dir, results, json, try String(contentsOf: page, encoding: .utf8))
  }

  @Test func reportDrawsWellFormedSVGWithTheResultsNumbers() throws {
    let (dir, results, json, page) = try Self.experimentAndReport()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(results.runs.count == 10)
    #expect(Set(results.runs.map { "\($0.settings.configuration.cell.rawValue)-\($0.settings.configuration.problem.length)" }).count == 8)
    // The parallel-scan minGRU records no per-step gradient norms (and gets no heat map).
    #expect(results.runs.allSatisfy { $0.test.sequences == 64 && ($0.gradientFlow.snapshots.first?.step == 1) == ($0.settings.configuration.cell != .minGRU) })

    // Self-contained: no scripts, nothing fetched.
    #expect(!page.contains("<script") && !page.contains("http://") || page.components(separatedBy: "http://").dropFirst().allSatisfy { $0.hasPrefix("www.w3.org/2000/svg") })
    #expect(!page.contains("https://") && !page.contains("src="))

    // Every SVG parses as XML. 1 unrolled network, per length 2 curves + 3 heat maps + 1 line plot,
    // the success plot (and sequences to solve when a run solved), 3 cell diagrams, 1 training-run plot.
    let svgs = Self.matches(#"<svg[\s\S]*?</svg>"#, in: page).map { $0[0] }
    #expect(svgs.count == 1 + 2 * (2 + 3 + 1) + 1 + (results.runs.contains { $0.solved } ? 1 : 0) + 3 + 1)
    for svg in svgs {
      let parser = XMLParser(data: Data(svg.utf8))
      #expect(parser.parse(), "SVG does not parse: \(parser.parserError.map { "\($0)" } ?? "") in \(svg.prefix(200))")
    }
    #expect(page.contains("tanh RNN, T = 30") && page.contains("LSTM, T = 30") && page.contains("GRU, T = 22") && page.contains("minGRU (lr 0.001)"))

    // Numbers: data-value is the stored value; the text shown rounds it.
    let cells = Self.matches(#"data-check="([^"]+)" data-value="([^"]+)">([^<]*)<"#, in: page)
    // Per run: T, rate, units, seed, sequences seen, test right, test loss, baseline, wall, CPU; the gate
    // bias (LSTM, GRU), the gradient ratio (when the last norm is not 0), sequences and time to solve.
    let expectedCells = results.runs.reduce(0) { n, run in
      let ratio = (run.gradientFlow.snapshots.first?.norms.last ?? 0) > 0
      return n + 10 + (run.settings.configuration.cell == .rnnTanh ? 0 : 1) + (ratio ? 1 : 0) + (run.solved ? 2 : 0)
    }
    #expect(cells.count == expectedCells + 7)
    var checked = 0
    for cell in cells {
      let (key, value, text) = (cell[1], Double(cell[2])!, cell[3])
      if key.hasPrefix("metrics0:") { continue }
      let path = String(key.dropFirst("experiment0:".count))
      let stored: Double
      if path.hasSuffix(".gradientRatio") {
        let run = results.runs[Int(path.split(separator: "[")[1].split(separator: "]")[0])!]
        let norms = run.gradientFlow.snapshots[0].norms
        stored = Double(norms.first!) / Double(norms.last!)
      } else {
        stored = try #require(Self.value(at: path, in: json), "\(path) not in the results")
      }
      #expect(path.hasSuffix("learningRate") || path.hasSuffix("memoryGateBias") ? Float(value) == Float(stored) : value == stored, "\(key): page \(value), JSON \(stored)")
      #expect(Self.shown(text, matches: stored), "\(key): shown \(text), JSON \(stored)")
      checked += 1
    }
    #expect(checked == expectedCells)

    // The training run's table against its metrics.jsonl.
    let log = MetricsLog.read(from: dir.appendingPathComponent("adding-lstm-T30-lr0.001/metrics.jsonl"))
    let expected: [String: Double] = ["count": Double(log.records.count), "step": Double(log.records.last!.step),
                                      "tokens": Double(log.records.last!.tokens), "train_loss": log.records.last!.trainLoss,
                                      "best_val_loss": log.best!.loss, "elapsed_s": log.records.last!.elapsed]
    for cell in cells where cell[1].hasPrefix("metrics0:") {
      let field = String(cell[1].dropFirst("metrics0:".count))
      if let e = expected[field] {
        #expect(Double(cell[2]) == e && Self.shown(cell[3], matches: e), "\(field): \(cell[2]) \(cell[3]) vs \(e)")
      }
    }
  }

  @Test func badInputIsOneLineAndWritesNothing() throws {
    let dir = try makeTemporaryDirectory("recur-report-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("r.html").path
    let bad = dir.appendingPathComponent("bad.json")
    try Data("{\"runs\": 3}".utf8).write(to: bad)
    for (args, message) in [
      (["report", "--out", out], "give at least one --results"),
      (["report", "--results", bad.path, "--out", out], "bad.json"),
      (["report", "--results", dir.appendingPathComponent("missing.json").path, "--out", out], "missing.json"),
      (["report", "--metrics", bad.path, "--out", out], "holds no metrics records"),
      (["experiment", "adding", "--lengths", "10", "--steps", "1", "--out", dir.appendingPathComponent("e").path], "--lengths must be"),
      (["experiment", "adding", "--cells", "lstm,tree", "--steps", "1", "--out", dir.appendingPathComponent("e").path], "unknown --model \"tree\""),
      (["experiment", "adding", "--chrono", "--memory-gate-bias", "3", "--steps", "1", "--out", dir.appendingPathComponent("e").path], "leave out --memory-gate-bias"),
      (["experiment", "sorting", "--steps", "1", "--out", dir.appendingPathComponent("e").path], "unknown problem"),
      (["experiment", "copy", "--rnn-learning-rates", "0.1,-1", "--steps", "1", "--out", dir.appendingPathComponent("e").path], "--rnn-learning-rates"),
    ] {
      let r = try runRecur(args)
      #expect(r.status == 1, "\(args)")
      #expect(r.stderr.hasPrefix("error: ") && r.stderr.contains(message) && r.stderr.split(separator: "\n").count == 1, "\(args): \(r.stderr)")
    }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["bad.json"])
  }

  // MARK: - Helpers

  /// The capture groups of every match of `pattern`.
  static func matches(_ pattern: String, in text: String) -> [[String]] {
    let regex = try! NSRegularExpression(pattern: pattern)
    let ns = text as NSString
    return regex.matches(in: text, range: NSRange(location: 0, length: ns.length)).map { m in
      (0..<m.numberOfRanges).map { ns.substring(with: m.range(at: $0)) }
    }
  }

  /// The number at a path like `runs[3].test.accuracy` in parsed JSON, read from its text as written.
  static func value(at path: String, in json: JSONValue) -> Double? {
    func member(_ node: JSONValue?, _ key: Substring) -> JSONValue? {
      guard case .object(let members) = node else { return nil }
      return members.first { $0.key == key }?.value
    }
    var node: JSONValue? = json
    for part in path.split(separator: ".") {
      if let open = part.firstIndex(of: "[") {
        node = member(node, part[..<open])
        let index = Int(part[part.index(after: open)..<part.firstIndex(of: "]")!])!
        guard case .array(let items) = node, index < items.count else { return nil }
        node = items[index]
      } else {
        node = member(node, part)
      }
    }
    guard case .number(let text) = node else { return nil }
    return Double(text)
  }

  /// Whether `text` as shown ("99.61 %", "12,345", "0.0396", "4:07", "12s", "1.5e-03") is `value` rounded.
  static func shown(_ text: String, matches value: Double) -> Bool {
    let t = text.trimmingCharacters(in: .whitespaces)
    if t.hasSuffix("%") { return abs(Double(t.dropLast().trimmingCharacters(in: .whitespaces))! - value * 100) <= 0.005 + 1e-9 }
    if t.hasSuffix("s"), let s = Double(t.dropLast()) { return abs(s - value) <= 0.5 }
    if t.contains(":") {
      let parts = t.split(separator: ":").map { Double($0)! }
      return abs(parts.reduce(0) { $0 * 60 + $1 } - value) <= 0.5
    }
    guard let shown = Double(t.replacingOccurrences(of: ",", with: "")) else { return false }
    if shown == value { return true }
    // Rounded to the digits shown: the error is at most half a unit of the last digit.
    let mantissa = t.split(separator: "e")[0]
    let decimals = mantissa.split(separator: ".").dropFirst().first?.count ?? 0
    let exponent = t.contains("e") ? Double(t.split(separator: "e")[1])! : 0
    return abs(shown - value) <= 0.5 * pow(10, exponent - Double(decimals)) * (1 + 1e-9)
  }
}
