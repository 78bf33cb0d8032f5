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
