import ArgumentParser
import Foundation
import Recur

/// `recur seq2seq`: encoder-decoder models with attention on `source<TAB>target` pairs (train, eval, predict).
struct Seq2SeqCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seq2seq",
    abstract: "Train and use an attention encoder-decoder on source<TAB>target pairs.",
    discussion: """
      Data: one pair per line, source<TAB>target; several lines with the same source are alternative \
      references. Sides are split into characters or whitespace-separated words (--source-tokens, \
      --target-tokens); the vocabularies come from the training file.

      Examples (grapheme to phoneme):
        recur seq2seq train --train cmudict_train.tsv --validation cmudict_dev.tsv --target-tokens words --time-limit 30m --out runs/g2p
        recur seq2seq eval --checkpoint runs/g2p/best.safetensors --data cmudict_dev.tsv --beam 5 --heatmap runs/g2p/attention.svg
        echo hello | recur seq2seq predict --checkpoint runs/g2p/best.safetensors --beam 5 --n-best 3
      """,
    subcommands: [Seq2SeqTrainCommand.self, Seq2SeqEvalCommand.self, Seq2SeqPredictCommand.self]
  )

  /// The defaults of `recur seq2seq train` (the decoder is `hiddenSize` wide unless
  /// `--decoder-size` says otherwise). Measured on CMUdict, 2 quiet Zen 3 cores, 30 minutes: 26.9 %
  /// dev WER with beam 5 (Benchmarks/results/seq2seq_cmudict_30min_zen3.log); a decoder as wide as
  /// the 512-wide memory is 2 points of WER behind at an equal 8 minutes.
  enum Defaults: TrainingOptionDefaults {
    static let hiddenSize = 256
    static let numLayers = 1
    static let dropout: Float = 0.2
    static let batchSize = 64
    static let learningRate: Float = 2e-3
    static let gradClip: Float = 5
    static let embeddingSize = 64
    static let labelSmoothing: Float = 0.1
    static let matmulPrecision = Kernels.MatmulPrecision.medium
    static let out = "runs/seq2seq"
    static let dropoutPlacement = "on the embeddings, between encoder layers and before the output layer"
    static let batchMeaning = "pairs per step"
    static let learningRateMeaning = "peak learning rate (Adam, cosine schedule)"
  }
}

/// `--source-tokens`, `--target-tokens`: how each side of a pair is split.
struct Seq2SeqTokenOptions: ParsableArguments {
  @Option(name: .customLong("source-tokens"), help: ArgumentHelp("Split sources into chars or whitespace-separated words (default chars).", valueName: "chars|words")) var sourceTokens: String = "chars"
  @Option(name: .customLong("target-tokens"), help: ArgumentHelp("Split targets into chars or whitespace-separated words (default chars).", valueName: "chars|words")) var targetTokens: String = "chars"

  /// The two tokenizations, checked.
  func tokenizations() throws -> (source: Seq2SeqTokenization, target: Seq2SeqTokenization) {
    func parse(_ text: String, _ flag: String) throws -> Seq2SeqTokenization {
      guard let t = Seq2SeqTokenization(rawValue: text.lowercased()) else { throw CLIError("\(flag) must be chars or words, got \"\(text)\"") }
      return t
    }
    return (try parse(sourceTokens, "--source-tokens"), try parse(targetTokens, "--target-tokens"))
  }
}

/// `--beam`, `--length-penalty`, `--max-length`: how `eval` and `predict` decode.
struct Seq2SeqDecodingOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Beam width; 1 decodes greedily (default 5).") var beam: Int = 5
  @Option(name: .customLong("length-penalty"), parsing: .unconditional, help: "α of Wu et al.'s length penalty ((5+|Y|)/6)^α; 0 ranks by log-probability (default 0.6).") var lengthPenalty: Double = 0.6
  @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Most output tokens per source (default 2 × source length + 10).") var maxLength: Int?

  /// Checks the values.
  func validate() throws {
    guard beam >= 1 && beam <= 1024 else { throw CLIError("--beam must be in 1…1024, got \(beam)") }
    guard lengthPenalty >= 0, lengthPenalty.isFinite else { throw CLIError("--length-penalty must be 0 or more, got \(lengthPenalty)") }
    if let maxLength, !(1...100_000).contains(maxLength) { throw CLIError("--max-length must be in 1…100000, got \(maxLength)") }
  }

  /// The n best of each source, decoding in batches of 64 sources of similar length.
  func decode(_ model: EncoderDecoder, _ sources: [[Int]], best: Int) throws -> [[DecodedSequence]] {
    var results = [[DecodedSequence]](repeating: [], count: sources.count)
    let order = sources.indices.sorted { (sources[$0].count, $0) < (sources[$1].count, $1) }
    for start in stride(from: 0, to: order.count, by: 64) {
      let part = Array(order[start..<Swift.min(order.count, start + 64)])
      let batch = part.map { sources[$0] }
      let limit = maxLength.map { $0 + 1 } ?? Seq2SeqExample.maximumOutputLength(sourceLength: batch.map(\.count).max()!)
      let decoded: [[DecodedSequence]]
      if beam == 1 && best == 1 {
        decoded = try model.greedy(batch, maximumLength: limit).map { [$0] }
      } else {
        decoded = try model.beamSearch(batch, search: BeamSearch(width: beam, lengthPenalty: lengthPenalty, maximumLength: limit), best: best)
      }
      for (i, d) in zip(part, decoded) { results[i] = d }
    }
    return results
  }
}

/// `recur seq2seq`'s flag names for the library's parameters.
extension FlagNames {
  static let seq2seq = common.merging([
    "labelSmoothing": "--label-smoothing",
    "decoderHiddenSize": "--decoder-size",
    "attention": "--attention",
    "patience": "--patience",
  ])
}

/// Reads the pairs of `path`, tokenised as given.
func readPairs(_ path: String, _ tokens: (source: Seq2SeqTokenization, target: Seq2SeqTokenization)) throws -> [Seq2SeqPair] {
  try Seq2SeqPairs.read(path: path, sourceTokenization: tokens.source, targetTokenization: tokens.target)
}
