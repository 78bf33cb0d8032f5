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
/// Training: MSE loss, ``Adam``, ``clipGradNorm`` on every step, mini-batches of training windows
/// shuffled each epoch by a ``RandomGenerator`` seeded from `seed`; after each epoch the loss on the
/// validation windows (the split's validation part, or — when it has none — the last 20 % of the
/// training origins, held out of training with a gap of `horizon` so no target is shared) decides
/// early stopping (`patience` epochs without improvement) and the weights of the best epoch are
/// kept. Deterministic for a given seed.
///
/// Parameters are stored under `<kind>.rnn.…` (PyTorch's `nn.LSTM`/`nn.GRU` names) and
/// `<kind>.head.weight`, `<kind>.head.bias` (F32), settings as JSON metadata `<kind>.config`.
///
/// One type for both cells; the ``Forecaster`` conformances (whose kind is static) are
/// ``LSTMForecaster`` and ``GRUForecaster``, thin wrappers fixing the cell.
public struct RecurrentForecaster: Sendable {

  /// The recurrent cell.
  public enum Cell: String, Codable, Sendable, CaseIterable {
    case lstm, gru
  }

  /// Hyper-parameters.
  public struct Configuration: Codable, Sendable, Equatable {
    public var cell: Cell = .lstm
    public var hiddenSize = 32
    public var numLayers = 1
    public var epochs = 200
    public var learningRate = 3e-3
    public var batchSize = 32
    /// Epochs without a lower validation loss before training stops.
    public var patience = 20
    /// Dropout between recurrent layers and on the last output (training only), in [0, 1).
    public var dropout = 0.0
    /// Maximum joint gradient norm (0: no clipping).
    public var gradClip = 1.0
    /// Inputs and targets relative to the window's last row (see the type's documentation).
    public var relative = true
    public var seed: UInt64 = 0

    public init(cell: Cell = .lstm) { self.cell = cell }

    /// Describes the first invalid value, or nil.
    public var problem: String? {
      if hiddenSize < 1 { return "hidden size must be >= 1, got \(hiddenSize)" }
      if numLayers < 1 { return "number of layers must be >= 1, got \(numLayers)" }
      if epochs < 1 { return "epochs must be >= 1, got \(epochs)" }
      if !(learningRate > 0 && learningRate.isFinite) { return "learning rate must be > 0, got \(learningRate)" }
      if batchSize < 1 { return "batch size must be >= 1, got \(batchSize)" }
      if patience < 1 { return "patience must be >= 1, got \(patience)" }
      if !(dropout >= 0 && dropout < 1) { return "dropout must be in [0, 1), got \(dropout)" }
      if !(gradClip >= 0 && gradClip.isFinite) { return "gradient clip must be >= 0 (0: none), got \(gradClip)" }
      return nil
    }
  }

  public let configuration: Configuration
  public let lookback: Int
  public let horizon: Int
  /// The fitted network (nil before ``fit(series:split:)``); never changed after fitting.
  private var network: Network?
  /// Training epochs run and the best epoch (1-based) after fitting.
  public private(set) var epochsRun = 0
  public private(set) var bestEpoch = 0
  public private(set) var bestValidationLoss = Double.nan

  public var cellKind: String { configuration.cell.rawValue }

  public init(configuration: Configuration = Configuration(), lookback: Int, horizon: Int) throws {
    guard lookback >= 1, horizon >= 1 else {
      throw ForecastError.invalidArgument("lookback and horizon must be >= 1, got \(lookback) and \(horizon)")
    }
    if let problem = configuration.problem { throw ForecastError.invalidArgument(problem) }
    self.configuration = configuration
    self.lookback = lookback
    self.horizon = horizon
  }

  // MARK: - Network

  /// Recurrent stack + head. Immutable once fitted (only read, in evaluation mode, by forecasts).
  final class Network: Module, @unchecked Sendable {
    let rnn: RecurrentLayer
    let head: Linear
    let drop: Dropout
    let features: Int
    var dropoutGenerator: RandomGenerator
    var isTraining = true

    init(_ c: Configuration, features: Int, horizon: Int) {
      var generator = RandomGenerator(seed: c.seed)
      let rnnSeed = generator.next()
      let between = Float(c.numLayers > 1 ? c.dropout : 0)
      switch c.cell {
      case .lstm: rnn = LSTM(inputSize: features, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: between, seed: rnnSeed)
      case .gru: rnn = GRU(inputSize: features, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: between, seed: rnnSeed)
      }
      head = Linear(inputSize: c.hiddenSize, outputSize: horizon * features, generator: &generator)
      drop = Dropout(p: Float(c.dropout))
      dropoutGenerator = RandomGenerator(seed: generator.next())
      self.features = features
    }

    var children: [(name: String, module: any Module)] { [("rnn", rnn), ("head", head)] }

