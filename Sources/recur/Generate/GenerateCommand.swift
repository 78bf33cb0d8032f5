import ArgumentParser
import Foundation
import Recur

/// `recur generate`: streams text sampled from a trained character-level model.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Generate text or ABC tunes from a character-level language model checkpoint (written by `recur train`).",
    discussion: """
      Prints the prompt, then each sampled character as soon as it is drawn. The same --seed gives the same text. \
      With --format abc (a model trained on ABC tunes) it samples --count tunes, each from X: (after any --header \
      fields) to the blank line that ends it, checks each, prints them with a % verdict line and writes the valid \
      ones to --out as .abc and .mid files.
      """
  )

  @OptionGroup var checkpoint: LanguageModelCheckpointOption
  @Option(help: ArgumentHelp("text: free text; abc: tunes in ABC notation, checked and written as ABC and MIDI (default text).", valueName: "text|abc")) var format: String = "text"
  @Option(help: "Text to continue (default: start of a new paragraph).") var prompt: String?
  @Option(parsing: .unconditional, help: "Characters to generate (with --format abc: the most per tune, default 4000).") var length: Int?
  @Option(parsing: .unconditional, help: "Sampling temperature: lower is safer, higher more inventive; 0 always takes the most likely character (default 0.8; 0.2 with --format abc, where one wrong note length spoils a bar).") var temperature: Float?
  @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample only among the k most likely characters (0: all).") var topK: Int = 0
  @Option(parsing: .unconditional, help: "Seed of the sampler (default: a random one, printed on standard error).") var seed: UInt64?
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var tunes: TuneGenerationOptions

  func run() throws {
    try reportingErrors { try generate() }
  }

  func generate() throws {
    try requireAtMost(length, CharLM.maximumGenerationLength, flag: "--length", why: "characters per run")
    let temperature = self.temperature ?? (format == "abc" ? 0.2 : 0.8)
    guard temperature >= 0 && temperature.isFinite else { throw CLIError("--temperature must be a number ≥ 0, got \(temperature)") }
    try requireNonNegative(topK, flag: "--top-k", note: "0 keeps all characters")
    guard format == "text" || format == "abc" else { throw CLIError("unknown --format \"\(format)\"; use text or abc") }
    if format == "abc" {
      if prompt != nil { throw CLIError("--prompt is for --format text; prime tunes with --header fields such as --header M:6/8 --header K:G") }
      try requirePositive(tunes.count, flag: "--count")
      try requireAtMost(tunes.count, 100_000, flag: "--count", why: "tunes per run")
      try requirePositive(length, flag: "--length")
    } else if let flag = tunes.givenFlags.first {
      throw CLIError("\(flag) is for --format abc; add --format abc to sample tunes")
    }
    try threads.apply()
    let (model, vocabulary, _) = try checkpoint.load()
    if format == "abc" {
      var generator: TuneGenerator
      do {
        generator = try TuneGenerator(model: model, vocabulary: vocabulary, fields: tunes.headers)
      } catch let error as ABCError {
        throw CLIError("--header \(error.problem)")
      } catch let error as CharVocabularyError {
        throw CLIError("--header: \(error.description); the model was not trained on text with these characters")
      }
      generator.maximumLength = length ?? 4_000
      let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
      if self.seed == nil { StandardStream.error.write("(seed \(seed))\n") }
      var sampler = Sampler(temperature: temperature, topK: topK, seed: seed)
      try TuneGenerationRun(generator: generator, count: tunes.count ?? 10, out: URL(fileURLWithPath: tunes.out ?? "runs/tunes"),
                            json: tunes.json).run(sampler: &sampler)
      return
    }
    let length = self.length ?? 500

    var promptText = prompt ?? ""
    if let prompt {
      let missing = vocabulary.missingScalars(in: prompt)
      if !missing.isEmpty {
        throw CLIError("the prompt contains \(missing.count == 1 ? "a character" : "characters") the model's vocabulary lacks: "
          + missing.map(CharVocabulary.describe).joined(separator: ", ")
          + "; remove or replace \(missing.count == 1 ? "it" : "them") (the model knows \(vocabulary.count) characters)")
      }
    }
    // Without a prompt, start as a new paragraph would (a newline, not printed).
    var printedPrompt = promptText
    if promptText.isEmpty {
      promptText = vocabulary.covers("\n") ? "\n" : vocabulary.symbol(0)
      printedPrompt = promptText == "\n" ? "" : promptText
    }
    let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
    if self.seed == nil { StandardStream.error.write("(seed \(seed))\n") }
    var sampler = Sampler(temperature: temperature, topK: topK, seed: seed)
    StandardStream.output.write(printedPrompt)
    StandardStream.output.flush()
    try model.generate(prompt: try vocabulary.encode(promptText), length: length, sampler: &sampler) { id in
      StandardStream.output.write(vocabulary.symbol(id))
      StandardStream.output.flush()
      return !StandardStream.output.hasFailed  // output lost (a full disk): stop sampling
    }
    StandardStream.output.write("\n")
  }
}
