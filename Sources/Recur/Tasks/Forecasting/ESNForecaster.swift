import Foundation

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

  /// The hyper-parameters.
  public let configuration: Configuration
  /// Rows of warm-up before the first origin.
  public let lookback: Int
  /// Rows forecast from each origin.
  public let horizon: Int
  /// The fitted network (nil before ``fit(series:split:)``).
  public internal(set) var network: EchoStateNetwork?
  /// The ridge in use after fitting.
  public internal(set) var ridge: Double?
  /// The input mode in use after fitting.
  public internal(set) var inputMode: InputMode?
  /// The input noise the read-out was fitted with.
  public internal(set) var inputNoise: Double?
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
  /// The input-noise levels tried when ``Configuration/inputNoise`` is nil: 0, 1e-6, 1e-5, 1e-4, 1e-3.
  public static let noiseGrid: [Double] = [0] + (-6 ... -3).map { pow10(Double($0)) }
  /// The most validation origins a free-run selection runs from.
  public static let freeRunSelectionOrigins = 50

  /// An unfitted forecaster. Throws ``TimeSeriesError`` or ``ReservoirError`` naming the first
  /// invalid parameter (`lookback`, `horizon`, `ridge`, `units`, a reservoir setting).
  public init(configuration: Configuration = Configuration(), lookback: Int, horizon: Int) throws {
    guard lookback >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("lookback", lookback, expected: ">= 1")) }
    guard horizon >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("horizon", horizon, expected: ">= 1")) }
    if let r = configuration.ridge, !(r >= 0 && r.isFinite) {
      throw ReservoirError.invalidParameter(InvalidParameter("ridge", r, expected: "a finite number >= 0"))
    }
    if let n = configuration.inputNoise, !(n >= 0 && n.isFinite) {
      throw ReservoirError.invalidParameter(InvalidParameter("inputNoise", n, expected: "a finite number >= 0"))
    }
    guard configuration.selectionSteps >= 1, configuration.selectionSteps <= 100_000 else {
      throw ReservoirError.invalidParameter(InvalidParameter("selectionSteps", configuration.selectionSteps, expected: "in 1...100000"))
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

  /// Fits the read-out on the training rows of the scaled `series`, choosing the ridge, the input
  /// mode and the input noise on the validation origins when they are not fixed (by the one-step
  /// error, or by the free-run error over ``Configuration/selectionSteps`` steps), then refits on
  /// training and validation rows together (``Configuration/refit``). Returns notes for the report.
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
    guard let firstTrain = trainOrigins.first else {
      throw TimeSeriesError.tooShort("no training windows: \(split.train.count) training rows for lookback \(lookback) + horizon \(horizon)")
    }
    let (chosen, fitRange, selectionNote) = try selectSettings(known: known, targets: targets, split: split)
    var notes = ["selection": selectionNote]

    // Final fit: on every origin whose targets are known (training, plus validation when present),
    // or with `refit` off on the origins the selection fitted. The centred Gram matrix is
    // accumulated while the reservoir runs.
    let finalInputs = noisy(ESNForecaster.reservoirInputs(known, mode: chosen.mode), noise: chosen.noise)
    var reservoir = try makeReservoir()
    try reservoir.initialize(inputSize: finalInputs.columns)
    var esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(), inputToReadout: c.inputToReadout)
    // In a data-parallel run (an MPI launcher started the processes) every process runs the
    // reservoir over the whole series (its states are sequential) but accumulates the Gram matrix
    // and cross products of its own share of the rows only; one all-reduce combines them.
    let lastFitted = c.refit ? seen - 1 - horizon : fitRange.upperBound
    let group = try ProcessGroup.world()
    let allRows = firstTrain..<(lastFitted + 1)
    guard allRows.count >= group.size else {
      throw TimeSeriesError.tooShort("\(allRows.count) training windows for \(group.size) processes; use fewer processes or a longer series")
    }
    let part = DataShard(index: group.rank, count: group.size).range(of: allRows.count)
    let rows = (allRows.lowerBound + part.lowerBound)..<(allRows.lowerBound + part.upperBound)
    let run = try reservoir.runWithGram(finalInputs, appendInputs: c.inputToReadout, gramRows: rows)
    let finalSystem = try Ridge.NormalEquations(features: run.features, targets: targets, rowOffset: rows.lowerBound, rows: rows.count,
                                                centeredGram: run.gram, featureMean: run.mean).combined(across: group)
    esn.readout = Ridge(ridge: chosen.ridge)
    try esn.readout.fit(finalSystem)
    network = esn
    ridge = chosen.ridge
    inputMode = chosen.mode
    inputNoise = chosen.noise
    // A noisy run's final state is not the state of the series: forecasts re-read it instead.
    warmStart = chosen.noise == 0 ? (finalInputs, run.finalState) : nil
    notes["reservoir"] = "\(c.units) units, sr \(c.spectralRadius), lr \(c.leakRate), input scaling \(c.inputScaling), bias \(c.biasScaling), seed \(c.seed)"
    notes["training origins"] = "\(lastFitted - firstTrain + 1)" + (c.refit ? "" : " (no refit on the validation rows)")
    return notes
  }

  /// `inputs` plus Gaussian noise of standard deviation `noise` (drawn from the configuration's
  /// seed, stream 3): Jaeger's regulariser for free-running use. `inputs` itself when `noise` is 0.
  func noisy(_ inputs: DoubleMatrix, noise: Double) -> DoubleMatrix {
    guard noise > 0 else { return inputs }
    var g = Reservoir.generator(seed: configuration.seed, stream: 3)
    var out = inputs
    for t in 0..<out.rows {
      for j in 0..<out.columns { out[t, j] += noise * Reservoir.normal(&g) }
    }
    return out
  }

  func makeReservoir() throws -> Reservoir {
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
  func targetMatrix(series: DoubleMatrix, rows: Int) -> DoubleMatrix {
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

private func pow10(_ e: Double) -> Double {
  var r = 1.0
  if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
  return r
}
