import ArgumentParser
import Foundation
import Recur

/// `recur tag eval`: token accuracy, accuracy on unseen words and per-tag precision/recall/F1 of
/// a checkpoint on tagged data, as a table or JSON.
struct TagEvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "eval", abstract: "Score a tagger checkpoint on tagged data.")

  @Option(help: ArgumentHelp("Checkpoint written by recur tag train.", valueName: "file")) var checkpoint: String
  @Option(help: ArgumentHelp("Tagged data to score (token-per-line TSV or CoNLL-U).", valueName: "file")) var data: String
  @OptionGroup var column: TagColumnOption
  @Flag(help: "Print the metrics as JSON instead of a table.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: .tag) {
      try threads.apply()
      let (model, stored) = try TaggingTask.loadModel(from: try loadArchive(checkpoint))
      let sentences = try encodeTagged(try column.read(data), stored.vocabulary, what: data)
      let metrics = try TaggingMetrics(model: model, sentences: sentences, tagCount: stored.vocabulary.tags.count)
      print(json ? try Self.json(metrics, tags: stored.vocabulary.tags) : Self.table(metrics, tags: stored.vocabulary.tags), terminator: json ? "\n" : "")
    }
  }

  static func json(_ m: TaggingMetrics, tags: [String]) throws -> String {
    struct Report: Encodable {
      var tokens: Int, accuracy: Double, unseen_tokens: Int, unseen_accuracy: Double, macro_f1: Double
      var per_tag: [String: TaggingMetrics.TagScore]
    }
    let report = Report(tokens: m.tokens, accuracy: m.accuracy, unseen_tokens: m.unseenTokens, unseen_accuracy: m.unseenAccuracy,
                        macro_f1: m.macroF1, per_tag: Dictionary(uniqueKeysWithValues: zip(tags, m.perTag)))
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return String(decoding: try encoder.encode(report), as: UTF8.self)
  }

  static func table(_ m: TaggingMetrics, tags: [String]) -> String {
    var lines = [String(format: "tokens %d  accuracy %.4f  unseen words %d (accuracy %.4f)  macro-F1 %.4f",
                        m.tokens, m.accuracy, m.unseenTokens, m.unseenAccuracy, m.macroF1)]
    lines.append("tag        precision  recall      F1  support")
    for (tag, s) in zip(tags, m.perTag).sorted(by: { $0.1.support > $1.1.support }) {
      lines.append(tag.padding(toLength: 10, withPad: " ", startingAt: 0)
        + String(format: " %9.4f %7.4f %7.4f %8d", s.precision, s.recall, s.f1, s.support))
    }
    return lines.joined(separator: "\n") + "\n"
  }
}

/// `recur tag predict`: tags whitespace-tokenised sentences, one per line, from a file or
/// standard input, printing `token/TAG` pairs.
struct TagPredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "predict", abstract: "Tag sentences (one per line, whitespace-tokenised).")

  @Option(help: ArgumentHelp("Checkpoint written by recur tag train.", valueName: "file")) var checkpoint: String
  @Argument(help: ArgumentHelp("Text file with one sentence per line (default: standard input).", valueName: "file")) var input: String?
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: .tag) {
      try threads.apply()
      let (model, stored) = try TaggingTask.loadModel(from: try loadArchive(checkpoint))
      let text: String
      if let input {
        guard let contents = try? String(contentsOfFile: input, encoding: .utf8) else { throw CLIError("\(input) cannot be read as UTF-8 text") }
        text = contents
      } else {
        text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
      }
      let lines = text.split(separator: "\n", omittingEmptySubsequences: false).map { $0.split(whereSeparator: \.isWhitespace).map(String.init) }
      let tokens = lines.filter { !$0.isEmpty }
      let encoded = try tokens.map { try stored.vocabulary.encode($0) }
      var predicted: [[Int]] = []
      for start in stride(from: 0, to: encoded.count, by: 64) {
        predicted += try model.predict(Array(encoded[start..<Swift.min(encoded.count, start + 64)]))
      }
      var next = 0
      for line in lines {
        guard !line.isEmpty else { continue }
        print(zip(line, predicted[next]).map { "\($0)/\(stored.vocabulary.tags[$1])" }.joined(separator: " "))
        next += 1
      }
    }
  }
}
