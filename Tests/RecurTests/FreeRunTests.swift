import Foundation
import Testing
@testable import Recur

/// A windowed forecaster whose forecast is twice the last value: diverges on purpose.
private struct Doubling: Forecaster {
  var kind: String { "doubling" }
  let lookback = 2
  let horizon = 1
  mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String] { [:] }
  func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch {
    ForecastBatch(origins: origins, horizon: 1, features: series.columns,
                  values: origins.flatMap { t in (0..<series.columns).map { 2 * series[t, $0] } })
  }
  func store(in file: inout SafeTensorsFile) throws {}
  init() {}
  init(restoringFrom file: SafeTensorsFile, kind: String) throws {}
}

@Suite("Free-running forecasts")
struct FreeRunTests {
  @Test func plausibleRangeWidensTheTrainingRangeAndRejectsNaN() throws {
    let series = DoubleMatrix(rowArrays: [[0, 5], [1, 5], [0.5, 5], [100, 100]])
    let range = try PlausibleRange(fitting: series, rows: 0..<3)
    #expect(range.lower == [-1, 0] && range.upper == [2, 10])  // width 1; constant column: width max(|5|, 1)
    #expect(range.violation(in: [2, 10][...]) == nil)
    #expect(range.violation(in: [2.01, 0][...]) == 0 && range.violation(in: [0, .nan][...]) == 1)
    let wide = range.withMargin(3)
    #expect(wide.lower == [-3, -10] && wide.upper == [4, 20] && wide.withMargin(1) == range)
    #expect(throws: ForecastError.self) { try PlausibleRange(fitting: series, rows: 0..<3, margin: -1) }
  }

