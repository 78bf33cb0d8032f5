import Foundation

/// A windowed ``Forecaster`` built on a recurrent stack (``LSTM`` or ``GRU``, any number of
/// layers): the stack reads the `lookback` rows before an origin t (time-major `[lookback, B, F]`)
/// and a ``Linear`` head maps its last output to all `horizon × features` values t+1 … t+horizon
/// at once (direct multi-step forecasting).
///
/// With `relative` (default) the inputs are the window's rows minus its last row u[t] and the
/// targets u[t+h] - u[t]: the model is invariant to the level, so trending series whose levels leave
/// the training range are forecast as well as stationary ones, and the naive forecast is the
/// zero output. Without it the inputs and targets are the (scaled) levels.
///
/// Training: a ``ForecastingTask`` run by the ``Trainer`` with ``trainerOptions``: MSE loss,
/// ``Adam``, gradient-norm clipping on every step (``TrainerOptions/gradClip``), mini-batches of
/// training windows shuffled each epoch by a ``RandomGenerator`` seeded from `seed`; after each
/// epoch the loss on the validation windows (the split's validation part, or — when it has none —
/// the last 20 % of the training origins, held out of training with a gap of `horizon` so no
/// target is shared) decides early stopping (`patience` epochs without improvement) and the
/// weights of the best epoch are kept. Deterministic for a given seed.
///
/// Parameters are stored under `<kind>.rnn.…` (PyTorch's `nn.LSTM`/`nn.GRU` names) and
/// `<kind>.head.weight`, `<kind>.head.bias` (F32), settings as JSON metadata `<kind>.config`.
///
/// One type for every cell: its ``kind`` is the cell's name (`lstm`, `gru`, `rnn_tanh`, `rnn_relu`).
public struct RecurrentForecaster: Forecaster {

  /// Hyper-parameters.
  public struct Configuration: Codable, Sendable, Equatable {
    /// The recurrent cell.
    public var cell: RecurrentCellKind = .lstm
    /// Width of the hidden state.
    public var hiddenSize = 32
    /// Stacked recurrent layers.
    public var numLayers = 1
    /// The most passes over the training windows.
    public var epochs = 200
    /// Adam's learning rate.
    public var learningRate = 3e-3
    /// Windows per optimiser step.
    public var batchSize = 32
    /// Epochs without a lower validation loss before training stops.
    public var patience = 20
    /// Dropout between recurrent layers and on the last output (training only), in [0, 1).
    public var dropout = 0.0
    /// Maximum joint gradient norm (0: no clipping).
    public var gradClip = 1.0
    /// Inputs and targets relative to the window's last row (see the type's documentation).
    public var relative = true
    /// Seed of the initial weights, the shuffles and the dropout masks.
    public var seed: UInt64 = 0

    /// The defaults for `cell`: one layer of 32, 200 epochs, learning rate 3e-3, batches of 32.
    public init(cell: RecurrentCellKind = .lstm) { self.cell = cell }

    /// Throws `TrainingError.invalidSetting` naming the first invalid value.
    public func validate() throws {
      try TrainingError.require(hiddenSize >= 1, "hiddenSize", hiddenSize, ">= 1")
      try TrainingError.require(numLayers >= 1, "numLayers", numLayers, ">= 1")
      try TrainingError.require(epochs >= 1, "epochs", epochs, ">= 1")
      try TrainingError.require(learningRate > 0 && learningRate.isFinite, "learningRate", learningRate, "> 0")
      try TrainingError.require(batchSize >= 1, "batchSize", batchSize, ">= 1")
      try TrainingError.require(patience >= 1, "patience", patience, ">= 1")
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      try TrainingError.require(gradClip >= 0 && gradClip.isFinite, "gradClip", gradClip, ">= 0 (0: none)")
    }
  }

  /// The hyper-parameters.
  public let configuration: Configuration
  /// Rows in each input window.
  public let lookback: Int
  /// Rows forecast from each origin.
  public let horizon: Int
  /// The fitted network (nil before ``fit(series:split:)``); never changed after fitting.
  // Written only by fit/restore (which own the value); forecasts only read it, in evaluation mode.
  nonisolated(unsafe) private var network: RecurrentForecastNetwork?
  /// Training epochs run and the best epoch (1-based) after fitting.
  public private(set) var epochsRun = 0
  /// The epoch (1-based) whose weights were kept.
  public private(set) var bestEpoch = 0
  /// The validation MSE (scaled units) of the best epoch; NaN before fitting.
  public private(set) var bestValidationLoss = Double.nan

  /// The model kind: the cell's name (`lstm`, `gru`, `rnn_tanh`, `rnn_relu`).
  public var kind: String { configuration.cell.rawValue }

  /// An unfitted forecaster. Throws ``ForecastError`` for a lookback or horizon below 1 or an
  /// invalid configuration.
  public init(configuration: Configuration = Configuration(), lookback: Int, horizon: Int) throws {
    guard lookback >= 1, horizon >= 1 else {
      throw ForecastError.invalidArgument("lookback and horizon must be >= 1, got \(lookback) and \(horizon)")
    }
    try configuration.validate()
    self.configuration = configuration
    self.lookback = lookback
    self.horizon = horizon
  }

