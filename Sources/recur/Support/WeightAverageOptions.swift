import ArgumentParser

/// `--ema-decay`: evaluate and save an exponential moving average of the weights
/// (`TrainerOptions.averageDecay`), with the command's default (`Defaults.emaDecay`, nil: off).
struct WeightAverageOptions<Defaults: TrainingOptionDefaults>: ParsableArguments {
  @Option(name: .customLong("ema-decay"), parsing: .unconditional, help: ArgumentHelp("Evaluate and save a moving average of the weights with this decay in (0, 1), e.g. 0.999 (about the last 1,000 steps); 0 turns it off (default \(Defaults.emaDecay.map { Defaults.shown($0) } ?? "off")).")) var emaDecay: Float?

  /// The decay for `TrainerOptions.averageDecay`: nil when off.
  var averageDecay: Float? {
    guard let decay = emaDecay ?? Defaults.emaDecay else { return nil }
    return decay == 0 ? nil : decay
  }
}
