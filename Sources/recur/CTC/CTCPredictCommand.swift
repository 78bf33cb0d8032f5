import ArgumentParser
import Foundation
import Recur

/// `recur ctc predict`: decoded label strings of new frame sequences.
struct CTCPredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict", abstract: "Decode the label strings of frame sequences (greedy, or the n best of a beam search with their scores).",
    discussion: "Prints one line per sequence (id, then the greedy string); with --n-best N, N lines per sequence: id, rank, string, log-probability of the beam search.")
  @Option(help: ArgumentHelp("A checkpoint written by recur ctc train.", valueName: "checkpoint")) var checkpoint: String
  @OptionGroup var input: CTCDataOptions
  @OptionGroup var beam: CTCBeamOptions
  @Option(name: .customLong("n-best"), parsing: .unconditional, help: "Print the N most probable strings of a beam search (default: greedy decoding only).") var nBest: Int?
  @Flag(help: "Print one JSON object per sequence.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: CTCCommand.flags) {
      try threads.apply()
      try requirePositive(beam.beamWidth, flag: "--beam-width")
      try requirePositive(nBest, flag: "--n-best")
      if let nBest, nBest > beam.beamWidth { throw CLIError("--n-best \(nBest) is larger than --beam-width \(beam.beamWidth); raise --beam-width") }
      let (model, saved) = try loadCTCModel(checkpoint)
      let set = try input.read(needsLabels: false)
      let data = try CTCDataset(set.items, featureCount: set.featureCount, input: saved.metadata.input, alphabet: nil, source: set.source)
      let alphabet = saved.metadata.alphabet
      for (id, lp) in zip(data.ids, try model.logProbabilities(data)) {
        let greedy = alphabet.decode(CTCDecoder.greedy(lp).labels)
        let hypotheses = nBest.map { beam.decode(lp, best: $0) } ?? []
        if json {
          var object: [String: Any] = ["id": id, "greedy": greedy]
          if nBest != nil {
            object["beam"] = hypotheses.map { ["text": alphabet.decode($0.labels), "log_probability": $0.logProbability] as [String: Any] }
          }
          print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else if nBest == nil {
          print("\(id)\t\(greedy)")
        } else {
          for (rank, h) in hypotheses.enumerated() { print("\(id)\t\(rank + 1)\t\(alphabet.decode(h.labels))\t" + String(format: "%.4f", h.logProbability)) }
        }
      }
    }
  }
}
