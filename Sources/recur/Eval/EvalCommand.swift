import ArgumentParser
import Foundation
import Recur

/// `recur eval`: the loss of a character-level model on a text, in nats and bits per character.
struct EvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval",
    abstract: "Print the loss of a character-level language model on a text (nats/char and bits/char).",
    discussion: """
      Reads the whole text as --batch-size parallel streams in windows of --seq-length characters, \
      carrying the state between windows, and averages the cross-entropy of every prediction.
      """
  )

  @OptionGroup var checkpoint: LanguageModelCheckpointOption
  @Option(help: ArgumentHelp("UTF-8 text file to evaluate on.", valueName: "file")) var corpus: String
  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Parallel streams (default: the checkpoint's evaluation batch size, 128; fewer for short texts).") var batchSize: Int?
  @Option(name: .customLong("seq-length"), parsing: .unconditional, help: "Window length (default: the checkpoint's).") var seqLength: Int?
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors { try evaluate() }
  }

  func evaluate() throws {
    try requirePositive(batchSize, flag: "--batch-size")
    try requirePositive(seqLength, flag: "--seq-length")
    try threads.apply()
    let (model, vocabulary, configuration) = try checkpoint.load()
    let text = try TextCorpus.load(path: corpus)
    let missing = vocabulary.missingScalars(in: text.text)
    if !missing.isEmpty {
      let shown = missing.prefix(8).map(CharVocabulary.describe).joined(separator: ", ") + (missing.count > 8 ? ", …" : "")
      throw CLIError("corpus \(corpus) contains \(missing.count) character\(missing.count == 1 ? "" : "s") the model's vocabulary lacks (\(shown)); "
        + "evaluate on text in the model's alphabet or remove them")
    }
    let ids = try vocabulary.encode(text.text)
    guard ids.count >= 2 else { throw CLIError("corpus \(corpus) has \(ids.count) character; it needs at least 2 (one input and its next character)") }
    // Fit the layout to the text: at most the requested streams, each at least one window + 1.
    let T = Swift.min(seqLength ?? configuration.data.seqLength, ids.count - 1)
    let B = Swift.max(1, Swift.min(batchSize ?? configuration.data.evalBatchSize, ids.count / (T + 1)))
    let batches = try TextBatches(ids: ids, batchSize: B, seqLength: T)
    let start = ProgressLine.now()
    let loss = try Kernels.withMatmulPrecision(.highest) { try LanguageModelTask.meanLoss(model: model, batches: batches) }
    let seconds = ProgressLine.now() - start
    print(String(format: "loss %.4f nats/char, %.4f bits/char (perplexity %.3f) over %d characters of %@ (%d streams × %d; %.1fs)",
                 loss, loss / M_LN2, Foundation.exp(loss), batches.tokenCount, corpus, B, T, seconds))
  }
}
