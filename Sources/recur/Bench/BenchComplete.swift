import ArgumentParser
import Foundation
import Recur

/// `recur bench complete`: the time of one autocompletion per keystroke, as an editor would call it.
struct BenchComplete: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "complete",
    abstract: "Time autocompletion per keystroke: a text is typed one character at a time and completed after each.",
    discussion: """
      One Completer is kept across keystrokes (each keystroke runs the model over the new character, then a \
      beam search to the end of the word). Without --checkpoint the model is a freshly initialised LSTM of \
      --hidden-size × --num-layers over the bundled corpus's characters (its completions tend to run to \
      --max-length, the slow case). Prints the median, 90th percentile and maximum per keystroke.
      """
  )

  @Option(help: ArgumentHelp("A language model checkpoint (default: a fresh LSTM).", valueName: "file")) var checkpoint: String?
  @Option(help: "The text typed.") var text = "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife."
  @Option(name: .customShort("k"), help: "Completions per keystroke.") var count = 5
  @Option(name: .customLong("beam-width"), help: "Hypotheses per character (default max(k, 8)).") var beamWidth: Int?
  @Option(name: .customLong("max-length"), help: "The most characters added per completion.") var maxLength = 20
  @Option(name: .customLong("hidden-size"), help: "Width of the fresh model.") var hiddenSize = 256
  @Option(name: .customLong("num-layers"), help: "Layers of the fresh model.") var numLayers = 2
  @Option(help: "Times the text is typed (after one warm-up pass).") var repeats = 3
  @OptionGroup var common: BenchRunOptions

  func validate() throws {
    try BenchLimits.check(repeats: repeats)
    guard (1...100).contains(count) else { throw ValidationError("-k must be in 1...100, got \(count)") }
    guard (1...200).contains(maxLength) else { throw ValidationError("--max-length must be in 1...200, got \(maxLength)") }
    guard beamWidth.map({ (1...1000).contains($0) }) ?? true else { throw ValidationError("--beam-width must be in 1...1000") }
    guard (1...4096).contains(hiddenSize), (1...8).contains(numLayers) else {
      throw ValidationError("--hidden-size must be in 1...4096 and --num-layers in 1...8")
    }
    guard (1...2000).contains(text.unicodeScalars.count) else { throw ValidationError("--text must have 1 to 2000 characters") }
  }

  func run() throws {
    try reportingErrors { try measure() }
  }

  func measure() throws {
    Kernels.numThreads = common.threads
    let model: CharLM, vocabulary: CharVocabulary, what: String
    if let checkpoint {
      (model, vocabulary, _) = try LanguageModelTask.loadModel(from: loadArchive(checkpoint))
      what = checkpoint
    } else {
      vocabulary = CharVocabulary(text: try TextCorpus.bundled().text)
      model = try CharLM(CharLM.Configuration(vocabularySize: vocabulary.count, hiddenSize: hiddenSize, numLayers: numLayers, dropout: 0), seed: 1)
      what = "fresh model"
    }
    let missing = vocabulary.missingScalars(in: text)
    guard missing.isEmpty else {
      throw CLIError("--text has characters the model lacks: \(missing.map(CharVocabulary.describe).joined(separator: ", "))")
    }
    let scalars = Array(text.unicodeScalars)
    var times: [Double] = []
    for pass in 0...repeats {
      let completer = Completer(model: model, vocabulary: vocabulary)
      for i in 1...scalars.count {
        let prefix = String(String.UnicodeScalarView(scalars[..<i]))
        let start = DispatchTime.now().uptimeNanoseconds
        _ = try completer.complete(prefix, count: count, beamWidth: beamWidth, maximumLength: maxLength)
        if pass > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e6) }
      }
    }
    times.sort()
    let median = times[times.count / 2], p90 = times[min(times.count - 1, times.count * 9 / 10)], worst = times.last!
    let c = model.configuration
    if common.json {
      let object: [String: Any] = ["model": what, "cell": "\(c.cell)", "hidden_size": c.hiddenSize, "num_layers": c.numLayers,
                                   "threads": common.threads, "k": count, "keystrokes": times.count, "median_ms": median, "p90_ms": p90, "max_ms": worst]
      print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys]), as: UTF8.self))
    } else {
      print("recur bench complete — \(what): \(c.cell) \(c.numLayers) × \(c.hiddenSize), \(common.threads) thread(s), k \(count), "
        + "\(times.count) keystrokes")
      print(String(format: "per keystroke: median %.2f ms, 90th percentile %.2f ms, max %.2f ms", median, p90, worst))
    }
  }
}