    /// `x` `[lookback, B, F]` → `[B, horizon·F]`.
    func callAsFunction(_ x: Tensor) throws -> Tensor {
      let output: Tensor
      switch rnn {
      case let lstm as LSTM: output = try lstm(x).output
      case let gru as GRU: output = try gru(x).output
      default: preconditionFailure("RecurrentForecaster: unknown recurrent layer \(type(of: rnn))")
      }
      var last = output[row: x.shape[0] - 1]
      if isTraining && drop.p > 0 { last = drop(last, generator: &dropoutGenerator) }
      return head(last)
    }
  }

  /// Inputs `[lookback, B, F]` (time-major) and targets `[B, horizon·F]` of the windows `indices`
  /// of `windows`.
  private func batch(_ w: ForecastWindows, _ indices: ArraySlice<Int>) -> (x: Tensor, y: Tensor?) {
    let f = w.features, b = indices.count
    var x = [Float](repeating: 0, count: lookback * b * f)
    var y = [Float](repeating: 0, count: w.targets.isEmpty ? 0 : b * horizon * f)
    for (j, i) in indices.enumerated() {
      let base = i * lookback * f
      let lastRow = base + (lookback - 1) * f
      for s in 0..<lookback {
        for k in 0..<f {
          let v = w.inputs[base + s * f + k] - (configuration.relative ? w.inputs[lastRow + k] : 0)
          x[(s * b + j) * f + k] = Float(v)
        }
      }
      if !w.targets.isEmpty {
        for h in 0..<horizon {
          for k in 0..<f {
            let v = w.targets[(i * horizon + h) * f + k] - (configuration.relative ? w.inputs[lastRow + k] : 0)
            y[j * horizon * f + h * f + k] = Float(v)
          }
        }
      }
    }
    return (Tensor(shape: [lookback, b, f], scalars: x), w.targets.isEmpty ? nil : Tensor(shape: [b, horizon * f], scalars: y))
  }

  /// Mean squared error (scaled units, as trained) of `network` on all windows of `w`.
  private func loss(_ network: Network, _ w: ForecastWindows) throws -> Double {
    var sum = 0.0
    let chunk = 1024
    try withoutGradients {
      for start in stride(from: 0, to: w.count, by: chunk) {
        let (x, y) = batch(w, Array(0..<w.count)[start..<min(w.count, start + chunk)])
        let p = try network(x)
        sum += Double(mseLoss(p, y!, reduction: .sum).item)
      }
    }
    return sum / Double(w.count * horizon * w.features)
  }

  // MARK: - Fit

