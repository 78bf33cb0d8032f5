import ArgumentParser
import Foundation
import Recur

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `recur chat`: talk with a character-level language model trained on dialogue.
struct ChatCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "chat",
    abstract: "Talk with a language model trained on dialogue (e.g. tiny-shakespeare): you type a line, it answers as the next speaker.",
    discussion: """
      Each line you type becomes a speech of --user (NAME:, the line, a blank line, as in a play); the model \
      answers as --as, or as whoever it picks, until it ends its speech with a blank line. With --turn-prefix \
      each turn is instead one line starting with that marker. The model's state is carried from turn to turn. \
      Commands: /reset (forget the conversation), /temperature X, /save FILE (resume later with --resume FILE), \
      /help, /quit. Works in a terminal and with a pipe (one line per turn; no prompts are printed then).
      """
  )

  @OptionGroup var checkpoint: LanguageModelCheckpointOption
  @Option(help: "The speaker name of your lines.") var user: String = "YOU"
  @Option(name: .customLong("as"), help: "The speaker the model answers as (default: the model picks).") var modelSpeaker: String?
  @Option(name: .customLong("turn-prefix"), help: "Turns are single lines starting with this marker (instead of NAME: speeches).") var turnPrefix: String?
  @Option(parsing: .unconditional, help: "Sampling temperature: lower is safer, higher more inventive; 0 always takes the most likely character.") var temperature: Float = 0.8
  @Option(name: .customLong("top-k"), parsing: .unconditional, help: "Sample only among the k most likely characters (0: all).") var topK: Int = 0
  @Option(name: .customLong("max-length"), parsing: .unconditional, help: "The most characters of one answer.") var maxLength: Int = 600
  @Option(parsing: .unconditional, help: "Seed of the sampler (default: a random one, printed on standard error).") var seed: UInt64?
  @Option(help: ArgumentHelp("Continue a conversation saved with /save.", valueName: "file")) var resume: String?
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors { try chat() }
  }

  func chat() throws {
    guard temperature >= 0 && temperature.isFinite else { throw CLIError("--temperature must be a number ≥ 0, got \(temperature)") }
    try requireNonNegative(topK, flag: "--top-k", note: "0 keeps all characters")
    try requireAtMost(maxLength, 100_000, flag: "--max-length", why: "characters per answer")
    try threads.apply()
    let (model, vocabulary, _) = try checkpoint.load()
    let session: ChatSession
    if let resume {
      try checkReadableFile(resume, what: "saved conversation")
      session = try ChatSession(resuming: URL(fileURLWithPath: resume), model: model, vocabulary: vocabulary)
    } else {
      let format = turnPrefix.map { ChatSession.Format.lines(marker: $0) } ?? .play(user: user, model: modelSpeaker)
      let seed = self.seed ?? UInt64.random(in: 0...UInt64(UInt32.max))
      if self.seed == nil { StandardStream.error.write("(seed \(seed))\n") }
      do {
        session = try ChatSession(model: model, vocabulary: vocabulary, format: format, temperature: temperature, topK: topK, seed: seed)
      } catch let error as CharVocabularyError {
        throw CLIError("\(error.description) (--user, --as, --turn-prefix)")
      }
    }
    let interactive = isatty(STDIN_FILENO) != 0
    let out = StandardStream.output
    if interactive {
      out.write("Talking as \(session.format.userPrefix.trimmingCharacters(in: .whitespacesAndNewlines)); /help for commands, /quit or Ctrl-D to leave.\n")
    }
    while true {
      if interactive { out.write("> ") }
      out.flush()
      guard let line = readLine(strippingNewline: true) else { break }
      if line.hasPrefix("/") {
        if try !command(line, session: session) { break }
        continue
      }
      do {
        try session.reply(to: line, maximumLength: maxLength) { piece in
          out.write(piece)
          out.flush()
        }
        out.write("\n\n")
      } catch let error as CharVocabularyError {
        out.write("(\(error.description); say it with other characters)\n")
      }
      out.flush()
      if out.hasFailed { throw CLIError("cannot write to standard output; the conversation ended") }
    }
  }

  /// Runs a /command; false to end the conversation.
  func command(_ line: String, session: ChatSession) throws -> Bool {
    let words = line.split(separator: " ", maxSplits: 1).map(String.init)
    let argument = words.count > 1 ? words[1].trimmingCharacters(in: .whitespaces) : ""
    let out = StandardStream.output
    switch words[0] {
    case "/quit", "/exit":
      return false
    case "/reset":
      session.reset()
      out.write("(conversation forgotten)\n")
    case "/temperature":
      if let t = Float(argument), t >= 0, t.isFinite {
        session.temperature = t
        out.write("(temperature \(t))\n")
      } else {
        out.write("(usage: /temperature X with X ≥ 0, now \(session.temperature))\n")
      }
    case "/save":
      if argument.isEmpty {
        out.write("(usage: /save FILE)\n")
      } else {
        do {
          try session.save(to: URL(fileURLWithPath: argument))
          out.write("(saved to \(argument); continue with --resume \(argument))\n")
        } catch {
          out.write("(cannot save: \(cliMessage(for: error, flags: .common)))\n")
        }
      }
    case "/help":
      out.write("(/reset forgets the conversation, /temperature X sets the temperature, /save FILE saves it, /quit leaves)\n")
    default:
      out.write("(unknown command \(words[0]); /help lists them)\n")
    }
    out.flush()
    return true
  }
}
