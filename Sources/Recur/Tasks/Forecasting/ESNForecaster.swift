/// A ``Forecaster`` built on an ``EchoStateNetwork``: the reservoir reads the (scaled) series step
/// by step, teacher-forced, and one ridge read-out maps the state at origin t — together with the
/// observation u[t] — to all `horizon × features` values t+1 … t+horizon at once (direct
/// multi-step forecasting, no feedback inside the horizon).
///
/// With `predictDifferences` (default) the read-out learns u[t+h] - u[t], so the naive forecast is
/// the zero-weight solution the ridge penalty pulls towards: on short, noisy series the model falls
/// back to "tomorrow as today" instead of extrapolating badly.
///
/// The reservoir reads the levels u[t], their changes u[t] - u[t-1] (for trending series, whose
/// levels leave the training range), or both. The ridge and the input mode are fixed, or (nil)
/// chosen by the RMSE on the validation origins (the last 20 % of the training origins when the
/// split has no validation part) from the ridge grid 1e-9 … 1e5 and the three modes, after which
/// the read-out is refitted on training and validation rows together.
/// `lookback` is the warm-up: states before row lookback - 1 are not used.
public struct ESNForecaster: Forecaster {
  /// The model kind on the command line and in checkpoints.
  public static let kind = "esn"
  /// The model kind, `"esn"`.
  public var kind: String { Self.kind }

  /// Hyper-parameters (names as in ``Reservoir`` and ``Ridge``).
  public struct Configuration: Codable, Sendable, Equatable {
    /// Neurons in the reservoir.
    public var units = 300
    /// Leak rate α in (0, 1]: the share of the new state in each update.
    public var leakRate = 0.3
    /// Spectral radius the recurrent weights are scaled to.
    public var spectralRadius = 0.9
    /// Scale of the input weights.
    public var inputScaling = 1.0
    /// Scale of the reservoir biases.
    public var biasScaling = 0.5
    /// Fraction of non-zero input weights, in (0, 1].
    public var inputConnectivity = 1.0
    /// Fraction of non-zero recurrent weights, in (0, 1].
    public var recurrentConnectivity = 0.1
    /// Seed of the reservoir's random weights.
    public var seed: UInt64 = 0
    /// nil: choose on validation data.
    public var ridge: Double? = nil
    /// Whether the read-out also sees the input u[t] beside the state.
    public var inputToReadout = true
    /// Whether the read-out learns u[t+h] − u[t] instead of u[t+h] (see the type).
    public var predictDifferences = true
    /// What the reservoir reads; nil: chosen on validation data.
    public var inputMode: InputMode? = nil

    /// The defaults above: 300 units, leak rate 0.3, spectral radius 0.9, ridge and input mode chosen on validation data.
    public init() {}
  }

  /// The hyper-parameters.
  public let configuration: Configuration
  /// Rows of warm-up before the first origin.
  public let lookback: Int
  /// Rows forecast from each origin.
  public let horizon: Int
  /// The fitted network (nil before ``fit(series:split:)``).
  public private(set) var network: EchoStateNetwork?
  /// The ridge in use after fitting.
  public private(set) var ridge: Double?
  /// The input mode in use after fitting.
  public private(set) var inputMode: InputMode?
  /// The reservoir inputs of the final fit and the state after them: forecasting a series that
  /// starts with the same rows continues from there instead of re-reading them. Not stored in
  /// checkpoints.
  private var warmStart: (inputs: DoubleMatrix, state: [Double])?

  /// What the reservoir reads at each step.
  public enum InputMode: String, Codable, Sendable, CaseIterable {
    /// The (scaled) values u[t]: for stationary series, where the level matters.
    case levels
    /// The changes u[t] - u[t-1]: for trending series, whose levels leave the training range.
    case differences
    /// Both, side by side.
    case both
  }

  /// The ridge values tried when ``Configuration/ridge`` is nil: 1e-9, 1e-8, …, 1e5.
  public static let ridgeGrid: [Double] = (-9...5).map { pow10(Double($0)) }

