import ArgumentParser
import Foundation
import Recur

/// `recur bench seq2seq`: decoding speed of an encoder-decoder, greedy and beam search, in words
/// (sources) per second.
struct BenchSeq2Seq: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "seq2seq",
    abstract: "Time greedy and beam-search decoding of an encoder-decoder (sources per second).",
    discussion: """
      With --checkpoint and --data, decodes the data's sources with the trained model (the real \
      figure: outputs end when the model says so). Without, an untrained model of the default \
      seq2seq train shape decodes random 4–12-token sources for at most 10 steps each. Sources are \
      decoded in batches of --batch sorted by length, as recur seq2seq eval does.
      """
  )

  @Option(help: ArgumentHelp("Checkpoint written by recur seq2seq train.", valueName: "file")) var checkpoint: String?
  @Option(help: ArgumentHelp("Pairs (source<TAB>target) whose sources are decoded.", valueName: "file")) var data: String?
  @Option(help: "Sources decoded per pass (default 2048).") var words = 2048
  @Option(help: "Sources per batch (default 64).") var batch = 64
  @Option(help: "Beam width of the beam-search figure (default 5).") var beam = 5
  @Option(help: "Timed repetitions (after one warm-up); the median is reported.") var repeats = 3
  @OptionGroup var common: BenchRunOptions

  func validate() throws {
    for (flag, value) in [("--words", words), ("--batch", batch), ("--beam", beam), ("--repeats", repeats)] where value < 1 {
      throw ValidationError("\(flag) must be at least 1, got \(value)")
    }
    guard (checkpoint == nil) == (data == nil) else { throw ValidationError("give --checkpoint and --data together, or neither") }
  }

  func run() throws {
    try reportingErrors(flags: .seq2seq) {
      Kernels.numThreads = common.threads
      let model: EncoderDecoder, sources: [[Int]], fixedLength: Int?
      if let checkpoint, let data {
        let (loaded, stored) = try Seq2SeqTask.loadModel(from: try loadArchive(checkpoint))
        let v = stored.vocabulary
        let examples = Seq2SeqExample.grouping(try readPairs(data, (v.sourceTokenization, v.targetTokenization)), vocabulary: v)
        model = loaded
        sources = (0..<words).map { examples[$0 % examples.count].source }
        fixedLength = nil
      } else {
        var c = EncoderDecoder.Configuration(sourceVocabularySize: 30, targetVocabularySize: 43)
        (c.hiddenSize, c.embeddingSize) = (Seq2SeqCommand.Defaults.hiddenSize, Seq2SeqCommand.Defaults.embeddingSize)
        model = try EncoderDecoder(c, seed: 1)
        var g = RandomGenerator(seed: 2)
        sources = (0..<words).map { _ in (0..<(4 + Int(g.next() % 9))).map { _ in 2 + Int(g.next() % 28) } }
        fixedLength = 10
      }
      let order = sources.indices.sorted { sources[$0].count < sources[$1].count }
      let batches = stride(from: 0, to: order.count, by: batch).map { order[$0..<min(order.count, $0 + batch)].map { sources[$0] } }
      func limit(_ b: [[Int]]) -> Int { fixedLength ?? Seq2SeqExample.maximumOutputLength(sourceLength: b.map(\.count).max()!) }
      var outputTokens = 0
      let greedyMs = try medianMilliseconds(repeats: repeats) {
        outputTokens = 0
        for b in batches { outputTokens += try model.greedy(b, maximumLength: limit(b)).reduce(0) { $0 + $1.tokens.count } }
      }
      let beamMs = try medianMilliseconds(repeats: repeats) {
        for b in batches { _ = try model.beamSearch(b, search: BeamSearch(width: beam, lengthPenalty: 0.6, maximumLength: limit(b))) }
      }
      let greedyRate = Double(words) / (greedyMs / 1000), beamRate = Double(words) / (beamMs / 1000)
      if common.json {
        print("{\"words\": \(words), \"batch\": \(batch), \"beam\": \(beam), \"threads\": \(common.threads), \"trained\": \(checkpoint != nil), "
          + "\"greedy_words_per_second\": \(greedyRate), \"beam_words_per_second\": \(beamRate), \"greedy_output_tokens\": \(outputTokens)}")
      } else {
        print("recur bench seq2seq — \(words) sources, batch \(batch), \(common.threads) thread(s), "
          + (checkpoint == nil ? "untrained model, at most 10 steps each" : "trained model") + ":")
        print(String(format: "  greedy        %8.0f words/s  (%.0f ms, %.1f output tokens per word)", greedyRate, greedyMs, Double(outputTokens) / Double(words)))
        print(String(format: "  beam %-3d      %8.0f words/s  (%.0f ms)", beam, beamRate, beamMs))
      }
    }
  }
}
