import ArgumentParser
import Recur

/// The flags of `recur forecast --model lstm|gru`: the shared recurrent-model and optimisation
/// groups (with the forecaster's defaults) and the training length.
struct RecurrentForecastOptions: ParsableArguments {
  /// The forecaster's own defaults, so help and library never disagree.
  enum Defaults: TrainingOptionDefaults {
    static let library = RecurrentForecaster.Configuration()
    static let hiddenSize = library.hiddenSize
    static let numLayers = library.numLayers
    static let dropout = Float(library.dropout)
    static let batchSize = library.batchSize
    static let learningRate = Float(library.learningRate)
    static let gradClip = Float(library.gradClip)
    static let dropoutPlacement = "between layers and on the last output"
    static let batchMeaning = "windows per mini-batch"
    static let learningRateMeaning = "Adam learning rate"
    static let scope: String? = "LSTM/GRU"
  }

  @OptionGroup var model: RecurrentModelOptions<Defaults>
  @Option(parsing: .unconditional, help: Defaults.help("maximum training epochs (default \(Defaults.library.epochs)).")) var epochs: Int?
  @Option(parsing: .unconditional, help: Defaults.help("epochs without a lower validation loss before stopping (default \(Defaults.library.patience)).")) var patience: Int?
  @OptionGroup var optimization: OptimizationOptions<Defaults>

  /// The configuration these flags give for `cell` (the library's defaults where absent), its
  /// weights and batch order drawn from `seed`; a bad value is told by its flag.
  func configuration(cell: RecurrentCellKind, seed: UInt64) throws -> RecurrentForecaster.Configuration {
    var c = RecurrentForecaster.Configuration(cell: cell)
    c.hiddenSize = model.hiddenSize ?? c.hiddenSize
    c.numLayers = model.numLayers ?? c.numLayers
    c.dropout = model.dropout.map(Double.init(decimal:)) ?? c.dropout
    c.epochs = epochs ?? c.epochs
    c.patience = patience ?? c.patience
    c.batchSize = optimization.batchSize ?? c.batchSize
    c.learningRate = optimization.learningRate.map(Double.init(decimal:)) ?? c.learningRate
    c.gradClip = optimization.gradClip.map(Double.init(decimal:)) ?? c.gradClip
    c.seed = seed
    try c.validate()
    return c
  }
}

extension Double {
  /// The Double nearest the Float's shortest decimal: a flag typed as 0.003 gives 0.003, not
  /// 0.0030000000260770321, to a library setting held in Double.
  init(decimal value: Float) {
    self = Double("\(value)") ?? Double(value)
  }
}
