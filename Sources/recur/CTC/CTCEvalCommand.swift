import ArgumentParser
import Foundation
import Recur

/// `recur ctc eval`: label error rate and sequence accuracy of a saved CTC model with greedy and
/// beam decoding, and the per-frame label probabilities of one sequence as SVG.
struct CTCEvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "eval", abstract: "Label error rate and sequence accuracy (greedy and beam) of a CTC model on labelled frames.")
  @Option(help: ArgumentHelp("A checkpoint written by recur ctc train.", valueName: "checkpoint")) var checkpoint: String
  @OptionGroup var input: CTCDataOptions
  @OptionGroup var beam: CTCBeamOptions
  @Option(help: ArgumentHelp("Write the per-frame label probabilities of one sequence as SVG here.", valueName: "file")) var svg: String?
  @Option(help: ArgumentHelp("The sequence the SVG shows (default: the first scored).", valueName: "id")) var item: String?
  @Flag(help: "Print the metrics as JSON.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: CTCCommand.flags) {
      try threads.apply()
      try requirePositive(beam.beamWidth, flag: "--beam-width")
      let (model, saved) = try loadCTCModel(checkpoint)
      let set = try input.read(needsLabels: true)
      let hasTest = set.items.contains { $0.split == .test }
      let items = hasTest ? set.items(in: .test) : set.items
      let data = try CTCDataset(items, featureCount: set.featureCount, input: saved.metadata.input, alphabet: saved.metadata.alphabet,
                                source: set.source, labelColumn: input.labelColumn)
      var shown = 0
      if let item {
        guard let i = data.ids.firstIndex(of: item) else {
          throw CLIError("--item \(item): no \(hasTest ? "test " : "")sequence with this id in \(set.source)")
        }
        shown = i
      }
      if let svg { try checkWritableDirectory(URL(fileURLWithPath: svg).deletingLastPathComponent()) }
      let (report, logProbs) = try CTCReport.score(model, on: data, beam: beam)
      if let svg {
        let alphabet = saved.metadata.alphabet
        try ctcProbabilityPlot(logProbs[shown], id: data.ids[shown], reference: alphabet.decode(data.targets[shown]),
                               decoded: alphabet.decode(CTCDecoder.greedy(logProbs[shown]).labels), alphabet: alphabet,
                               frameStack: saved.metadata.input.frameStack).write(to: URL(fileURLWithPath: svg))
      }
      let part = hasTest ? "test part" : "all sequences"
      print(json ? try report.json(part: part) : report.text(part: part))
    }
  }
}