  public mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] {
    guard split.count == series.rows, split.horizon == horizon else {
      preconditionFailure("RecurrentForecaster.fit: split for \(split.count) rows / horizon \(split.horizon), series has \(series.rows) rows, horizon \(horizon)")
    }
    let c = configuration
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
        throw TimeSeriesError.tooShort("too few training windows (\(trainOrigins.count)) to hold some out for early stopping; use a longer series, a smaller lookback or --validation-fraction")
      }
      let last = trainOrigins.last!
      validationOrigins = Array((last - held + 1)...last)
      // Training targets end before the first validation target: origins <= first validation origin - horizon.
      trainOrigins = trainOrigins.filter { $0 <= last - held + 1 - horizon }
      heldOut = true
    }
    let trainWindows = ForecastWindows(series: known, lookback: lookback, horizon: horizon, origins: trainOrigins)
    let validationWindows = ForecastWindows(series: known, lookback: lookback, horizon: horizon, origins: validationOrigins)

    let network = Network(c, features: series.columns, horizon: horizon)
    let optimizer = Adam(parameters: network.parameters, learningRate: Float(c.learningRate))
    var shuffler = RandomGenerator(seed: c.seed ^ 0x5DEE_CE66_D1CE_5EED)
    var order = Array(0..<trainWindows.count)
    var best = (loss: Double.infinity, epoch: 0, weights: [String: Tensor]())
    var epoch = 0
    while epoch < c.epochs {
      epoch += 1
      network.train()
      order.shuffle(using: &shuffler)
      for start in stride(from: 0, to: order.count, by: c.batchSize) {
        let (x, y) = batch(trainWindows, order[start..<min(order.count, start + c.batchSize)])
        let loss = mseLoss(try network(x), y!)
        optimizer.zeroGrad()
        loss.backward()
        if c.gradClip > 0 {
          let norm = clipGradNorm(network.parameters, maxNorm: Float(c.gradClip))
          if !norm.isFinite { continue }
        }
        optimizer.step()
      }
      network.eval()
      let v = try loss(network, validationWindows)
      guard v.isFinite else {
        throw ForecastError.invalidArgument("training diverged (validation loss \(v) in epoch \(epoch)); lower --learning-rate or --grad-clip")
      }
      if v < best.loss {
        best = (v, epoch, Dictionary(uniqueKeysWithValues: network.stateDict().map { ($0.name, $0.tensor) }))
      } else if epoch - best.epoch >= c.patience {
        break
      }
    }
    try network.loadStateDict(best.weights)
    network.eval()
    self.network = network
    epochsRun = epoch
    bestEpoch = best.epoch
    bestValidationLoss = best.loss
    return [
      "network": "\(c.cell.rawValue) \(c.numLayers)×\(c.hiddenSize), dropout \(c.dropout), \(c.relative ? "relative" : "level") inputs, seed \(c.seed)",
      "training": "Adam lr \(c.learningRate), batch \(c.batchSize), grad clip \(c.gradClip), \(trainOrigins.count) windows; stopped after \(epoch) of \(c.epochs) epochs (patience \(c.patience))",
      "selection": "best epoch \(best.epoch): scaled validation MSE \(String(format: "%.4g", best.loss)) on \(validationOrigins.count) origins"
        + (heldOut ? " (the end of the training part)" : ""),
    ]
  }

  // MARK: - Forecast

  public func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    guard let network else {
      throw ForecastError.invalidArgument("the \(cellKind) forecaster is not fitted; fit it or load a checkpoint first")
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
        let p = try network(batch(w, indices[...]).x).scalars
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
    var lookback: Int
    var horizon: Int
    var features: Int
    var epochsRun: Int
    var bestEpoch: Int
  }

  public func store(in file: inout SafeTensorsFile) throws {
    guard let network else {
      throw ForecastError.invalidArgument("the \(cellKind) forecaster is not fitted; fit it before saving a checkpoint")
    }
    let prefix = cellKind + "."
    for (name, tensor) in network.stateDict() { file[prefix + name] = SafeTensorsFile.Entry(tensor) }
    file.metadata[prefix + "config"] = try jsonText(Stored(configuration: configuration, lookback: lookback, horizon: horizon,
                                                           features: network.features, epochsRun: epochsRun, bestEpoch: bestEpoch))
  }

  /// The model stored under `<cell>.` in `file`.
  public init(restoringFrom file: SafeTensorsFile, cell: Cell) throws {
    let prefix = cell.rawValue + "."
    guard let text = file.metadata[prefix + "config"] else {
      throw ForecastError.checkpoint("the checkpoint has no \(prefix)config metadata; it was not written for a \(cell.rawValue) model")
    }
    let stored: Stored = try decodeJSON(text, what: prefix + "config")
    guard stored.configuration.cell == cell, stored.configuration.problem == nil, stored.lookback >= 1, stored.horizon >= 1,
          stored.features >= 1 else {
      throw ForecastError.checkpoint("the checkpoint's \(prefix)config is damaged; re-create it")
    }
    let network = Network(stored.configuration, features: stored.features, horizon: stored.horizon)
    var tensors: [String: Tensor] = [:]
    for name in file.names where name.hasPrefix(prefix) {
      tensors[String(name.dropFirst(prefix.count))] = file[name]!.tensor
    }
    do {
      try network.loadStateDict(tensors)
    } catch let error as StateDictError {
      throw ForecastError.checkpoint("the checkpoint's \(cell.rawValue) weights do not fit its settings (\(error.description)); re-create it")
    }
    network.eval()
    configuration = stored.configuration
    lookback = stored.lookback
    horizon = stored.horizon
    epochsRun = stored.epochsRun
    bestEpoch = stored.bestEpoch
    self.network = network
  }
}

/// The ``RecurrentForecaster`` with LSTM cells (kind `"lstm"`).
public struct LSTMForecaster: Forecaster {
  public static let kind = "lstm"
  public private(set) var base: RecurrentForecaster
  public var lookback: Int { base.lookback }
  public var horizon: Int { base.horizon }

  public init(configuration: RecurrentForecaster.Configuration = .init(cell: .lstm), lookback: Int, horizon: Int) throws {
    var c = configuration
    c.cell = .lstm
    base = try RecurrentForecaster(configuration: c, lookback: lookback, horizon: horizon)
  }
  public mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] {
    try base.fit(series: series, split: split)
  }
  public func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    try base.forecast(series: series, origins: origins)
  }
  public func store(in file: inout SafeTensorsFile) throws { try base.store(in: &file) }
  public init(restoringFrom file: SafeTensorsFile) throws { base = try RecurrentForecaster(restoringFrom: file, cell: .lstm) }
}

/// The ``RecurrentForecaster`` with GRU cells (kind `"gru"`).
public struct GRUForecaster: Forecaster {
  public static let kind = "gru"
  public private(set) var base: RecurrentForecaster
  public var lookback: Int { base.lookback }
  public var horizon: Int { base.horizon }

  public init(configuration: RecurrentForecaster.Configuration = .init(cell: .gru), lookback: Int, horizon: Int) throws {
    var c = configuration
    c.cell = .gru
    base = try RecurrentForecaster(configuration: c, lookback: lookback, horizon: horizon)
  }
  public mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] {
    try base.fit(series: series, split: split)
  }
  public func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    try base.forecast(series: series, origins: origins)
  }
  public func store(in file: inout SafeTensorsFile) throws { try base.store(in: &file) }
  public init(restoringFrom file: SafeTensorsFile) throws { base = try RecurrentForecaster(restoringFrom: file, cell: .gru) }
}
