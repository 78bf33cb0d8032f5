import Foundation
import Testing
@testable import Recur

private func fixtureURL(_ path: String) throws -> URL {
  guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
    throw FixtureError(description: "the test bundle has no Fixtures directory")
  }
  return root.appendingPathComponent(path)
}

/// The error's one-line description, or nil if `body` did not throw.
private func errorText(_ body: () throws -> Void) -> String? {
  do {
    try body()
    return nil
  } catch {
    return "\(error)"
  }
}

@Suite("Time-series data")
struct TimeSeriesDataTests {
  // MARK: - CSV

  @Test func parsesSelectedColumnsInRequestedOrder() throws {
    let text = "\u{FEFF}date,a,b,\"note, quoted\"\r\n2001-01,1,10,\"x, y\"\r\n\r\n2001-02, 2 ,20.5,\"he said \"\"hi\"\"\"\r\n2001-03,3e0,-1,z\r\n"
    let table = try TimeSeriesCSV.parse(text, columns: ["b", "a"], source: "t.csv")
    #expect(table.header == ["date", "a", "b", "note, quoted"])
    #expect(table.values == DoubleMatrix(rows: 3, columns: 2, storage: [10, 1, 20.5, 2, -1, 3]))
    #expect(table.otherColumns["date"] == ["2001-01", "2001-02", "2001-03"])
    #expect(table.otherColumns["note, quoted"] == ["x, y", "he said \"hi\"", "z"])
  }

  @Test func missingColumnListsTheColumns() {
    let message = errorText { _ = try TimeSeriesCSV.parse("year,value\n1,2\n", columns: ["values"], source: "s.csv") }
    #expect(message == "column 'values' not found in s.csv; its columns are: year, value")
  }