  /// An unfitted forecaster. Throws ``TimeSeriesError`` or ``ReservoirError`` naming the first
  /// invalid parameter (`lookback`, `horizon`, `ridge`, `units`, a reservoir setting).
  public init(configuration: Configuration = Configuration(), lookback: Int, horizon: Int) throws {
    guard lookback >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("lookback", lookback, expected: ">= 1")) }
    guard horizon >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("horizon", horizon, expected: ">= 1")) }
    if let r = configuration.ridge, !(r >= 0 && r.isFinite) {
      throw ReservoirError.invalidParameter(InvalidParameter("ridge", r, expected: "a finite number >= 0"))
    }
    // Validate the reservoir hyper-parameters now (one-line errors before any work).
    _ = try Reservoir(units: 1, leakRate: configuration.leakRate, spectralRadius: configuration.spectralRadius,
                      inputScaling: configuration.inputScaling, biasScaling: configuration.biasScaling,
                      inputConnectivity: configuration.inputConnectivity,
                      recurrentConnectivity: 1, seed: configuration.seed)
    guard configuration.units >= 1 else {
      throw ReservoirError.invalidParameter(InvalidParameter("units", configuration.units, expected: ">= 1"))
    }
    self.configuration = configuration
    self.lookback = lookback
    self.horizon = horizon
  }

  // MARK: - Fit

  /// Fits the read-out on the training rows of the scaled `series`, choosing the ridge and the input
  /// mode on the validation origins when they are not fixed. Returns notes for the report.
  public mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] {
    guard split.count == series.rows, split.horizon == horizon else {
      preconditionFailure("ESNForecaster.fit: split for \(split.count) rows / horizon \(split.horizon), series has \(series.rows) rows, horizon \(horizon)")
    }
    let c = configuration
    // Only training and validation rows are ever read (never the test rows).
    let seen = split.validation.upperBound
    let known = series.rows(0..<seen)
    let targets = targetMatrix(series: series, rows: seen)

    let trainOrigins = split.trainOrigins
    guard let firstTrain = trainOrigins.first, let lastTrain = trainOrigins.last else {
      throw TimeSeriesError.tooShort("no training windows: \(split.train.count) training rows for lookback \(lookback) + horizon \(horizon)")
    }
    let modes = c.inputMode.map { [$0] } ?? InputMode.allCases
    let lambdas = c.ridge.map { [$0] } ?? ESNForecaster.ridgeGrid

    // Teacher-forced reservoir features for one input mode.
    func features(_ mode: InputMode) throws -> (EchoStateNetwork, DoubleMatrix) {
      let inputs = ESNForecaster.reservoirInputs(known, mode: mode)
      var reservoir = try makeReservoir()
      try reservoir.initialize(inputSize: inputs.columns)
      let esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(), inputToReadout: c.inputToReadout)
      let (states, _) = try esn.reservoir.run(inputs)
      return (esn, esn.readoutFeatures(states: states, inputs: inputs))
    }

    var notes: [String: String] = [:]
    var chosen = (mode: modes[0], ridge: lambdas[0])
    if modes.count > 1 || lambdas.count > 1 {
      // Selection origins: the validation part, or the tail of the training origins (whose
      // targets lie after every target the selection fits use).
      var fitRange = firstTrain...lastTrain
      var selection = split.validationOrigins
      if selection.isEmpty {
        let held = max(1, trainOrigins.count / 5)
        guard trainOrigins.count - held >= 2 else {
          throw TimeSeriesError.tooFewWindowsToSelect(
            windows: trainOrigins.count, parameters: (c.ridge == nil ? ["ridge"] : []) + (c.inputMode == nil ? ["inputMode"] : []))
        }
        fitRange = firstTrain...(lastTrain - held)
        selection = Array(min(lastTrain - held + horizon, lastTrain)...lastTrain)
      }
      var best = (mode: modes[0], ridge: Double.nan, rmse: Double.infinity)
      for mode in modes {
        let (_, x) = try features(mode)
        let system = try Ridge.NormalEquations(features: x, targets: targets, rowOffset: fitRange.lowerBound,
                                               rows: fitRange.count, centered: true)
        for lambda in lambdas {
          var readout = Ridge(ridge: lambda)
          do { try readout.fit(system) } catch { continue }
          // Selection origins are one contiguous run of rows.
          let predictions = readout.predictUnchecked(x, rowOffset: selection[0], rows: selection.count)
          var s = 0.0
          for (r, t) in selection.enumerated() {
            for k in 0..<predictions.columns {
              let d = predictions[r, k] - targets[t, k]
              s += d * d
            }
          }
          let rmse = (s / Double(selection.count * targets.columns)).squareRoot()
          if rmse < best.rmse { best = (mode, lambda, rmse) }
        }
      }
      guard best.rmse.isFinite else {
        throw ReservoirError.singularSystem("no ridge in \(lambdas.first!)…\(lambdas.last!) gave a finite fit; check the data")
      }
      chosen = (best.mode, best.ridge)
      notes["selection"] = "input \(best.mode.rawValue), ridge \(best.ridge): scaled RMSE \(String(format: "%.4g", best.rmse)) on \(selection.count) validation origins"
        + (split.validation.isEmpty ? " (the end of the training part)" : "")
    } else {
      notes["selection"] = "input \(chosen.mode.rawValue), ridge \(chosen.ridge) (given)"
    }

    // Final fit on every origin whose targets are known (training, plus validation when present).
    // The centred Gram matrix is accumulated while the reservoir runs.
    let finalInputs = ESNForecaster.reservoirInputs(known, mode: chosen.mode)
    var reservoir = try makeReservoir()
    try reservoir.initialize(inputSize: finalInputs.columns)
    var esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(), inputToReadout: c.inputToReadout)
    // In a data-parallel run (an MPI launcher started the processes) every process runs the
    // reservoir over the whole series (its states are sequential) but accumulates the Gram matrix
    // and cross products of its own share of the rows only; one all-reduce combines them.
    let lastKnown = seen - 1 - horizon
    let group = try ProcessGroup.world()
    let allRows = firstTrain..<(lastKnown + 1)
    guard allRows.count >= group.size else {
      throw TimeSeriesError.tooShort("\(allRows.count) training windows for \(group.size) processes; use fewer processes or a longer series")
    }
    let part = DataShard(index: group.rank, count: group.size).range(of: allRows.count)
    let rows = (allRows.lowerBound + part.lowerBound)..<(allRows.lowerBound + part.upperBound)
    let run = try reservoir.runWithGram(finalInputs, appendInputs: c.inputToReadout, gramRows: rows)
    let x = run.features
    let finalSystem = try Ridge.NormalEquations(features: x, targets: targets, rowOffset: rows.lowerBound, rows: rows.count,
                                                centeredGram: run.gram, featureMean: run.mean).combined(across: group)
    esn.readout = Ridge(ridge: chosen.ridge)
    try esn.readout.fit(finalSystem)
    network = esn
    ridge = chosen.ridge
    inputMode = chosen.mode
    warmStart = (finalInputs, run.finalState)
    notes["reservoir"] = "\(c.units) units, sr \(c.spectralRadius), lr \(c.leakRate), input scaling \(c.inputScaling), bias \(c.biasScaling), seed \(c.seed)"
    notes["training origins"] = "\(lastKnown - firstTrain + 1)"
    return notes
  }

  private func makeReservoir() throws -> Reservoir {
    let c = configuration
    return try Reservoir(units: c.units, leakRate: c.leakRate, spectralRadius: c.spectralRadius,
                         inputScaling: c.inputScaling, biasScaling: c.biasScaling,
                         inputConnectivity: c.inputConnectivity,
                         recurrentConnectivity: c.recurrentConnectivity, seed: c.seed)
  }

  /// What the reservoir reads at step t: u[t], u[t] - u[t-1] (0 at t = 0), or both side by side.
  static func reservoirInputs(_ series: DoubleMatrix, mode: InputMode) -> DoubleMatrix {
    let f = series.columns
    switch mode {
    case .levels:
      return series
    case .differences, .both:
      var out = DoubleMatrix(rows: series.rows, columns: mode == .both ? 2 * f : f)
      for t in 0..<series.rows {
        for j in 0..<f {
          let d = t == 0 ? 0 : series[t, j] - series[t - 1, j]
          if mode == .both {
            out[t, j] = series[t, j]
            out[t, f + j] = d
          } else {
            out[t, j] = d
          }
        }
      }
      return out
    }
  }

  /// Targets `[rows, horizon · F]`: row t holds u[t+1…t+horizon] (minus u[t] when predicting
  /// differences); rows whose horizon reaches past `rows` are zeros (never used).
  private func targetMatrix(series: DoubleMatrix, rows: Int) -> DoubleMatrix {
    let f = series.columns
    var y = DoubleMatrix(rows: rows, columns: horizon * f)
    for t in 0..<rows where t + horizon < rows {  // never reads beyond `rows` (no test data)
      for h in 1...horizon {
        for j in 0..<f {
          y[t, (h - 1) * f + j] = series[t + h, j] - (configuration.predictDifferences ? series[t, j] : 0)
        }
      }
    }
    return y
  }

  // MARK: - Forecast

  /// Forecasts rows t+1 … t+horizon from each origin t, reading only rows 0 … t (scaled units).
  /// Throws ``ForecastError`` before fitting or when the columns do not match.
  public func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    guard let network else {
      throw ForecastError.invalidArgument("the ESN forecaster is not fitted; fit it or load a checkpoint first")
    }
    guard series.columns * ((inputMode ?? .levels) == .both ? 2 : 1) == network.reservoir.inputSize else {
      throw ForecastError.invalidArgument("the model forecasts \((network.reservoir.inputSize ?? 0) / ((inputMode ?? .levels) == .both ? 2 : 1)) columns, the series has \(series.columns)")
    }
    guard let last = origins.max() else { return ForecastBatch(origins: [], horizon: horizon, features: series.columns, values: []) }
    guard origins.allSatisfy({ $0 >= 0 }), last < series.rows else {
      throw ForecastError.invalidArgument("forecast origins must be rows of the series (0..<\(series.rows))")
    }
    let inputs = ESNForecaster.reservoirInputs(series.rows(0..<(last + 1)), mode: inputMode ?? .levels)
    // Read-out outputs for rows `outputStart...last` (row r of `outputs` is row outputStart + r),
    // computed step by step without keeping the states.
    let w = network.readout.weights!, b = network.readout.bias
    var outputs: DoubleMatrix
    var outputStart = 0
    if let warm = warmStart, let first = origins.min(), first >= warm.inputs.rows - 1, warm.inputs.rows <= inputs.rows,
       inputs.storage.starts(with: warm.inputs.storage) {
      // Continue from the state after the fitted rows instead of re-reading them.
      let seen = warm.inputs.rows
      let row = network.inputToReadout ? warm.state + inputs.row(seen - 1) : warm.state
      outputs = network.readout.predictUnchecked(DoubleMatrix(rows: 1, columns: row.count, storage: row), rowOffset: 0, rows: 1)
      if seen < inputs.rows {
        let tail = try network.reservoir.runReadout(inputs.rows(seen..<inputs.rows), from: warm.state, weights: w, bias: b,
                                                    withInput: network.inputToReadout)
        outputs.append(rowsOf: tail.outputs)
      }
      outputStart = seen - 1
    } else {
      outputs = try network.reservoir.runReadout(inputs, from: network.reservoir.zeroState, weights: w, bias: b,
                                                 withInput: network.inputToReadout).outputs
    }
    let f = series.columns
    var values = [Double]()
    values.reserveCapacity(origins.count * horizon * f)
    for t in origins {
      for h in 0..<horizon {
        for j in 0..<f {
          values.append(outputs[t - outputStart, h * f + j] + (configuration.predictDifferences ? series[t, j] : 0))
        }
      }
    }
    return ForecastBatch(origins: origins, horizon: horizon, features: f, values: values)
  }
}

