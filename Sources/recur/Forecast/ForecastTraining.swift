import Foundation
import Recur

/// The model kinds `recur forecast --model` knows. A new kind plugs in here: parse its flags into a
/// ``Forecaster`` in ``ForecastModels/make(kind:command:lookback:horizon:)`` and restore it in
/// ``ForecastModels/restore(_:)``.
enum ForecastModels {
  static let kinds = ["esn", "lstm", "gru"]

  /// A fresh, unfitted model of `kind` configured from the command's flags.
  static func make(kind: String, command: ForecastCommand) throws -> any Forecaster {
    switch kind {
    case ESNForecaster.kind:
      var c = ESNForecaster.Configuration()
      if let v = command.units { c.units = v }
      if let v = command.spectralRadius { c.spectralRadius = v }
      if let v = command.leakRate { c.leakRate = v }
      if let v = command.inputScaling { c.inputScaling = v }
      if let v = command.biasScaling { c.biasScaling = v }
      if let v = command.inputConnectivity { c.inputConnectivity = v }
      if let v = command.recurrentConnectivity { c.recurrentConnectivity = v }
      c.seed = command.seed
      c.inputToReadout = command.inputToReadout
      if let m = command.inputMode, m != "auto" {
        guard let mode = ESNForecaster.InputMode(rawValue: m) else {
          throw CLIError("--input-mode must be levels, differences, both or auto, got '\(m)'")
        }
        c.inputMode = mode
      }
      if let t = command.readoutTarget {
        guard t == "differences" || t == "levels" else {
          throw CLIError("--readout-target must be differences or levels, got '\(t)'")
        }
        c.predictDifferences = t == "differences"
      }
      if let r = command.ridge, r != "auto" {
        guard let v = Double(r), v >= 0, v.isFinite else {
          throw CLIError("--ridge must be a number >= 0 or auto, got '\(r)'")
        }
        c.ridge = v
      }
      return try ESNForecaster(configuration: c, lookback: command.lookback, horizon: command.horizon)
    case "lstm", "gru":
      var c = RecurrentForecaster.Configuration(cell: kind == "gru" ? .gru : .lstm)
      if let v = command.hiddenSize { c.hiddenSize = v }
      if let v = command.numLayers { c.numLayers = v }
      if let v = command.epochs { c.epochs = v }
      if let v = command.learningRate { c.learningRate = v }
      if let v = command.batchSize { c.batchSize = v }
      if let v = command.patience { c.patience = v }
      if let v = command.dropout { c.dropout = v }
      if let v = command.gradClip { c.gradClip = v }
      c.seed = command.seed
      return try RecurrentForecaster(configuration: c, lookback: command.lookback, horizon: command.horizon)
    default:
      throw CLIError("--model must be one of \(kinds.joined(separator: ", ")), got '\(kind)'")
    }
  }

  /// The model stored in `checkpoint`.
  static func restore(_ checkpoint: ForecastCheckpoint) throws -> any Forecaster {
    switch checkpoint.kind {
    case ESNForecaster.kind: return try checkpoint.model(as: ESNForecaster.self)
    case "lstm", "gru": return try checkpoint.model(as: RecurrentForecaster.self)
    default:
      throw CLIError("the checkpoint holds a '\(checkpoint.kind)' model, which this recur cannot load")
    }
  }

}

/// `recur forecast` without `--predict`: evaluate on the test part and write the outputs.
struct ForecastTraining {
  let command: ForecastCommand