  // MARK: - Fit

  /// The trainer options of a fit: Adam, clipping, `epochs` passes with an evaluation after each,
  /// early stopping after `patience` evaluations without improvement, the best epoch's weights kept.
  public var trainerOptions: TrainerOptions {
    let c = configuration
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: Float(c.learningRate)))
    options.gradClip = Float(c.gradClip)
    options.epochs = Double(c.epochs)
    options.patience = c.patience
    options.restoreBest = true
    options.seed = c.seed ^ 0x5DEE_CE66_D1CE_D00D
    return options
  }

  /// The training task for `series` as split by `split` (the model freshly initialised), and
  /// whether its validation windows were held out of the training part.
  public func makeTask(series: DoubleMatrix, split: ForecastSplit) throws -> (task: ForecastingTask, heldOut: Bool) {
    guard split.count == series.rows, split.horizon == horizon else {
      preconditionFailure("RecurrentForecaster: split for \(split.count) rows / horizon \(split.horizon), series has \(series.rows) rows, horizon \(horizon)")
    }
    // Only training and validation rows are read (never the test rows).
    let known = series.rows(0..<split.validation.upperBound)
    var trainOrigins = split.trainOrigins
    guard !trainOrigins.isEmpty else {
      throw TimeSeriesError.tooShort("no training windows: \(split.train.count) training rows for lookback \(lookback) + horizon \(horizon)")
    }
    var validationOrigins = split.validationOrigins
    var heldOut = false
    if validationOrigins.isEmpty {
      let held = max(1, trainOrigins.count / 5)
      guard trainOrigins.count - held - horizon >= 1 else {
        throw TimeSeriesError.tooShort("too few training windows (\(trainOrigins.count)) to hold some out for early stopping; use a longer series, a smaller lookback or a validation part")
      }
      let last = trainOrigins.last!
      validationOrigins = Array((last - held + 1)...last)
      // Training targets end before the first validation target: origins <= first validation origin - horizon.
      trainOrigins = trainOrigins.filter { $0 <= last - held + 1 - horizon }
      heldOut = true
    }
    let c = configuration
    try TrainingError.requireFitsMemory(
      RecurrentForecastNetwork.parameterCount(cell: c.cell, hiddenSize: c.hiddenSize, numLayers: c.numLayers, features: series.columns,
                                              horizon: horizon),
      sizes: ["hiddenSize": c.hiddenSize, "numLayers": c.numLayers, "horizon": horizon])
    let network = RecurrentForecastNetwork(cell: c.cell, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: Float(c.dropout),
                                           features: series.columns, horizon: horizon, seed: c.seed)
    let task = ForecastingTask(
      model: network, train: ForecastWindows(series: known, lookback: lookback, horizon: horizon, origins: trainOrigins),
      validation: ForecastWindows(series: known, lookback: lookback, horizon: horizon, origins: validationOrigins),
      lookback: lookback, horizon: horizon, batchSize: c.batchSize, relative: c.relative, shuffleSeed: c.seed ^ 0x5DEE_CE66_D1CE_5EED)
    return (task, heldOut)
  }

  /// Trains a fresh network with the ``Trainer`` (``makeTask(series:split:)`` and ``trainerOptions``)
  /// and keeps the weights of the best epoch. Returns notes for the report.
  public mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] {
    let c = configuration
    let (task, heldOut) = try makeTask(series: series, split: split)
    let trainer = try Trainer(task: task, options: trainerOptions)
    do {
      try trainer.run()
    } catch TrainingError.nonFinite(let what, let step, let value) {
      throw ForecastError.invalidArgument("training diverged (the \(what) became \(value) at step \(step)); lower the learning rate or the gradient clip")
    }
    network = task.model
    epochsRun = (trainer.step + task.stepsPerEpoch - 1) / task.stepsPerEpoch
    bestEpoch = (trainer.best?.step ?? 0) / task.stepsPerEpoch
    bestValidationLoss = trainer.best?.loss ?? .nan
    return [
      "network": "\(c.cell.rawValue) \(c.numLayers)×\(c.hiddenSize), dropout \(c.dropout), \(c.relative ? "relative" : "level") inputs, seed \(c.seed)",
      "training": "Adam lr \(c.learningRate), batch \(c.batchSize), grad clip \(c.gradClip), \(task.trainWindows.count) windows; stopped after \(epochsRun) of \(c.epochs) epochs (patience \(c.patience))",
      "selection": "best epoch \(bestEpoch): scaled validation MSE \(String(format: "%.4g", bestValidationLoss)) on \(task.validationWindows.count) origins"
        + (heldOut ? " (the end of the training part)" : ""),
    ]
  }

  // MARK: - Forecast

  /// Forecasts rows t+1 … t+horizon from each origin t, reading rows t−lookback+1 … t (scaled
  /// units). Throws ``ForecastError`` before fitting, for other columns or out-of-range origins.
  public func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    guard let network else {
      throw ForecastError.invalidArgument("the \(kind) forecaster is not fitted; fit it or load a checkpoint first")
    }
    guard series.columns == network.features else {
      throw ForecastError.invalidArgument("the model forecasts \(network.features) columns, the series has \(series.columns)")
    }
    let f = series.columns
    guard let last = origins.max() else { return ForecastBatch(origins: [], horizon: horizon, features: f, values: []) }
    guard origins.allSatisfy({ $0 >= lookback - 1 }), last < series.rows else {
      throw ForecastError.invalidArgument("forecast origins must be rows \(lookback - 1)..<\(series.rows) of the series (lookback \(lookback))")
    }
    // Only rows 0 … last are read (the windows end at their origins).
    let w = ForecastWindows(series: series.rows(0..<(last + 1)), lookback: lookback, horizon: horizon, origins: origins)
    var values = [Double]()
    values.reserveCapacity(origins.count * horizon * f)
    let chunk = 1024
    try withoutGradients {
      for start in stride(from: 0, to: w.count, by: chunk) {
        let indices = Array(start..<min(w.count, start + chunk))
        var context = ForwardContext.inference
        let x = ForecastingTask.windowBatch(w, indices[...], lookback: lookback, horizon: horizon, relative: configuration.relative).x
        let p = try network(x, context: &context).scalars
        for (j, i) in indices.enumerated() {
          let lastRow = (i * lookback + lookback - 1) * f
          for h in 0..<horizon {
            for k in 0..<f {
              values.append(Double(p[j * horizon * f + h * f + k]) + (configuration.relative ? w.inputs[lastRow + k] : 0))
            }
          }
        }
      }
    }
    return ForecastBatch(origins: origins, horizon: horizon, features: f, values: values)
  }

  // MARK: - Checkpoint

  private struct Stored: Codable {
    var configuration: Configuration
    var lookback, horizon, features, epochsRun, bestEpoch: Int
  }

  /// Adds the weights under `<kind>.` (PyTorch names) and the settings as `<kind>.config`
  /// metadata. Throws ``ForecastError`` before fitting.
  public func store(in file: inout SafeTensorsFile) throws {
    guard let network else {
      throw ForecastError.invalidArgument("the \(kind) forecaster is not fitted; fit it before saving a checkpoint")
    }
    let prefix = kind + "."
    for (name, tensor) in network.stateDict() { file[prefix + name] = SafeTensorsFile.Entry(tensor) }
    try file.setModelSettings(Stored(configuration: configuration, lookback: lookback, horizon: horizon,
                                     features: network.features, epochsRun: epochsRun, bestEpoch: bestEpoch), kind: kind)
  }

  /// The model stored under `<kind>.` in `file`.
  public init(restoringFrom file: SafeTensorsFile, kind: String) throws {
    guard let cell = RecurrentCellKind(rawValue: kind) else {
      throw ForecastError.checkpoint("\(quotedForMessage(kind, quote: "'")) is not a recurrent cell; the checkpoint is damaged")
    }
    let prefix = kind + "."
    let stored = try file.modelSettings(Stored.self, kind: kind)
    guard stored.configuration.cell == cell, (try? stored.configuration.validate()) != nil, stored.lookback >= 1, stored.horizon >= 1,
          stored.features >= 1 else {
      throw ForecastError.checkpoint("the checkpoint's \(prefix)config is damaged; re-create it")
    }
    let c = stored.configuration
    // Sizes from the file are checked against the tensors it holds before anything is built.
    var storedCount = SizeTally()
    for (name, entry) in file.orderedEntries where name.hasPrefix(prefix) { storedCount.add(product: entry.shape) }
    let implied = RecurrentForecastNetwork.parameterCount(cell: c.cell, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
                                                          features: stored.features, horizon: stored.horizon)
    guard let count = implied.total, let held = storedCount.total, count <= held else {
      throw ForecastError.checkpoint("the checkpoint's \(prefix)config implies more weights than the file holds; re-create it")
    }
    let network = RecurrentForecastNetwork(cell: c.cell, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: Float(c.dropout),
                                           features: stored.features, horizon: stored.horizon, seed: c.seed)
    var tensors: [String: Tensor] = [:]
    for name in file.names where name.hasPrefix(prefix) {
      tensors[String(name.dropFirst(prefix.count))] = file[name]!.tensor
    }
    do {
      try network.loadStateDict(tensors)
    } catch let error as StateDictError {
      throw ForecastError.checkpoint("the checkpoint's \(cell.rawValue) weights do not fit its settings (\(error.description)); re-create it")
    }
    configuration = stored.configuration
    lookback = stored.lookback
    horizon = stored.horizon
    epochsRun = stored.epochsRun
    bestEpoch = stored.bestEpoch
    self.network = network
  }
}
