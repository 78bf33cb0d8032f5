import ArgumentParser

/// `--batch-size`, `--learning-rate`, `--grad-clip`: how a command's optimiser steps, with that
/// command's defaults and words (`Defaults`). The learning rate and the clip are `Float`s, as in
/// the library's `OptimizerSettings` and `TrainerOptions`. Absent flags are nil.
struct OptimizationOptions<Defaults: TrainingOptionDefaults>: ParsableArguments {
  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: Defaults.help("\(Defaults.batchMeaning) (default \(Defaults.batchSize)).")) var batchSize: Int?
  @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: Defaults.help("\(Defaults.learningRateMeaning) (default \(Defaults.shown(Defaults.learningRate))).")) var learningRate: Float?
  @Option(name: .customLong("grad-clip"), parsing: .unconditional, help: Defaults.help("clip the global gradient norm to this; 0 disables (default \(Defaults.shown(Defaults.gradClip))).")) var gradClip: Float?
}
