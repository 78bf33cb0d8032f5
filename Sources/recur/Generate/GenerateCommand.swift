import ArgumentParser
import Foundation
import Recur

/// `recur generate`: streams text sampled from a trained character-level model.
struct GenerateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "generate",
    abstract: "Generate text from a character-level language model checkpoint (written by `recur train`).",
    discussion: "Prints the prompt, then each sampled character as soon as it is drawn. The same --seed gives the same text."
  )

  @OptionGroup var checkpoint: LanguageModelCheckpointOption
  @Option(help: "Text to continue (default: start of a new paragraph).") var prompt: String?
  @Option(parsing: .unconditional, help: "Characters to generate.") var length: Int = 500
  @Option(parsing: .unconditional, help: "Sampling temperature: lower is safer, higher more inventive; 0 always takes the most likely character.") var temperature: Float = 0.8
  @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample only among the k most likely characters (0: all).") var topK: Int = 0
  @Option(parsing: .unconditional, help: "Seed of the sampler (default: a random one, printed on standard error).") var seed: UInt64?
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors { try generate() }
  }

  func generate() throws {
    try requireAtMost(length, CharLM.maximumGenerationLength, flag: "--length", why: "characters per run")
    guard temperature >= 0 && temperature.isFinite else { throw CLIError("--temperature must be a number ≥ 0, got \(temperature)") }
    try requireNonNegative(topK, flag: "--top-k", note: "0 keeps all characters")
    try threads.apply()
    let (model, vocabulary, _) = try checkpoint.load()

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
