import ArgumentParser
import Foundation
import Recur

/// `recur complete`: the most likely ways to finish a word (or the next few words).
struct CompleteCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "complete",
    abstract: "Autocomplete: the k most likely continuations of a text to the end of its word (or of N words), with probabilities.",
    discussion: """
      Beam search over the characters of a character-level language model (written by recur train). \
      Without --prefix, completes each line of standard input (the model state is reused from one \
      line to the next where the lines share a beginning, as an editor calling it per keystroke would).
      """
  )

  @OptionGroup var checkpoint: LanguageModelCheckpointOption
  @Option(help: "The text typed so far (default: each line of standard input).") var prefix: String?
  @Option(name: .customShort("k"), parsing: .unconditional, help: "Completions to show.") var count: Int = 5
  @Option(parsing: .unconditional, help: "Complete to the end of this many words.") var words: Int = 1
  @Option(name: .customLong("beam-width"), parsing: .unconditional, help: "Hypotheses kept per character (default max(k, 8)).") var beamWidth: Int?
  @Option(name: .customLong("max-length"), parsing: .unconditional, help: "The most characters added.") var maxLength: Int = 60
  @Flag(help: "Print the completions as JSON (one object per prefix).") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors { try complete() }
  }

  struct Report: Encodable {
    struct Item: Encodable { var text: String, probability: Double, log_probability: Double }
    var prefix: String, completions: [Item], milliseconds: Double
  }

  func complete() throws {
    try requireAtMost(count, 1_000, flag: "-k", why: "completions per prefix")
    try requireAtMost(words, 100, flag: "--words", why: "words per completion")
    try requireAtMost(beamWidth, 10_000, flag: "--beam-width", why: "hypotheses per step")
    try requireAtMost(maxLength, 10_000, flag: "--max-length", why: "characters per completion")
    try threads.apply()
    let (model, vocabulary, _) = try checkpoint.load()
    let completer = Completer(model: model, vocabulary: vocabulary)
    func one(_ text: String) throws {
      let missing = vocabulary.missingScalars(in: text)
      if !missing.isEmpty {
        throw CLIError("the prefix contains characters the model's vocabulary lacks: " + missing.map(CharVocabulary.describe).joined(separator: ", ")
          + "; remove or replace them (the model knows \(vocabulary.count) characters)")
      }
      guard !text.isEmpty else { throw CLIError("the prefix is empty; give --prefix some text to complete") }
      let start = DispatchTime.now().uptimeNanoseconds
      let completions = try completer.complete(text, count: count, words: words, beamWidth: beamWidth, maximumLength: maxLength)
      let ms = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6
      if json {
        let report = Report(prefix: text, completions: completions.map { .init(text: $0.text, probability: $0.probability, log_probability: $0.logProbability) },
                            milliseconds: ms)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        StandardStream.output.write(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
      } else {
        // The word being completed: the end of the prefix after its last space or newline.
        let stem = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == " " || $0 == "\n" }).last.map(String.init) ?? ""
        for c in completions {
          // One line per completion: a newline inside it shows as ↵.
          let shown = (stem + c.text).replacingOccurrences(of: "\n", with: "↵")
          StandardStream.output.write(String(format: "%.4f  ", c.probability) + shown + "\n")
        }
        if completions.isEmpty { StandardStream.output.write("(no completion within --max-length \(maxLength) characters)\n") }
      }
      StandardStream.output.flush()
    }
    if let prefix {
      try one(prefix)
    } else {
      while let line = readLine(strippingNewline: true) { try one(line) }
    }
  }
}
