import ArgumentParser

/// `--hidden-size`, `--num-layers`, `--dropout`: the recurrent stack of a model a command trains,
/// with that command's defaults and words (`Defaults`). Absent flags are nil, so a command can
/// tell what was given.
struct RecurrentModelOptions<Defaults: TrainingOptionDefaults>: ParsableArguments {
  @Option(name: .customLong("hidden-size"), parsing: .unconditional, help: Defaults.help("units per recurrent layer (default \(Defaults.hiddenSize)).")) var hiddenSize: Int?
  @Option(name: .customLong("num-layers"), parsing: .unconditional, help: Defaults.help("recurrent layers (default \(Defaults.numLayers)).")) var numLayers: Int?
  @Option(parsing: .unconditional, help: Defaults.help("dropout \(Defaults.dropoutPlacement), in [0, 1) (default \(Defaults.shown(Defaults.dropout))).")) var dropout: Float?
}
