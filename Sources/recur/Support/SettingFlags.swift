import Recur

/// The command-line flag of each library setting, so library errors (which name settings, never
/// flags) read as flag-aware one-line messages.
enum SettingFlags {
  static let flags: [String: String] = [
    "hiddenSize": "--hidden-size", "numLayers": "--num-layers", "embeddingSize": "--embedding-size", "dropout": "--dropout",
    "seqLength": "--seq-length", "batchSize": "--batch-size", "validationFraction": "--val-fraction",
    "evalBatchSize": "--eval-batch-size", "learningRate": "--learning-rate", "weightDecay": "--weight-decay",
    "momentum": "--momentum", "warmupSteps": "--warmup-steps", "minLearningRateFactor": "--min-lr-factor",
    "decayEvery": "--lr-decay-every", "decayFactor": "--lr-decay", "gradClip": "--grad-clip", "steps": "--steps",
    "epochs": "--epochs", "timeLimit": "--time-limit", "evalEvery": "--eval-every", "patience": "--patience",
  ]

  /// The message of a library training error in the words of the command line.
  static func message(_ error: TrainingError) -> String {
    switch error {
    case let .invalidSetting(name, value, expected):
      return "\(flags[name] ?? name) must be \(expected), got \(value)"
    case .noBudget:
      return "give a budget: --steps, --epochs or --time-limit"
    case .nonFinite:
      return error.description + ". Lower --learning-rate or set --grad-clip, then resume from the last checkpoint"
    case .wrongTask, .inconsistentCheckpoint:
      return error.description + "; pass a checkpoint written by this version of recur for this command"
    }
  }
}
