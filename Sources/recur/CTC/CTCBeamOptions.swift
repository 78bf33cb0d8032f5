import ArgumentParser
import Recur

/// `--beam-width`: the prefix beam search's width.
struct CTCBeamOptions: ParsableArguments {
  @Option(name: .customLong("beam-width"), parsing: .unconditional, help: "Prefixes kept by the beam search (default \(CTCCommand.Defaults.beamWidth)).") var beamWidth = CTCCommand.Defaults.beamWidth

  /// The `best` most probable label strings of one sequence's log-probabilities (commands check
  /// `beamWidth` ≥ 1 first).
  func decode(_ logProbs: [[Float]], best: Int = 1) -> [CTCHypothesis] {
    // Classes below e^-12 at a frame cannot change the best few prefixes; skipping them is the speed.
    return CTCDecoder.beamSearch(logProbs, blank: CTCAlphabet.blank, beamWidth: beamWidth, best: best, pruneBelow: -12)
  }
}