  @Test func aDivergingTrajectoryIsStoppedNeverReturned() throws {
    let series = DoubleMatrix(rowArrays: [[0], [0.5], [1]])
    let range = try PlausibleRange(fitting: series, rows: 0..<3)  // [-1, 2]
    let model = Doubling()
    let run = try model.closedLoop(series: series, origins: [1, 2], steps: 4, range: range)
    // From 0.5: 1, 2, then 4 leaves the range at step 3; from 1: 2, then 4 at step 2.
    #expect(run.divergence[0] == ClosedLoopForecast.Divergence(step: 3, column: 0, value: 4))
    #expect(run.divergence[1] == ClosedLoopForecast.Divergence(step: 2, column: 0, value: 4))
    #expect((0..<4).map { run.forecasts[0, $0, 0] } == [1, 2, 2, 2])  // held at the last plausible value
    #expect((0..<4).map { run.forecasts[1, $0, 0] } == [2, 2, 2, 2])
    #expect(run.divergedCount == 2)
    #expect(throws: ForecastError.diverged(step: 2, column: 0, value: 4, lower: -1, upper: 2)) {
      try model.forecastBeyondEnd(series: series, steps: 5, range: range)
    }
    #expect(try model.forecastBeyondEnd(series: series, steps: 1, range: range) == DoubleMatrix(rowArrays: [[2]]))
  }

  /// The ESN's closed loop is the echo-state network's own generation, continued from the
  /// teacher-forced state at each origin.
  @Test func esnClosedLoopMatchesEchoStateNetworkGeneration() throws {
    let n = 600
    let values = try mackeyGlass(count: n, tau: 17)
    let scaler = try Scaler(fitting: DoubleMatrix(column: values), rows: 0..<400, method: .zScore, columnNames: ["x"])
    let series = scaler.transform(DoubleMatrix(column: values))
    var c = ESNForecaster.Configuration()
    c.units = 80
    c.ridge = 1e-6
    c.inputMode = .levels
    c.predictDifferences = false
    c.seed = 3
    var model = try ESNForecaster(configuration: c, lookback: 20, horizon: 1)
    let split = try ForecastSplit(count: n, lookback: 20, horizon: 1, testFraction: 0.3)
    _ = try model.fit(series: series, split: split)
    let network = try #require(model.network)
    let range = try PlausibleRange(fitting: series, rows: split.train)
    let origins = [450, 420, 500]
    let run = try model.closedLoop(series: series, origins: origins, steps: 30, range: range)
    #expect(run.divergedCount == 0)
    for (i, t) in origins.enumerated() {
      let state = try network.predict(inputs: series.rows(0..<(t + 1))).finalState
      let generated = try network.generate(steps: 30, from: state, lastInput: series.row(t)).outputs
      for s in 0..<30 {
        #expect(abs(run.forecasts[i, s, 0] - generated[s, 0]) <= 1e-9 * max(1, abs(generated[s, 0])),
                "origin \(t) step \(s + 1): \(run.forecasts[i, s, 0]) vs \(generated[s, 0])")
      }
    }
    // Beyond the end is the closed loop from the last row; its first step is the one-step forecast.
    let beyond = try model.forecastBeyondEnd(series: series.rows(0..<451), steps: 30, range: range)
    #expect((0..<30).allSatisfy { abs(beyond[$0, 0] - run.forecasts[0, $0, 0]) <= 1e-9 * max(1, abs(beyond[$0, 0])) })
    #expect(abs(run.forecasts[0, 0, 0] - (try model.forecast(series: series, origins: [450]))[0, 0, 0]) < 1e-9)
  }

  /// Windowed models run every origin in one batch: the same as feeding each origin's forecasts
  /// back one call at a time.
  @Test func windowedClosedLoopMatchesStepwiseFeedback() throws {
    let n = 160
    let series = DoubleMatrix(column: (0..<n).map { sin(Double($0) / 4) + 0.1 * cos(Double($0) / 1.7) })
    var c = RecurrentForecaster.Configuration(cell: .gru)
    c.hiddenSize = 6
    c.epochs = 2
    var model = try RecurrentForecaster(configuration: c, lookback: 8, horizon: 2)
    let split = try ForecastSplit(count: n, lookback: 8, horizon: 2, testFraction: 0.25)
    _ = try model.fit(series: series, split: split)
    let range = try PlausibleRange(fitting: series, rows: split.train, margin: 100)
    let origins = [130, 119, 150]
    let run = try model.closedLoop(series: series, origins: origins, steps: 5, range: range)
    for (i, t) in origins.enumerated() {
      var history = series.rows(0..<(t + 1))
      var expected = [Double]()
      while expected.count < 5 {
        let batch = try model.forecast(series: history, origins: [history.rows - 1])
        for h in 0..<2 where expected.count < 5 {
          expected.append(batch[0, h, 0])
          history.append(row: [batch[0, h, 0]])
        }
      }
      for s in 0..<5 {
        #expect(abs(run.forecasts[i, s, 0] - expected[s]) <= 1e-5, "origin \(t) step \(s + 1): \(run.forecasts[i, s, 0]) vs \(expected[s])")
      }
    }
  }

  @Test func freeRunEvaluationScoresEveryStepFromStridedTestOrigins() throws {
    let n = 1200
    let values = try mackeyGlass(count: n, tau: 17)
    let series = DoubleMatrix(column: values)
    var c = ESNForecaster.Configuration()
    c.units = 100
    c.inputMode = .levels
    c.inputScaling = 0.5
    c.predictDifferences = false
    c.selectionSteps = 90
    c.seed = 1
    var model = try ESNForecaster(configuration: c, lookback: 50, horizon: 1)
    let split = try ForecastSplit(count: n, lookback: 50, horizon: 1, testFraction: 0.4, validationFraction: 0.15)
    let evaluation = try ForecastEvaluation.run(model: &model, series: series, columnNames: ["x"], split: split,
                                                scaling: .zScore, season: nil)
    #expect(evaluation.notes["selection"]?.contains("free-run RMSE over 90 steps") == true)
    #expect(model.inputNoise != nil && ESNForecaster.noiseGrid.contains(model.inputNoise!))
    let free = try FreeRunEvaluation.run(model: model, series: series, scaler: evaluation.scaler, split: split, steps: 90, stride: 7)
    #expect(free.origins.first == split.test.lowerBound - 1 && free.origins.last! + 90 <= n - 1)
    #expect(zip(free.origins, free.origins.dropFirst()).allSatisfy { $1 - $0 == 7 })
    #expect(free.nrmseByStep.count == 90 && free.nrmse84 == free.nrmseByStep[83])
    // Step 1 of the free run is the teacher-forced one-step forecast.
    let oneStep = try model.forecast(series: evaluation.scaler.transform(series), origins: free.origins).unscaled(by: evaluation.scaler)
    let actual = free.origins.map { values[$0 + 1] }
    let expected = ForecastMetrics.nrmse(actual: actual, predicted: free.origins.indices.map { oneStep[$0, 0, 0] })
    #expect(abs(free.nrmseByStep[0] - expected) <= 1e-9 * expected)
    #expect(free.divergedCount == 0 && free.nrmseByStep[0] < free.nrmseByStep[89] && free.nrmseByStep[89] < 0.5,
            "diverged \(free.divergedCount), NRMSE at 1: \(free.nrmseByStep[0]), at 90: \(free.nrmseByStep[89]); \(evaluation.notes)")
    #expect(try FreeRunEvaluation.run(model: model, series: series, scaler: evaluation.scaler, split: split, steps: 40).nrmse84 == nil)
    for steps in [480, 500] {  // one origin (no spread to divide by), none
      #expect(throws: TimeSeriesError.self) {
        try FreeRunEvaluation.run(model: model, series: series, scaler: evaluation.scaler, split: split, steps: steps)
      }
    }
  }

  @Test func refitAndNoiseAreRecordedInTheCheckpoint() throws {
    let n = 700
    let series = DoubleMatrix(column: try mackeyGlass(count: n, tau: 17).map { ($0 - 0.9) * 4 })
    var c = ESNForecaster.Configuration()
    c.units = 50
    c.inputMode = .levels
    c.inputNoise = 1e-4
    c.refit = false
    var model = try ESNForecaster(configuration: c, lookback: 20, horizon: 1)
    let split = try ForecastSplit(count: n, lookback: 20, horizon: 1, testFraction: 0.2, validationFraction: 0.2)
    let notes = try model.fit(series: series, split: split)
    #expect(notes["training origins"]?.contains("no refit") == true)
    var refitted = try ESNForecaster(configuration: { var r = c; r.refit = true; return r }(), lookback: 20, horizon: 1)
    _ = try refitted.fit(series: series, split: split)
    #expect(refitted.network?.readout != model.network?.readout)
    var file = SafeTensorsFile()
    try model.store(in: &file)
    let restored = try ESNForecaster(restoringFrom: file)
    #expect(restored.configuration == c && restored.inputNoise == 1e-4)
    #expect(try restored.forecast(series: series, origins: [600]) == (try model.forecast(series: series, origins: [600])))
    // A configuration written before noise, selection steps and refit existed reads as it was fitted.
    let old = #"{"units":5,"leakRate":0.3,"spectralRadius":0.9,"inputScaling":1,"biasScaling":0.5,"inputConnectivity":1,"recurrentConnectivity":0.1,"seed":0,"inputToReadout":true,"predictDifferences":true}"#
    let decoded = try JSONDecoder().decode(ESNForecaster.Configuration.self, from: Data(old.utf8))
    #expect(decoded.inputNoise == 0 && decoded.selectionSteps == 1 && decoded.refit && decoded.ridge == nil)
    var auto = c
    auto.inputNoise = nil
    let roundTrip = try JSONDecoder().decode(ESNForecaster.Configuration.self, from: JSONEncoder().encode(auto))
    #expect(roundTrip == auto)
  }
}
