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
    /// Standard deviation of the Gaussian noise added to the teacher-forced reservoir inputs (and
    /// the inputs the read-out sees) while fitting, in scaled units: Jaeger's regulariser, which
    /// makes the read-out robust to its own errors once its forecasts are fed back. 0: none;
    /// nil: chosen on validation data from ``ESNForecaster/noiseGrid``.
    public var inputNoise: Double? = 0
    /// How the unfixed settings (ridge, input mode, noise) are chosen: 1 (default) by the RMSE of
    /// the `horizon`-step forecasts on the validation origins; k > 1 by the RMSE of k-step free runs
    /// from (at most 50 of) them, the model's forecasts fed back — for free-running use.
    public var selectionSteps = 1
    /// Whether the read-out is refitted on training and validation rows once the settings are
    /// chosen (default), or kept as fitted on the training rows.
    public var refit = true

    /// The defaults above: 300 units, leak rate 0.3, spectral radius 0.9, ridge and input mode chosen on validation data.
    public init() {}

    private enum CodingKeys: String, CodingKey {
      case units, leakRate, spectralRadius, inputScaling, biasScaling, inputConnectivity, recurrentConnectivity, seed, ridge
      case inputToReadout, predictDifferences, inputMode, inputNoise, selectionSteps, refit
    }

    /// Decodes a stored configuration; settings added later (noise, selection steps, refit) take
    /// the values older checkpoints were fitted with when absent.
    public init(from decoder: Decoder) throws {
      let k = try decoder.container(keyedBy: CodingKeys.self)
      units = try k.decode(Int.self, forKey: .units)
      leakRate = try k.decode(Double.self, forKey: .leakRate)
      spectralRadius = try k.decode(Double.self, forKey: .spectralRadius)
      inputScaling = try k.decode(Double.self, forKey: .inputScaling)
      biasScaling = try k.decode(Double.self, forKey: .biasScaling)
      inputConnectivity = try k.decode(Double.self, forKey: .inputConnectivity)
      recurrentConnectivity = try k.decode(Double.self, forKey: .recurrentConnectivity)
      seed = try k.decode(UInt64.self, forKey: .seed)
      ridge = try k.decodeIfPresent(Double.self, forKey: .ridge)
      inputToReadout = try k.decode(Bool.self, forKey: .inputToReadout)
      predictDifferences = try k.decode(Bool.self, forKey: .predictDifferences)
      inputMode = try k.decodeIfPresent(InputMode.self, forKey: .inputMode)
      inputNoise = k.contains(.inputNoise) ? try k.decodeIfPresent(Double.self, forKey: .inputNoise) : 0
      selectionSteps = try k.decodeIfPresent(Int.self, forKey: .selectionSteps) ?? 1
      refit = try k.decodeIfPresent(Bool.self, forKey: .refit) ?? true
    }

    /// Encodes every setting; an unset input noise (chosen on validation data) as null.
    public func encode(to encoder: Encoder) throws {
      var k = encoder.container(keyedBy: CodingKeys.self)
      try k.encode(units, forKey: .units)
      try k.encode(leakRate, forKey: .leakRate)
      try k.encode(spectralRadius, forKey: .spectralRadius)
      try k.encode(inputScaling, forKey: .inputScaling)
      try k.encode(biasScaling, forKey: .biasScaling)
      try k.encode(inputConnectivity, forKey: .inputConnectivity)
      try k.encode(recurrentConnectivity, forKey: .recurrentConnectivity)
      try k.encode(seed, forKey: .seed)
      try k.encodeIfPresent(ridge, forKey: .ridge)
      try k.encode(inputToReadout, forKey: .inputToReadout)
      try k.encode(predictDifferences, forKey: .predictDifferences)
      try k.encodeIfPresent(inputMode, forKey: .inputMode)
      try k.encode(inputNoise, forKey: .inputNoise)
      try k.encode(selectionSteps, forKey: .selectionSteps)
      try k.encode(refit, forKey: .refit)
    }
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
  /// The input noise the read-out was fitted with.
  public private(set) var inputNoise: Double?
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
    guard let firstTrain = trainOrigins.first, let lastTrain = trainOrigins.last else {
      throw TimeSeriesError.tooShort("no training windows: \(split.train.count) training rows for lookback \(lookback) + horizon \(horizon)")
    }
    let modes = c.inputMode.map { [$0] } ?? InputMode.allCases
    let lambdas = c.ridge.map { [$0] } ?? ESNForecaster.ridgeGrid
    let noises = c.inputNoise.map { [$0] } ?? ESNForecaster.noiseGrid
    let freeRunSteps = c.selectionSteps > 1 ? c.selectionSteps : nil

    // Teacher-forced read-out features for one input mode and noise level.
    func features(_ mode: InputMode, noise: Double) throws -> DoubleMatrix {
      let inputs = noisy(ESNForecaster.reservoirInputs(known, mode: mode), noise: noise)
      var reservoir = try makeReservoir()
      try reservoir.initialize(inputSize: inputs.columns)
      let esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(), inputToReadout: c.inputToReadout)
      return esn.readoutFeatures(states: try esn.reservoir.run(inputs).states, inputs: inputs)
    }

    var notes: [String: String] = [:]
    var chosen = (mode: modes[0], noise: noises[0], ridge: lambdas[0])
    var fitRange = firstTrain...lastTrain
    if modes.count > 1 || lambdas.count > 1 || noises.count > 1 {
      // Selection origins: the validation part, or the tail of the training origins (whose
      // targets lie after every target the selection fits use).
      var selection = split.validationOrigins
      let unfixed = (c.ridge == nil ? ["ridge"] : []) + (c.inputMode == nil ? ["inputMode"] : []) + (c.inputNoise == nil ? ["inputNoise"] : [])
      if selection.isEmpty {
        let held = max(1, trainOrigins.count / 5, (freeRunSteps ?? 0) + horizon + 1)
        guard trainOrigins.count - held >= 2 else {
          throw TimeSeriesError.tooFewWindowsToSelect(windows: trainOrigins.count, parameters: unfixed)
        }
        fitRange = firstTrain...(lastTrain - held)
        selection = Array(min(lastTrain - held + horizon, lastTrain)...lastTrain)
      }
      if let k = freeRunSteps {
        // Free-run selection: origins whose k following rows are known, at most 50 of them, evenly spaced.
        let usable = selection.filter { $0 + k <= seen - 1 }
        guard !usable.isEmpty else {
          throw TimeSeriesError.tooShort("no validation origin has \(k) known rows after it to choose \(unfixed.joined(separator: " and ")) by the free-run error; use fewer selection steps or a longer validation part")
        }
        let step = (usable.count + ESNForecaster.freeRunSelectionOrigins - 1) / ESNForecaster.freeRunSelectionOrigins
        selection = Swift.stride(from: 0, to: usable.count, by: step).map { usable[$0] }
      }
      let range = try PlausibleRange(fitting: known, rows: split.train)
      var best = (mode: modes[0], noise: noises[0], ridge: Double.nan, diverged: Int.max, rmse: Double.infinity)
      for mode in modes {
        var reservoir = try makeReservoir()
        let cleanInputs = ESNForecaster.reservoirInputs(known, mode: mode)
        try reservoir.initialize(inputSize: cleanInputs.columns)
        let originStates = try freeRunSteps == nil ? [] : ESNForecaster.states(of: reservoir, inputs: cleanInputs, at: selection)
        for noise in noises {
          let x = try features(mode, noise: noise)
          let system = try Ridge.NormalEquations(features: x, targets: targets, rowOffset: fitRange.lowerBound,
                                                 rows: fitRange.count, centered: true)
          for lambda in lambdas {
            var readout = Ridge(ridge: lambda)
            do { try readout.fit(system) } catch { continue }
            var score = (diverged: 0, rmse: 0.0)
            if let k = freeRunSteps {
              var candidate = self
              candidate.network = EchoStateNetwork(reservoir: reservoir, readout: readout, inputToReadout: c.inputToReadout)
              candidate.inputMode = mode
              let run = try candidate.closedLoop(series: known, origins: selection, states: originStates, steps: k, range: range)
              var s = 0.0
              for (i, t) in selection.enumerated() {
                for h in 0..<k { for j in 0..<known.columns { let d = run.forecasts[i, h, j] - known[t + 1 + h, j]; s += d * d } }
              }
              score = (run.divergedCount, (s / Double(selection.count * k * known.columns)).squareRoot())
            } else {
              // Selection origins are one contiguous run of rows.
              let predictions = readout.predictUnchecked(x, rowOffset: selection[0], rows: selection.count)
              var s = 0.0
              for (r, t) in selection.enumerated() {
                for k in 0..<predictions.columns { let d = predictions[r, k] - targets[t, k]; s += d * d }
              }
              score.rmse = (s / Double(selection.count * targets.columns)).squareRoot()
            }
            guard score.rmse.isFinite else { continue }
            if (score.diverged, score.rmse) < (best.diverged, best.rmse) { best = (mode, noise, lambda, score.diverged, score.rmse) }
          }
        }
      }
      guard best.rmse.isFinite else {
        throw ReservoirError.singularSystem("no ridge in \(lambdas.first!)…\(lambdas.last!) gave a finite fit; check the data")
      }
      chosen = (best.mode, best.noise, best.ridge)
      let criterion = freeRunSteps.map { "free-run RMSE over \($0) steps" } ?? "RMSE"
      notes["selection"] = "input \(best.mode.rawValue), noise \(best.noise), ridge \(best.ridge): scaled \(criterion) \(String(format: "%.4g", best.rmse)) on \(selection.count) validation origins"
        + (freeRunSteps == nil ? "" : " (\(best.diverged) diverged)")
        + (split.validation.isEmpty ? " (the end of the training part)" : "")
    } else {
      notes["selection"] = "input \(chosen.mode.rawValue), noise \(chosen.noise), ridge \(chosen.ridge) (given)"
    }

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
  private func noisy(_ inputs: DoubleMatrix, noise: Double) -> DoubleMatrix {
    guard noise > 0 else { return inputs }
    var g = Reservoir.generator(seed: configuration.seed, stream: 3)
    var out = inputs
    for t in 0..<out.rows {
      for j in 0..<out.columns { out[t, j] += noise * Reservoir.normal(&g) }
    }
    return out
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

  // MARK: - Closed loop

  /// Free-running forecasts from each origin t: the reservoir reads the observed rows 0 … t
  /// (teacher-forced, one pass for all origins), then its own forecasts — `horizon` rows per read-out,
  /// each fed back through the reservoir before the next read-out. The first `horizon` rows are
  /// ``forecast(series:origins:)``'s, to the bit. Trajectories run in parallel on
  /// ``Kernels/numThreads`` threads (each is independent: the result does not depend on the count).
  public func closedLoop(series: DoubleMatrix, origins: [Int], steps: Int, range: PlausibleRange) throws -> ClosedLoopForecast {
    guard let network else {
      throw ForecastError.invalidArgument("the ESN forecaster is not fitted; fit it or load a checkpoint first")
    }
    let mode = inputMode ?? .levels
    guard series.columns * (mode == .both ? 2 : 1) == network.reservoir.inputSize else {
      throw ForecastError.invalidArgument("the model forecasts \((network.reservoir.inputSize ?? 0) / (mode == .both ? 2 : 1)) columns, the series has \(series.columns)")
    }
    try ClosedLoopForecast.check(series: series, origins: origins, steps: steps, range: range, lookback: 1)
    guard let last = origins.max() else { return ClosedLoopForecast(origins: [], steps: steps, series: series) }
    let inputs = ESNForecaster.reservoirInputs(series.rows(0..<(last + 1)), mode: mode)
    // The first read-out of each trajectory is the teacher-forced forecast, to the bit.
    let direct = try forecast(series: series, origins: origins)
    return try closedLoop(series: series, origins: origins, states: ESNForecaster.states(of: network.reservoir, inputs: inputs, at: origins),
                          steps: steps, range: range, first: direct)
  }

  /// The teacher-forced reservoir state after reading row t of `inputs`, for each origin t (one pass).
  static func states(of reservoir: Reservoir, inputs: DoubleMatrix, at origins: [Int]) throws -> [[Double]] {
    var originStates = [[Double]](repeating: [], count: origins.count)
    var x = reservoir.zeroState, next = 0
    for i in origins.indices.sorted(by: { origins[$0] < origins[$1] }) {
      let t = origins[i]
      if t >= next {
        x = try reservoir.run(inputs.rows(next..<(t + 1)), from: x).finalState
        next = t + 1
      }
      originStates[i] = x
    }
    return originStates
  }

  /// Closed-loop runs from origins whose teacher-forced states are given (checked arguments).
  /// `first`, when given, holds each origin's first `horizon` rows (the teacher-forced forecast).
  private func closedLoop(series: DoubleMatrix, origins: [Int], states originStates: [[Double]], steps: Int,
                          range: PlausibleRange, first: ForecastBatch? = nil) throws -> ClosedLoopForecast {
    let network = network!, mode = inputMode ?? .levels
    var result = ClosedLoopForecast(origins: origins, steps: steps, series: series)
    guard !origins.isEmpty else { return result }
    let inputs = ESNForecaster.reservoirInputs(series.rows(0..<(origins.max()! + 1)), mode: mode)
    let f = series.columns
    let trajectories = UnsafeMutableBufferPointer<ClosedLoopForecast>.allocate(capacity: origins.count)
    defer { trajectories.deallocate() }
    let chunks = max(1, min(Kernels.numThreads, origins.count))
    let box = UncheckedSendable(trajectories)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      for i in stride(from: c, to: origins.count, by: chunks) {
        let t = origins[i]
        (box.value.baseAddress! + i).initialize(to: trajectory(
          network: network, mode: mode, series: series, origin: t, state: originStates[i], input: inputs.row(t), steps: steps, range: range,
          first: first.map { b in Array(b.values[(i * horizon * f)..<((i + 1) * horizon * f)]) }))
      }
    }
    for i in origins.indices {
      let one = trajectories[i]
      for s in 0..<steps { for j in 0..<f { result.forecasts[i, s, j] = one.forecasts[0, s, j] } }
      result.divergence[i] = one.divergence[0]
    }
    trajectories.baseAddress!.deinitialize(count: origins.count)
    return result
  }

  /// One free-running trajectory from origin `t`, whose teacher-forced state is `state` after the
  /// reservoir input `input`.
  private func trajectory(network: EchoStateNetwork, mode: InputMode, series: DoubleMatrix, origin t: Int,
                          state: [Double], input: [Double], steps: Int, range: PlausibleRange, first: [Double]?) -> ClosedLoopForecast {
    let f = series.columns
    var one = ClosedLoopForecast(origins: [t], steps: steps, series: series)
    var x = state, u = input, previous = series.row(t)
    var work = [Double](repeating: 0, count: network.reservoir.units)
    var produced = 0
    while produced < steps {
      let given = produced == 0 ? first : nil
      let out = given ?? network.readout.predictOne(network.inputToReadout ? x + u : x)
      let base = previous
      for h in 0..<min(horizon, steps - produced) {
        var row = Array(out[(h * f)..<((h + 1) * f)])
        if configuration.predictDifferences && given == nil { for j in 0..<f { row[j] += base[j] } }
        guard one.record(row, origin: 0, step: produced + h, range: range) else { return one }
        switch mode {
        case .levels: u = row
        case .differences: u = (0..<f).map { row[$0] - previous[$0] }
        case .both: u = row + (0..<f).map { row[$0] - previous[$0] }
        }
        x = network.reservoir.step(u, from: x, work: &work)
        previous = row
      }
      produced += min(horizon, steps - produced)
    }
    return one
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
    var inputNoise: Double?
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
                                     ridge: ridge, inputSize: inputSize, inputMode: inputMode ?? .levels,
                                     inputNoise: inputNoise), kind: Self.kind)
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
    inputNoise = stored.inputNoise
    network = EchoStateNetwork(reservoir: reservoir, readout: readout, inputToReadout: c.inputToReadout)
  }
}

private func pow10(_ e: Double) -> Double {
  var r = 1.0
  if e >= 0 { for _ in 0..<Int(e) { r *= 10 } } else { for _ in 0..<Int(-e) { r /= 10 } }
  return r
}

/// A buffer handed to concurrent workers that each write their own elements.
private struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
