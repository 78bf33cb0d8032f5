import ArgumentParser
import Foundation
import Recur

/// `recur seq2seq eval`: sequence accuracy, WER and token error rate of a checkpoint on pairs
/// (a source is right when its output equals any of its references), as text or JSON, and an
/// attention heat map of a few examples.
struct Seq2SeqEvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "eval", abstract: "Score an encoder-decoder checkpoint on source<TAB>target pairs.")

  @Option(help: ArgumentHelp("Checkpoint written by recur seq2seq train.", valueName: "file")) var checkpoint: String
  @Option(help: ArgumentHelp("Pairs to score (source<TAB>target).", valueName: "file")) var data: String
  @OptionGroup var decoding: Seq2SeqDecodingOptions
  @Option(help: ArgumentHelp("Write an attention heat map of the first --heatmap-count sources to this SVG file.", valueName: "file")) var heatmap: String?
  @Option(name: .customLong("heatmap-count"), parsing: .unconditional, help: "Sources in the heat map (default 4).") var heatmapCount: Int = 4
  @Flag(help: "Print the metrics as JSON instead of text.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: .seq2seq) {
      try threads.apply()
      try decoding.validate()
      guard heatmapCount >= 1 else { throw CLIError("--heatmap-count must be a positive integer, got \(heatmapCount)") }
      let (model, stored) = try Seq2SeqTask.loadModel(from: try loadArchive(checkpoint))
      let v = stored.vocabulary
      if heatmap != nil, model.decoder.attention == nil { throw CLIError("--heatmap needs a model with attention; this one has none") }
      let examples = Seq2SeqExample.grouping(try readPairs(data, (v.sourceTokenization, v.targetTokenization)), vocabulary: v)
      let started = Date()
      let decoded = try decoding.decode(model, examples.map(\.source), best: 1)
      let seconds = Date().timeIntervalSince(started)
      var metrics = Seq2SeqMetrics()
      for (d, e) in zip(decoded, examples) { metrics.add(d.first?.tokens ?? [], references: e.references) }
      if let heatmap {
        let shown = Array(zip(examples, decoded).prefix(heatmapCount)).map { e, d in
          AttentionHeatMap.Panel(source: v.source.decode(e.source), output: v.target.decode(d.first?.tokens ?? []) + ["</s>"],
                                 weights: d.first?.attention ?? [])
        }
        try AtomicFile.write(Array(AttentionHeatMap.svg(shown).utf8), to: URL(fileURLWithPath: heatmap))
      }
      let mode = decoding.beam == 1 ? "greedy" : "beam \(decoding.beam)"
      if json {
        struct Report: Encodable {
          var sources: Int, correct: Int, accuracy: Double, wer: Double, ter: Double, decoding: String, seconds: Double, words_per_second: Double
        }
        let report = Report(sources: metrics.sequences, correct: metrics.correct, accuracy: metrics.accuracy, wer: metrics.wordErrorRate,
                            ter: metrics.tokenErrorRate, decoding: mode, seconds: seconds, words_per_second: Double(metrics.sequences) / seconds)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
      } else {
        print(String(format: "%d sources (%@): exact match %.4f  WER %.4f  token error rate %.4f  (%.1f s, %.0f sources/s)",
                     metrics.sequences, mode, metrics.accuracy, metrics.wordErrorRate, metrics.tokenErrorRate, seconds,
                     Double(metrics.sequences) / seconds))
      }
    }
  }
}