  func run() throws {
    let c = command
    // Everything is checked and computed before the output directory is touched: on any error
    // nothing is written.
    guard (c.csv == nil) != (c.mackeyGlass == nil) else {
      throw CLIError(c.csv == nil ? "--csv is required (the CSV file to forecast), or --mackey-glass STEPS"
                                              : "pass either --csv or --mackey-glass, not both")
    }
    let columnNames = c.mackeyGlass == nil ? c.columnNames : (c.columnNames.isEmpty ? ["x"] : c.columnNames)
    guard !columnNames.isEmpty else { throw CLIError("--column is required (the name of the column to forecast)") }
    if c.mackeyGlass != nil && columnNames != ["x"] {
      throw CLIError("the Mackey-Glass series has one column, x; drop --column or pass --column x")
    }
    guard ForecastModels.kinds.contains(c.model) else {
      throw CLIError("--model must be one of \(ForecastModels.kinds.joined(separator: ", ")), got '\(c.model)'")
    }
    if c.checkpoint != nil || c.steps != nil {
      throw CLIError("--checkpoint and --steps go with --predict")
    }
    let fill = try c.fillPolicy()
    let scaling = try scalingMethod(c.scaling)
    if let s = c.season, s < 1 { throw CLIError("--season must be >= 1, got \(s)") }
    var model = try ForecastModels.make(kind: c.model, command: c)

    let table: TimeSeriesTable
    let source: String
    if let steps = c.mackeyGlass {
      guard steps >= 1 else { throw CLIError("--mackey-glass needs a number of steps >= 1, got \(steps)") }
      table = TimeSeriesTable(columnNames: ["x"], values: DoubleMatrix(column: try Recur.mackeyGlass(count: steps, tau: c.tau)))
      source = "Mackey-Glass, tau \(c.tau)"
    } else {
      let url = URL(fileURLWithPath: c.csv!)
      table = try TimeSeriesCSV.read(contentsOf: url, columns: columnNames, missing: fill)
      source = url.lastPathComponent
    }
    let split = try ForecastSplit(count: table.rowCount, lookback: c.lookback, horizon: c.horizon,
                                  testFraction: c.testFraction, validationFraction: c.validationFraction)
    let time = TimeAxis(table: table)
    let season = c.season ?? time.periodsPerYear
    if let season, season >= split.train.count {
      throw CLIError("--season \(season) is not shorter than the \(split.train.count) training rows; use a smaller season or a longer series")
    }
    let start = Date()
    let evaluation = try evaluate(&model, table: table, split: split, scaling: scaling, season: season)
    let seconds = Date().timeIntervalSince(start)

    let outDir = URL(fileURLWithPath: c.out ?? "forecast-out", isDirectory: true)
    let settings: [String: String] = [
      "source": source, "fill": fill.rawValue, "scaling": scaling.rawValue,
      "test_fraction": "\(c.testFraction)", "validation_fraction": "\(c.validationFraction)",
      "season": season.map(String.init) ?? "none",
    ]
    let checkpoint = try makeCheckpoint(model, columns: columnNames, scaler: evaluation.scaler, settings: settings)
    let report = ForecastReport(source: source, kind: c.model, columns: columnNames, table: table,
                                time: time, evaluation: evaluation, seconds: seconds)
    // Render everything in memory first, then write.
    let csvText = report.forecastsCSV()
    let svg = report.plot()
    let metricsJSON = try report.metricsJSON()

    do {
      try FileManager.default.createDirectory(at: outDir, withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create output directory \(outDir.path): \(error.localizedDescription)")
    }
    try AtomicFile.write(Array(csvText.utf8), to: outDir.appendingPathComponent("forecasts.csv"))
    try svg.write(to: outDir.appendingPathComponent("forecast.svg"))
    try AtomicFile.write(Array(metricsJSON.utf8), to: outDir.appendingPathComponent("metrics.json"))
    try checkpoint.save(to: outDir.appendingPathComponent("model.safetensors"))

    if c.json {
      print(metricsJSON, terminator: "")
    } else {
      print(report.table(outputDirectory: outDir.path))
    }
  }

  private func evaluate(_ model: inout any Forecaster, table: TimeSeriesTable, split: ForecastSplit,
                        scaling: Scaler.Method, season: Int?) throws -> ForecastEvaluation {
    func go<M: Forecaster>(_ m: inout M) throws -> ForecastEvaluation {
      try ForecastEvaluation.run(model: &m, series: table.values, columnNames: table.columnNames, split: split,
                                 scaling: scaling, season: season)
    }
    return try go(&model)
  }

  private func makeCheckpoint(_ model: any Forecaster, columns: [String], scaler: Scaler,
                              settings: [String: String]) throws -> ForecastCheckpoint {
    func go<M: Forecaster>(_ m: M) throws -> ForecastCheckpoint {
      try ForecastCheckpoint(model: m, columns: columns, scaler: scaler, settings: settings)
    }
    return try go(model)
  }
}

func scalingMethod(_ text: String?) throws -> Scaler.Method {
  guard let text else { return .zScore }
  guard let method = Scaler.Method(rawValue: text) else {
    throw CLIError("--scaling must be zscore or minmax, got '\(text)'")
  }
  return method
}
