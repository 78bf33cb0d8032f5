import Foundation

// Choosing an ESN forecaster's unfixed settings (ridge, input mode, input noise) on validation data.
extension ESNForecaster {
  /// Chooses the ridge, the input mode and the input noise that the configuration leaves open,
  /// by the RMSE of the forecasts on the validation origins (the tail of the training origins
  /// when the split has no validation part), or with ``Configuration/selectionSteps`` > 1 by the
  /// RMSE of free runs from them. Reads only `known` (the training and validation rows).
  /// Returns the settings, the origins the candidate read-outs were fitted on, and a note for
  /// the report.
  func selectSettings(known: DoubleMatrix, targets: DoubleMatrix, split: ForecastSplit) throws
    -> (settings: (mode: InputMode, noise: Double, ridge: Double), fitRange: ClosedRange<Int>, note: String)
  {
    let c = configuration
    let trainOrigins = split.trainOrigins
    let firstTrain = trainOrigins.first!, lastTrain = trainOrigins.last!  // fit(series:split:) checked there are some
    let seen = known.rows
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

    var chosen = (mode: modes[0], noise: noises[0], ridge: lambdas[0])
    var note = ""
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
      note = "input \(best.mode.rawValue), noise \(best.noise), ridge \(best.ridge): scaled \(criterion) \(String(format: "%.4g", best.rmse)) on \(selection.count) validation origins"
        + (freeRunSteps == nil ? "" : " (\(best.diverged) diverged)")
        + (split.validation.isEmpty ? " (the end of the training part)" : "")
    } else {
      note = "input \(chosen.mode.rawValue), noise \(chosen.noise), ridge \(chosen.ridge) (given)"
    }
    return (chosen, fitRange, note)
  }
}