// MARK: - Checkpoint

extension ESNForecaster {
  private struct Stored: Codable {
    var configuration: Configuration
    var lookback, horizon: Int
    var ridge: Double
    var inputSize: Int
    var inputMode: InputMode
  }

  /// Tensors (all F64 but the CSR index arrays): `esn.reservoir.W.indptr`, `.indices`, `.data`
  /// (W in CSR form, as `scipy.sparse.csr_array((data, indices, indptr))` takes it),
  /// `esn.reservoir.W_in` `[units, F]`, `esn.reservoir.bias` `[units]`, `esn.readout.Wout`
  /// `[features, horizon·F]`, `esn.readout.bias`; metadata `esn.config` (JSON).
  public func store(in file: inout SafeTensorsFile) throws {
    guard let network, let ridge, let w = network.readout.weights, let inputSize = network.reservoir.inputSize else {
      throw ForecastError.invalidArgument("the ESN forecaster is not fitted; fit it before saving a checkpoint")
    }
    let r = network.reservoir
    file["esn.reservoir.W.indptr"] = SafeTensorsFile.Entry(integers: r.recurrent.rowStart.map(Int64.init), shape: [r.units + 1])
    file["esn.reservoir.W.indices"] = SafeTensorsFile.Entry(integers: r.recurrent.columnIndex.map(Int64.init),
                                                            shape: [r.recurrent.nonzeroCount])
    file["esn.reservoir.W.data"] = float64Entry(r.recurrent.values, shape: [r.recurrent.nonzeroCount])
    file["esn.reservoir.W_in"] = float64Entry(r.inputWeights, shape: [r.units, inputSize])
    file["esn.reservoir.bias"] = float64Entry(r.bias, shape: [r.units])
    file["esn.readout.Wout"] = float64Entry(w.storage, shape: [w.rows, w.columns])
    file["esn.readout.bias"] = float64Entry(network.readout.bias, shape: [w.columns])
    try file.setModelSettings(Stored(configuration: configuration, lookback: lookback, horizon: horizon,
                                     ridge: ridge, inputSize: inputSize, inputMode: inputMode ?? .levels), kind: Self.kind)
  }

