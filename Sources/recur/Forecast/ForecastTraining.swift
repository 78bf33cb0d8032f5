import Foundation
import Recur

/// The model kinds `recur forecast --model` knows. A new kind plugs in here: its flags in an option
/// group of its own (like ``ESNOptions``), made into a ``Forecaster`` in
/// ``ForecastModels/make(kind:command:)`` and restored in ``ForecastModels/restore(_:)``.
enum ForecastModels {
  static let kinds = ["esn", "lstm", "gru"]

  /// A fresh, unfitted model of `kind` configured from the command's flags.
  static func make(kind: String, command: ForecastCommand) throws -> any Forecaster {
    switch kind {
    case ESNForecaster.kind:
      return try ESNForecaster(configuration: command.esn.configuration(seed: command.seed, freeRun: command.freeRun), lookback: command.lookback, horizon: command.horizon)
    case "lstm", "gru":
      let c = try command.recurrent.configuration(cell: kind == "gru" ? .gru : .lstm, seed: command.seed)
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

  /// The most steps `--free-run` forecasts from each origin.
  static let maximumFreeRunSteps = 100_000

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
    if let n = c.freeRun { try requireAtMost(n, ForecastTraining.maximumFreeRunSteps, flag: "--free-run", why: "forecasts fed back from every test origin") }
    try requirePositive(c.freeRunStride, flag: "--free-run-stride")
    let margin = try c.plausibleMargin()
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
    if let n = c.freeRun {
      let origins = FreeRunEvaluation.origins(split: split, steps: n, stride: c.freeRunStride).count
      guard origins >= 2 else {
        throw CLIError("the test part has \(split.test.count) rows, too few for a free run of \(n) steps from 2 origins (the NRMSE needs 2); use a smaller --free-run or --free-run-stride, or a larger --test-fraction")
      }
      guard origins * n <= FreeRunEvaluation.maximumValues / table.columnNames.count else {
        throw CLIError("a free run of \(n) steps from \(origins) test origins holds more than \(FreeRunEvaluation.maximumValues) values; use a larger --free-run-stride or a smaller --free-run")
      }
    }
    let time = TimeAxis(table: table)
    let season = c.season ?? time.periodsPerYear
    if let season, season >= split.train.count {
      throw CLIError("--season \(season) is not shorter than the \(split.train.count) training rows; use a smaller season or a longer series")
    }
    let start = Date()
    let evaluation = try evaluate(&model, table: table, split: split, scaling: scaling, season: season)
    let seconds = Date().timeIntervalSince(start)
    let freeRun = try c.freeRun.map { steps in
      try runFree(model, table: table, evaluation: evaluation, steps: steps, stride: c.freeRunStride, margin: margin)
    }
    let range = try PlausibleRange(fitting: evaluation.scaler.transform(table.values), rows: 0..<split.validation.upperBound, margin: margin)

    let settings: [String: String] = [
      "source": source, "fill": fill.rawValue, "scaling": scaling.rawValue,
      "test_fraction": "\(c.testFraction)", "validation_fraction": "\(c.validationFraction)",
      "season": season.map(String.init) ?? "none",
    ]
    let checkpoint = try makeCheckpoint(model, columns: columnNames, scaler: evaluation.scaler, settings: settings, range: range)
    let report = ForecastReport(subject: ForecastSubject(source: source, model: c.model, columns: columnNames), table: table,
                                time: time, evaluation: evaluation, freeRun: freeRun, seconds: seconds)
    // Render everything in memory first, then write.
    let csvText = report.forecastsCSV()
    let svg = report.plot()
    let metricsJSON = try report.metricsJSON()

    // In a data-parallel run (an MPI launcher) every process fits the same model; the first alone
    // writes the report and the files.
    guard try ProcessGroup.world().isRoot else { return }
    // The four files are written as one set: all of them or, on any failure, none.
    let outDir = try ForecastOutputDirectory(creating: c.out ?? "forecast-out")
    var files = AtomicFileSet()
    try files.add(Array(csvText.utf8), to: outDir.file("forecasts.csv"))
    try files.add(Array(svg.render().utf8), to: outDir.file("forecast.svg"))
    try files.add(Array(metricsJSON.utf8), to: outDir.file("metrics.json"))
    if let plot = report.freeRunPlot() { try files.add(Array(plot.render().utf8), to: outDir.file("free-run.svg")) }
    try checkpoint.add(to: &files, at: outDir.file("model.safetensors"))

    // The report goes out first: should standard output fail (a full disk), no file appears.
    StandardStream.output.write(c.json ? metricsJSON : report.table(outputDirectory: outDir.url.path) + "\n")
    StandardStream.output.flush()
    guard !StandardStream.output.hasFailed else {
      files.discard()
      StandardStream.output.discardFailure()
      throw CLIError("cannot write the report to standard output (\(String(cString: strerror(errno)))); no file was written")
    }
    try files.commit()
  }

  private func evaluate(_ model: inout any Forecaster, table: TimeSeriesTable, split: ForecastSplit,
                        scaling: Scaler.Method, season: Int?) throws -> ForecastEvaluation {
    func go<M: Forecaster>(_ m: inout M) throws -> ForecastEvaluation {
      try ForecastEvaluation.run(model: &m, series: table.values, columnNames: table.columnNames, split: split,
                                 scaling: scaling, season: season)
    }
    return try go(&model)
  }

  private func runFree(_ model: any Forecaster, table: TimeSeriesTable, evaluation: ForecastEvaluation, steps: Int, stride: Int,
                       margin: Double) throws -> FreeRunEvaluation {
    func go<M: Forecaster>(_ m: M) throws -> FreeRunEvaluation {
      try FreeRunEvaluation.run(model: m, series: table.values, scaler: evaluation.scaler, split: evaluation.split, steps: steps,
                                stride: stride, margin: margin)
    }
    return try go(model)
  }

  private func makeCheckpoint(_ model: any Forecaster, columns: [String], scaler: Scaler,
                              settings: [String: String], range: PlausibleRange) throws -> ForecastCheckpoint {
    func go<M: Forecaster>(_ m: M) throws -> ForecastCheckpoint {
      try ForecastCheckpoint(model: m, columns: columns, scaler: scaler, settings: settings, plausibleRange: range)
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