  @Test func badCellsAreOneLineErrorsWithTheirPlace() {
    let text = "t,x\n1,2\n2,abc\n"
    let m1 = errorText { _ = try TimeSeriesCSV.parse(text, columns: ["x"], source: "d.csv") }
    #expect(m1 == "d.csv line 3, column 'x': 'abc' is not a number; fix or empty the cell")
    for bad in ["NaN", "nan", "inf", "-Infinity"] {
      let m = errorText { _ = try TimeSeriesCSV.parse("t,x\n1,2\n2,\(bad)\n", columns: ["x"], source: "d.csv") }
      #expect(m?.contains("is not a finite number") == true, "\(bad): \(m ?? "no error")")
    }
    let ragged = errorText { _ = try TimeSeriesCSV.parse("t,x\n1,2\n2\n", columns: ["x"], source: "d.csv") }
    #expect(ragged?.contains("line 3 has 1 fields but the header has 2") == true)
    #expect(errorText { _ = try TimeSeriesCSV.parse("t,x\n1,\"2\n", columns: ["x"]) }?.contains("never closed") == true)
    #expect(errorText { _ = try TimeSeriesCSV.parse("", columns: ["x"]) }?.contains("empty") == true)
    #expect(errorText { _ = try TimeSeriesCSV.parse("t,x\n", columns: ["x"]) }?.contains("no data rows") == true)
    for message in [m1, ragged] { #expect(message?.contains("\n") == false) }
  }

  @Test func missingValuesNeedAPolicy() throws {
    let text = "t,x,y\n0,,1\n1,2,2\n2,,3\n3,,4\n4,8,\n5,9,6\n"
    let m = errorText { _ = try TimeSeriesCSV.parse(text, columns: ["x", "y"], source: "m.csv") }
    #expect(m == "m.csv line 2, column 'x' has a missing value; fill the file or choose a missing-value policy (interpolate or drop)")

    let interpolated = try TimeSeriesCSV.parse(text, columns: ["x", "y"], missing: .interpolate)
    #expect(interpolated.values.column(0) == [2, 2, 4, 6, 8, 9])  // leading gap: nearest value; inner: linear
    #expect(interpolated.values.column(1) == [1, 2, 3, 4, 5, 6])
    #expect(interpolated.filledValues == 4)

    let dropped = try TimeSeriesCSV.parse(text, columns: ["x", "y"], missing: .drop)
    #expect(dropped.values == DoubleMatrix(rows: 2, columns: 2, storage: [2, 2, 9, 6]))
    #expect(dropped.droppedRows == 4)
    #expect(dropped.otherColumns["t"] == ["1", "5"])
    // NA-style markers are missing values too.
    let na = try TimeSeriesCSV.parse("t,x\n0,1\n1,NA\n2,3\n", columns: ["x"], missing: .interpolate)
    #expect(na.values.column(0) == [1, 2, 3])
  }

  @Test func readsTheAirlineFixture() throws {
    let table = try TimeSeriesCSV.read(contentsOf: try fixtureURL("timeseries/airline_passengers.csv"), columns: ["passengers"])
    #expect(table.rowCount == 144)
    #expect(table.values[0, 0] == 112)
    #expect(table.values[143, 0] == 432)
    #expect(table.otherColumns["month"]?.first == "1949-01")
    let missing = errorText { _ = try TimeSeriesCSV.read(contentsOf: URL(fileURLWithPath: "/nonexistent/x.csv"), columns: ["a"]) }
    #expect(missing?.hasPrefix("cannot read /nonexistent/x.csv") == true)
  }

  // MARK: - Scaling

  @Test func scalersFitOnTheTrainingRowsOnly() throws {
    let data = DoubleMatrix(rows: 6, columns: 2, storage: [1, 10, 2, 20, 3, 30, 4, 40, 100, -5, 200, 7])
    let z = try Scaler(fitting: data, rows: 0..<4, method: .zScore)
    let scaled = z.transform(data)
    let mean0 = (1.0 + 2 + 3 + 4) / 4, std0 = (1.25 as Double).squareRoot()
    #expect(abs(scaled[0, 0] - (1 - mean0) / std0) < 1e-12)
    #expect(abs(scaled[4, 0] - (100 - mean0) / std0) < 1e-12)  // test rows use the training fit
    let back = z.inverseTransform(scaled)
    #expect(zip(back.storage, data.storage).allSatisfy { abs($0 - $1) < 1e-9 })

    let mm = try Scaler(fitting: data, rows: 0..<4, method: .minMax)
    let s2 = mm.transform(data)
    #expect(s2[0, 0] == -1 && s2[3, 0] == 1 && s2[0, 1] == -1 && s2[3, 1] == 1)
    #expect(abs(mm.inverse(s2[5, 1], column: 1) - 7) < 1e-12)
  }

  @Test func constantTrainingColumnIsAnError() {
    let data = DoubleMatrix(rows: 5, columns: 1, storage: [3, 3, 3, 3, 9])
    for method in Scaler.Method.allCases {
      let m = errorText { _ = try Scaler(fitting: data, rows: 0..<4, method: method, columnNames: ["level"]) }
      #expect(m?.hasPrefix("'level' is constant (3.0) over the 4 training rows (zero variance)") == true, "\(m ?? "no error")")
    }
  }

  // MARK: - Split and windows

  @Test func chronologicalSplitAndOrigins() throws {
    let s = try ForecastSplit(count: 100, lookback: 10, horizon: 3, testFraction: 0.2, validationFraction: 0.1)
    #expect(s.train == 0..<70 && s.validation == 70..<80 && s.test == 80..<100)
    #expect(s.trainOrigins == Array(9...66))  // targets t+1…t+3 inside the training rows
    #expect(s.validationOrigins == Array(69...76))
    #expect(s.testOrigins == Array(79...96))
    for t in s.testOrigins { #expect(s.test.contains(t + 1) && s.test.contains(t + 3)) }

    let short = errorText { _ = try ForecastSplit(count: 20, lookback: 12, horizon: 6, testFraction: 0.2) }
    #expect(short == "the series has 20 rows but lookback 12 + horizon 6 + a test part of 6 rows need 24; use a longer series or a smaller lookback, horizon or testFraction")
    #expect(throws: TimeSeriesError.self) { try ForecastSplit(count: 100, lookback: 0, horizon: 1, testFraction: 0.2) }
    #expect(throws: TimeSeriesError.self) { try ForecastSplit(count: 100, lookback: 5, horizon: 1, testFraction: 1) }
    #expect(throws: TimeSeriesError.self) { try ForecastSplit(count: 100, lookback: 5, horizon: 1, testFraction: 0.5, validationFraction: 0.5) }
  }

  @Test func windowsHoldLookbackInputsAndHorizonTargets() {
    let series = DoubleMatrix(rows: 8, columns: 2, storage: (0..<16).map(Double.init))
    let w = ForecastWindows(series: series, lookback: 3, horizon: 2, origins: [2, 5])
    #expect(w.inputs == [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11])
    #expect(w.targets == [6, 7, 8, 9, 12, 13, 14, 15])
    let end = ForecastWindows(series: series, lookback: 3, horizon: 2, origins: [7])
    #expect(end.targets.isEmpty)
  }

  // MARK: - Metrics

  @Test func metricsAndBaselines() throws {
    let actual = [1.0, 2, 3, 4], predicted = [1.0, 3, 3, 2]
    #expect(ForecastMetrics.rmse(actual: actual, predicted: predicted) == (5.0 / 4).squareRoot())
    #expect(ForecastMetrics.mae(actual: actual, predicted: predicted) == 0.75)
    #expect(abs(ForecastMetrics.nrmse(actual: actual, predicted: predicted) - (1.25 / 1.25).squareRoot()) < 1e-15)
    // In-sample naive MAE of [0, 2, 1, 3] is (2 + 1 + 2) / 3.
    #expect(ForecastMetrics.mase(actual: actual, predicted: predicted, training: [0, 2, 1, 3]) == 0.75 / (5.0 / 3))
    #expect(ForecastMetrics.mase(actual: actual, predicted: predicted, training: [5, 5, 5]) == nil)
    let series = [10.0, 11, 12, 13, 14, 15, 16]
    #expect(ForecastMetrics.naive(series: series, origin: 4, horizon: 3) == [14, 14, 14])
    // Season 3 from origin 4: t+1 = 5 → row 2, t+2 = 6 → row 3, t+3 = 7 → row 4, t+4 = 8 → row 2.
    #expect(ForecastMetrics.seasonalNaive(series: series, origin: 4, horizon: 4, season: 3) == [12, 13, 14, 12])
  }

  // MARK: - ESN forecaster

  @Test func esnForecasterBeatsNaiveOnAirlinePassengers() throws {
    let table = try TimeSeriesCSV.read(contentsOf: try fixtureURL("timeseries/airline_passengers.csv"), columns: ["passengers"])
    let split = try ForecastSplit(count: table.rowCount, lookback: 12, horizon: 1, testFraction: 0.2)
    var model = try ESNForecaster(lookback: 12, horizon: 1)
    let evaluation = try ForecastEvaluation.run(model: &model, series: table.values, columnNames: ["passengers"],
                                                split: split, scaling: .zScore, season: 12)
    print("airline: ESN RMSE \(evaluation.modelScores.rmse), naive \(evaluation.naiveScores.rmse), seasonal naive \(evaluation.seasonalNaiveScores!.rmse)")
    #expect(evaluation.origins.count == 29)
    #expect(evaluation.modelScores.rmse < evaluation.naiveScores.rmse)
    #expect(evaluation.modelScores.mase! < evaluation.naiveScores.mase!)
  }

  @Test func esnForecasterCheckpointRoundTripAndBeyondTheEnd() throws {
    // A noisy two-feature seasonal series.
    var g = RandomGenerator(seed: 9)
    let n = 300
    var storage: [Double] = []
    for t in 0..<n {
      let s = sin(Double(t) * 2 * .pi / 25)
      storage += [10 + 3 * s + 0.1 * (g.nextUniformDouble() - 0.5), 2 * cos(Double(t) * 2 * .pi / 25)]
    }
    let series = DoubleMatrix(rows: n, columns: 2, storage: storage)
    let split = try ForecastSplit(count: n, lookback: 20, horizon: 5, testFraction: 0.2, validationFraction: 0.1)
    var configuration = ESNForecaster.Configuration()
    configuration.units = 80
    var model = try ESNForecaster(configuration: configuration, lookback: 20, horizon: 5)
    let evaluation = try ForecastEvaluation.run(model: &model, series: series, columnNames: ["a", "b"], split: split,
                                                scaling: .minMax, season: 25)
    #expect(evaluation.modelScores.rmse < 0.5 * evaluation.naiveScores.rmse)
    #expect(evaluation.rmseByStep.count == 5)

    let checkpoint = try ForecastCheckpoint(model: model, columns: ["a", "b"], scaler: evaluation.scaler,
                                            settings: ["fill": "error"])
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("recur-esn-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("model.safetensors")
    try checkpoint.save(to: url)
    let loaded = try ForecastCheckpoint.load(from: url)
    #expect(loaded.kind == "esn" && loaded.columns == ["a", "b"] && loaded.scaler == evaluation.scaler)
    #expect(loaded.lookback == 20 && loaded.horizon == 5 && loaded.settings == ["fill": "error"])
    let restored = try loaded.model(as: ESNForecaster.self)
    let scaled = evaluation.scaler.transform(series)
    let origins = [150, 250, 299]
    #expect(try restored.forecast(series: scaled, origins: origins) == (try model.forecast(series: scaled, origins: origins)))
    #expect(restored.network?.readout == model.network?.readout)
    // From the end of the fitted rows on, the fitted model continues from its last state instead
    // of re-reading the series: the forecasts are the same to the bit.
    let late = [239, 260, 299]
    #expect(try restored.forecast(series: scaled, origins: late) == (try model.forecast(series: scaled, origins: late)))

    // Beyond the end: 12 steps = 5 + 5 + 2, feeding forecasts back.
    let beyond = try restored.forecastBeyondEnd(series: scaled, steps: 12)
    #expect(beyond.rows == 12 && beyond.columns == 2)
    let direct = try restored.forecast(series: scaled, origins: [n - 1])
    #expect((0..<5).allSatisfy { beyond[$0, 0] == direct[0, $0, 0] })
    let unscaled = evaluation.scaler.inverseTransform(beyond)
    for k in 0..<12 {
      let truth = 10 + 3 * sin(Double(n + k) * 2 * .pi / 25)
      #expect(abs(unscaled[k, 0] - truth) < 0.5, "step \(k + 1): \(unscaled[k, 0]) vs \(truth)")
    }
    // A damaged or foreign file is a one-line error.
    try Data("not a checkpoint".utf8).write(to: dir.appendingPathComponent("bad.safetensors"))
    let m = errorText { _ = try ForecastCheckpoint.load(from: dir.appendingPathComponent("bad.safetensors")) }
    #expect(m?.hasPrefix("cannot read checkpoint") == true && m?.contains("\n") == false)
  }
}
