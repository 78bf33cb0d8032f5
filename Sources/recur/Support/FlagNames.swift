/// How a command spells the library's parameters: the Swift name an ``InvalidParameter`` (or a
/// typed library error) carries → the flag that sets it. The library never knows flags; this table
/// is the one place that joins the two vocabularies. A name missing here leaves the library's own
/// message, which names the parameter.
struct FlagNames: Sendable {
  private var flags: [String: String]

  init(_ flags: [String: String]) { self.flags = flags }

  /// The flag for the library parameter `name`, e.g. `"--leak-rate"` for `"leakRate"`.
  subscript(_ name: String) -> String? { flags[name] }

  /// This table with `other`'s entries added (replacing clashing ones).
  func merging(_ other: [String: String]) -> FlagNames {
    FlagNames(flags.merging(other) { _, new in new })
  }

  /// Parameters spelled the same way by every command (the language-model settings).
  static let common = FlagNames([
    // Text and windows.
    "corpus": "--corpus",
    "seqLength": "--seq-length",
    "batchSize": "--batch-size",
    "evalBatchSize": "--eval-batch-size",
    "validationFraction": "--val-fraction",
    // Model.
    "embeddingSize": "--embedding-size",
    "hiddenSize": "--hidden-size",
    "numLayers": "--num-layers",
    "dropout": "--dropout",
    "expansion": "--expansion",
    "feedForwardMultiplier": "--ff-mult",
    "convolutionKernel": "--conv-kernel",
    // Optimisation and schedule.
    "learningRate": "--learning-rate",
    "weightDecay": "--weight-decay",
    "momentum": "--momentum",
    "warmupSteps": "--warmup-steps",
    "minLearningRateFactor": "--min-lr-factor",
    "decayEvery": "--lr-decay-every",
    "decayFactor": "--lr-decay",
    "gradClip": "--grad-clip",
    "averageDecay": "--ema-decay",
    // Budget and cadence.
    "steps": "--steps",
    "epochs": "--epochs",
    "timeLimit": "--time-limit",
    "evalEvery": "--eval-every",
    "sampleEvery": "--sample-every",
    "sampleLength": "--sample-length",
    // Sampling.
    "length": "--length",
    "temperature": "--temperature",
    "topK": "--top-k",
    "seed": "--seed",
    "threads": "--threads",
  ])

  /// `recur forecast`.
  static let forecast = common.merging([
    "columns": "--column",
    "missing": "--fill",
    "scaling": "--scaling",
    "lookback": "--lookback",
    "horizon": "--horizon",
    "testFraction": "--test-fraction",
    "validationFraction": "--validation-fraction",
    "season": "--season",
    // Mackey-Glass.
    "count": "--mackey-glass",
    "tau": "--tau",
    // Echo-state network.
    "units": "--units",
    "leakRate": "--leak-rate",
    "spectralRadius": "--spectral-radius",
    "inputScaling": "--input-scaling",
    "biasScaling": "--bias-scaling",
    "inputConnectivity": "--input-connectivity",
    "recurrentConnectivity": "--recurrent-connectivity",
    "ridge": "--ridge",
    "inputMode": "--input-mode",
    "predictDifferences": "--readout-target",
    "inputToReadout": "--input-to-readout",
    "inputNoise": "--input-noise",
    "selectionSteps": "--selection-steps",
    // Free run.
    "freeRunSteps": "--free-run",
    "freeRunStride": "--free-run-stride",
    "margin": "--guard-margin",
    // LSTM / GRU.
    "patience": "--patience",
  ])
}
