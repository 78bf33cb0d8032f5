import ArgumentParser
import Foundation
import Recur

/// `recur ctc`: connectionist temporal classification on frame sequences with unaligned label
/// strings (build spoken-digit strings, train, eval, predict).
struct CTCCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "ctc",
    abstract: "Train and use CTC models: frame sequences → label strings, without frame-level alignment.",
    discussion: """
      Data: frames in one CSV (id, frame, c0 … cK: one row per frame) and one row per sequence in \
      --labels (id, label, optional split): the label is a string, each character one label.

      Examples:
        recur ctc build-strings --frames fsdd_mfcc13.csv --index fsdd_index.csv --out data/digits
        recur ctc train --data data/digits/frames.csv --labels data/digits/labels.csv --out runs/ctc
        recur ctc eval --checkpoint runs/ctc/best.safetensors --data data/digits/frames.csv --labels data/digits/labels.csv
        recur ctc predict --checkpoint runs/ctc/best.safetensors --data new_frames.csv --beam-width 16 --n-best 3
      """,
    subcommands: [CTCBuildStringsCommand.self, CTCTrainCommand.self, CTCEvalCommand.self, CTCPredictCommand.self]
  )

  /// The flags of every `ctc` subcommand for the library's parameter names.
  static let flags = FlagNames.common.merging([
    "patience": "--patience", "frameStack": "--frame-stack", "featureCount": "--data",
    "trainCount": "--train-count", "validationCount": "--val-count", "testCount": "--test-count",
    "minDigits": "--min-digits", "maxDigits": "--max-digits", "validationFraction": "--val-fraction",
  ])

  /// Defaults sized for spoken-digit strings on two cores.
  enum Defaults: TrainingOptionDefaults {
    static let hiddenSize = 192
    static let numLayers = 2
    static let dropout: Float = 0.2
    static let batchSize = 32
    static let learningRate: Float = 2e-3
    static let gradClip: Float = 5
    static let frameStack = 2
    static let beamWidth = 16
    static let dropoutPlacement = "between layers and before the output layer"
    static let batchMeaning = "sequences per step"
    static let learningRateMeaning = "peak learning rate"
  }
}

/// `--data`, `--labels` and the column flags: frames joined with label strings.
struct CTCDataOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Frames CSV: one row per frame (id, frame, c0 … cK).", valueName: "file")) var data: String
  @Option(help: ArgumentHelp("CSV with one row per sequence: id, label (a string) and an optional split.", valueName: "file")) var labels: String?
  @Option(name: .customLong("id-column"), help: "Column of the sequence id in both files (default id).") var idColumn = "id"
  @Option(name: .customLong("step-column"), help: "Column of the frame number in the frames CSV (default frame).") var stepColumn = "frame"
  @Option(name: .customLong("label-column"), help: "Column of the label string in --labels (default label).") var labelColumn = "label"

  /// The sequences of `--data` joined with `--labels` (required when `needsLabels`).
  func read(needsLabels: Bool) throws -> TranscribedSequenceSet {
    if needsLabels && labels == nil { throw CLIError("--labels FILE is required: one row per sequence with its id and label string") }
    return try TranscribedSequenceSet.readJoined(features: URL(fileURLWithPath: data), labels: labels.map { URL(fileURLWithPath: $0) },
                                                 idColumn: idColumn, stepColumn: stepColumn, labelColumn: labelColumn)
  }
}

/// The saved model of a CTC checkpoint with its configuration.
func loadCTCModel(_ path: String) throws -> (model: CTCModel, saved: CTCArchive) {
  try CTCTask.loadModel(from: loadArchive(path))
}

/// `--beam-width`: the prefix beam search's width.
struct CTCBeamOptions: ParsableArguments {
  @Option(name: .customLong("beam-width"), parsing: .unconditional, help: "Prefixes kept by the beam search (default \(CTCCommand.Defaults.beamWidth)).") var beamWidth = CTCCommand.Defaults.beamWidth

  /// The `best` most probable label strings of one sequence's log-probabilities.
  func decode(_ logProbs: [[Float]], best: Int = 1) throws -> [CTCHypothesis] {
    try requirePositive(beamWidth, flag: "--beam-width")
    // Classes below e^-12 at a frame cannot change the best few prefixes; skipping them is the speed.
    return CTCDecoder.beamSearch(logProbs, blank: CTCAlphabet.blank, beamWidth: beamWidth, best: best, pruneBelow: -12)
  }
}
