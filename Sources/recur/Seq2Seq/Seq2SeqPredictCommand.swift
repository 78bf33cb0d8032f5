import ArgumentParser
import Foundation
import Recur

/// `recur seq2seq predict`: decodes sources, one per line, from a file or standard input, printing
/// the n best outputs with their scores.
struct Seq2SeqPredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "predict", abstract: "Decode sources (one per line) and print the n best outputs.")

  @Option(help: ArgumentHelp("Checkpoint written by recur seq2seq train.", valueName: "file")) var checkpoint: String
  @Argument(help: ArgumentHelp("Text file with one source per line (default: standard input).", valueName: "file")) var input: String?
  @OptionGroup var decoding: Seq2SeqDecodingOptions
  @Option(name: .customLong("n-best"), parsing: .unconditional, help: "Outputs printed per source, at most --beam (default 1).") var nBest: Int = 1
  @Flag(help: "Print JSON lines ({source, outputs: [{text, score, log_probability}]}) instead of text.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: .seq2seq) {
      try threads.apply()
      try decoding.validate()
      guard nBest >= 1 && nBest <= decoding.beam else { throw CLIError("--n-best must be between 1 and --beam (\(decoding.beam)), got \(nBest)") }
      let (model, stored) = try Seq2SeqTask.loadModel(from: try loadArchive(checkpoint))
      let text: String
      if let input {
        guard FileManager.default.fileExists(atPath: input) else { throw CLIError("\(input) does not exist; give a file with one source per line") }
        guard let contents = try? String(contentsOfFile: input, encoding: .utf8) else { throw CLIError("\(input) cannot be read as UTF-8 text") }
        text = contents
      } else {
        text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
      }
      let v = stored.vocabulary
      let lines = text.split(separator: "\n").map { $0.hasSuffix("\r") ? String($0.dropLast()) : String($0) }
        .filter { !$0.allSatisfy(\.isWhitespace) }
      let decoded = try decoding.decode(model, lines.map { v.encodeSource(v.sourceTokenization.tokens($0)) }, best: nBest)
      for (line, outputs) in zip(lines, decoded) {
        if json {
          struct Output: Encodable { var text: String, score: Double, log_probability: Double }
          struct Line: Encodable { var source: String, outputs: [Output] }
          let record = Line(source: line, outputs: outputs.map { Output(text: v.decodeTarget($0.tokens), score: $0.score, log_probability: $0.logProbability) })
          print(String(decoding: try JSONEncoder().encode(record), as: UTF8.self))
        } else {
          for (rank, o) in outputs.enumerated() {
            print("\(line)\t\(rank + 1)\t\(String(format: "%.4f", o.score))\t\(v.decodeTarget(o.tokens))")
          }
        }
      }
    }
  }
}
