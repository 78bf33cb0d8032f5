import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// The LSTM and GRU forecasters (`RecurrentForecaster`): accuracy against the naive baseline on a
/// synthetic series, checkpoints, determinism and one CLI run.
@Suite("RecurrentForecaster")
struct RecurrentForecasterTests {
  /// A noisy sine of period 20 plus a slow trend: the naive forecast three steps ahead is poor.
  private func series(_ n: Int = 300) -> DoubleMatrix {
    var g = RandomGenerator(seed: 7)
    var values: [Double] = []
    for t in 0..<n {
      let phase: Double = Double(t) * 2 * Double.pi / 20
      let noise: Double = 0.1 * Double(g.nextNormal())
      values.append(5 + 2 * sin(phase) + 0.01 * Double(t) + noise)
    }
    return DoubleMatrix(column: values)
  }

  private func configuration(_ cell: RecurrentCellKind, seed: UInt64 = 1) -> RecurrentForecaster.Configuration {
    var c = RecurrentForecaster.Configuration(cell: cell)
    c.hiddenSize = 16
    c.epochs = 80
    c.patience = 15
    c.learningRate = 1e-2
    c.seed = seed
    return c
  }

  private func split(_ s: DoubleMatrix) throws -> ForecastSplit {
    try ForecastSplit(count: s.rows, lookback: 20, horizon: 3, testFraction: 0.2, validationFraction: 0.15)
  }

  private func evaluate<M: Forecaster>(_ model: inout M) throws -> ForecastEvaluation {
    let s = series()
    return try ForecastEvaluation.run(model: &model, series: s, columnNames: ["x"], split: try split(s),
                                      scaling: .zScore, season: nil)
  }

  @Test func lstmBeatsTheNaiveForecast() throws {
    var model = try RecurrentForecaster(configuration: configuration(.lstm), lookback: 20, horizon: 3)
    #expect(model.kind == "lstm")
    let e = try evaluate(&model)
    #expect(e.modelScores.rmse < 0.6 * e.naiveScores.rmse, "lstm \(e.modelScores.rmse) vs naive \(e.naiveScores.rmse)")
    #expect(model.bestEpoch >= 1 && model.bestEpoch <= model.epochsRun)
  }

  @Test func gruBeatsTheNaiveForecast() throws {
    var model = try RecurrentForecaster(configuration: configuration(.gru), lookback: 20, horizon: 3)
    #expect(model.kind == "gru")
    let e = try evaluate(&model)
    #expect(e.modelScores.rmse < 0.6 * e.naiveScores.rmse, "gru \(e.modelScores.rmse) vs naive \(e.naiveScores.rmse)")
  }

  @Test func checkpointRestoresIdenticalForecasts() throws {
    let s = series()
    let split = try split(s)
    var c = configuration(.gru)
    c.numLayers = 2
    c.epochs = 5
    var model = try RecurrentForecaster(configuration: c, lookback: 20, horizon: 3)
    _ = try model.fit(series: s, split: split)
    let checkpoint = try ForecastCheckpoint(model: model, columns: ["x"], scaler: try Scaler(fitting: s, rows: split.train, method: .zScore, columnNames: ["x"]))
    #expect(checkpoint.file["gru.rnn.weight_ih_l0"] != nil && checkpoint.file["gru.rnn.weight_hh_l1"] != nil)
    #expect(checkpoint.file["gru.head.weight"]?.shape == [3, 16] && checkpoint.file["gru.head.bias"] != nil)
    #expect(checkpoint.file.metadata["gru.config"] != nil)
    let dir = try makeTemporaryDirectory("recur-rnn-forecast")
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("model.safetensors")
    try checkpoint.save(to: url)
    let loaded = try ForecastCheckpoint.load(from: url)
    #expect(loaded.kind == "gru")
    let restored = try loaded.model(as: RecurrentForecaster.self)
    #expect(restored.kind == "gru" && restored.configuration.cell == .gru)
    #expect(restored.configuration == model.configuration)
    let origins = split.testOrigins
    #expect(try restored.forecast(series: s, origins: origins) == model.forecast(series: s, origins: origins))
    // The GRU's weights and settings are not an LSTM's: restoring them as another kind fails.
    #expect(throws: ForecastError.self) { try RecurrentForecaster(restoringFrom: loaded.file, kind: "lstm") }
    #expect(throws: ForecastError.self) { try RecurrentForecaster(restoringFrom: loaded.file, kind: "esn") }
  }

  @Test func trainingIsDeterministicUnderASeed() throws {
    let s = series()
    let split = try split(s)
    var c = configuration(.lstm)
    c.epochs = 6
    c.dropout = 0.2
    func fitted(_ seed: UInt64) throws -> ForecastBatch {
      c.seed = seed
      var m = try RecurrentForecaster(configuration: c, lookback: 20, horizon: 3)
      _ = try m.fit(series: s, split: split)
      return try m.forecast(series: s, origins: split.testOrigins)
    }
    let a = try fitted(3), b = try fitted(3), other = try fitted(4)
    #expect(a == b)
    #expect(a != other)
  }

  @Test func rejectsInvalidSettings() {
    var c = RecurrentForecaster.Configuration(cell: .gru)
    c.dropout = 1
    #expect(throws: TrainingError.invalidSetting(InvalidParameter(name: "dropout", value: "1.0", expected: "in [0, 1)"))) {
      try RecurrentForecaster(configuration: c, lookback: 4, horizon: 1)
    }
    #expect(throws: ForecastError.self) { try RecurrentForecaster(lookback: 0, horizon: 1) }
  }

  @Test func cliForecastsWithAGRUAndPredictsFromItsCheckpoint() throws {
    guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw FixtureError(description: "the test bundle has no Fixtures directory")
    }
    let csv = root.appendingPathComponent("timeseries/airline_passengers.csv").path
    let dir = try makeTemporaryDirectory("recur-forecast-gru")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--csv", csv, "--column", "passengers", "--model", "gru", "--lookback", "12",
                            "--season", "12", "--hidden-size", "16", "--epochs", "100", "--seed", "2",
                            "--out", out.path, "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let metrics = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let scores = try #require(metrics["scores"] as? [String: [String: Any]])
    let gru = try #require(scores["gru"]?["rmse"] as? NSNumber), naive = try #require(scores["naive"]?["rmse"] as? NSNumber)
    #expect(gru.doubleValue < naive.doubleValue, "gru \(gru) vs naive \(naive)")

    let predict = try runRecur(["forecast", "--predict", "--checkpoint", out.appendingPathComponent("model.safetensors").path,
                                "--csv", csv, "--steps", "3", "--json"])
    #expect(predict.status == 0, "stderr: \(predict.stderr)")
    let p = try #require(try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
    #expect(p["model"] as? String == "gru")
    let rows = try #require(p["forecasts"] as? [[String: Any]])
    #expect(rows.count == 3)
    for r in rows { #expect(((r["passengers"] as? NSNumber)?.doubleValue ?? 0) > 300) }

    let bad = try runRecur(["forecast", "--csv", csv, "--column", "passengers", "--model", "lstm", "--dropout", "1.5",
                            "--out", dir.appendingPathComponent("bad").path])
    #expect(bad.status != 0 && bad.stderr.contains("--dropout"), "stderr: \(bad.stderr)")
  }
}