  /// The fitted forecaster stored by ``store(in:)`` under `esn.`. Throws ``ForecastError`` for a
  /// missing or damaged entry.
  public init(restoringFrom file: SafeTensorsFile, kind: String = ESNForecaster.kind) throws {
    let stored = try file.modelSettings(Stored.self, kind: Self.kind)
    let c = stored.configuration
    let units = c.units, f = stored.inputSize
    guard units >= 1, f >= 1, stored.lookback >= 1, stored.horizon >= 1, stored.inputMode != .both || f % 2 == 0 else {
      throw ForecastError.checkpoint("the checkpoint's esn.config is damaged; re-create it")
    }
    // The sizes in esn.config must be those of the stored tensors before anything is sized from them.
    guard file["esn.reservoir.W.indptr"]?.shape == [units &+ 1], file["esn.reservoir.W_in"]?.shape == [units, f] else {
      throw ForecastError.checkpoint("the checkpoint's esn.config does not match its reservoir tensors; re-create it")
    }
    var outputTally = SizeTally()
    outputTally.add(stored.horizon, stored.inputMode == .both ? f / 2 : f)
    guard let outputCount = outputTally.total, file["esn.readout.bias"]?.shape == [outputCount] else {
      throw ForecastError.checkpoint("the checkpoint's esn.config does not match its read-out tensors; re-create it")
    }
    let indptr = try integerValues(file, "esn.reservoir.W.indptr", count: units + 1)
    let indices = try integerValues(file, "esn.reservoir.W.indices")
    guard indptr.allSatisfy({ $0 >= 0 && $0 <= Int32.max }), indices.allSatisfy({ $0 >= 0 && $0 < units }) else {
      throw ForecastError.checkpoint("the checkpoint's reservoir indices are out of range; re-create it")
    }
    let data = try float64Values(file, "esn.reservoir.W.data", shape: [indices.count])
    let recurrent = try SparseMatrix(rows: units, columns: units, rowStart: indptr.map { Int32($0) },
                                     columnIndex: indices.map { Int32($0) }, values: data)
    let reservoir = try Reservoir(
      units: units, leakRate: c.leakRate, spectralRadius: c.spectralRadius, inputScaling: c.inputScaling,
      biasScaling: c.biasScaling, inputConnectivity: c.inputConnectivity, recurrentConnectivity: c.recurrentConnectivity,
      seed: c.seed, recurrent: recurrent,
      inputWeights: try float64Values(file, "esn.reservoir.W_in", shape: [units, f]),
      bias: try float64Values(file, "esn.reservoir.bias", shape: [units]), inputSize: f)
    let columns = stored.inputMode == .both ? f / 2 : f
    let featureCount = units + (c.inputToReadout ? f : 0), outputs = stored.horizon * columns
    var readout = Ridge(ridge: stored.ridge)
    readout.weights = DoubleMatrix(rows: featureCount, columns: outputs,
                                   storage: try float64Values(file, "esn.readout.Wout", shape: [featureCount, outputs]))
    readout.bias = try float64Values(file, "esn.readout.bias", shape: [outputs])
    configuration = c
    lookback = stored.lookback
    horizon = stored.horizon
    ridge = stored.ridge
    inputMode = stored.inputMode
    network = EchoStateNetwork(reservoir: reservoir, readout: readout, inputToReadout: c.inputToReadout)
  }
}

private func pow10(_ e: Double) -> Double {
  var r = 1.0
  if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
  return r
}
