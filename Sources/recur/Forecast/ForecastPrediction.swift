import Foundation
import Recur

/// `recur forecast --predict`: forecasts beyond the end of a series with a saved model; a forecast
/// that diverges when fed back is an error, never printed.
struct ForecastPrediction {
  let command: ForecastCommand

  /// The most steps `--predict` forecasts in one run.
  static let maximumSteps = 1_000_000

  /// The JSON output, after the subject's fields.
  struct Output: Encodable {
    var lastRow: Int
    var lastTime: String
    var steps: Int
    /// One entry per step: the step number and one value per column.
    var forecasts: [[String: Double]]
  }

  func run() throws {
    let c = command
    guard let checkpointPath = c.checkpoint else {
      throw CLIError("--predict needs --checkpoint (the model.safetensors written by recur forecast)")
    }
    guard let csvPath = c.csv else {
      throw CLIError("--predict needs --csv (the series whose continuation to forecast)")
    }
    if c.freeRun != nil {
      throw CLIError("--free-run scores a model on the test part while fitting it; it does not go with --predict (use --steps)")
    }
    let checkpoint = try ForecastCheckpoint.load(from: URL(fileURLWithPath: checkpointPath))
    let model = try ForecastModels.restore(checkpoint)
    if !c.columnNames.isEmpty && c.columnNames != checkpoint.columns {
      throw CLIError("the model forecasts column(s) \(checkpoint.columns.joined(separator: ", ")), not \(c.columnNames.joined(separator: ", ")); drop --column or pass the same names")
    }
    let steps = c.steps ?? checkpoint.horizon
    try requireAtMost(steps, ForecastPrediction.maximumSteps, flag: "--steps", why: "forecasts fed back one after another")
    let storedFill = checkpoint.settings["fill"].flatMap(MissingValuePolicy.init(rawValue:)) ?? .error
    let fill = try c.fillPolicy(default: storedFill)

    let url = URL(fileURLWithPath: csvPath)
    let table: TimeSeriesTable
    do {
      table = try TimeSeriesCSV.read(contentsOf: url, columns: checkpoint.columns, missing: fill)
    } catch TimeSeriesError.missingColumn(let column, let source, let available) {
      // The columns come from the checkpoint here, not from --column.
      throw CLIError("the model forecasts column '\(column)' but \(source) has none; its columns are: \(available.joined(separator: ", ")); "
        + "pass --csv with the columns the model was trained on (\(checkpoint.columns.joined(separator: ", ")))")
    }
    guard table.rowCount >= checkpoint.lookback else {
      throw CLIError("\(url.lastPathComponent) has \(table.rowCount) rows but the model needs at least lookback = \(checkpoint.lookback)")
    }
    let scaled = checkpoint.scaler.transform(table.values)
    // The plausible range: the checkpoint's (training rows) and the given history's, each widened
    // by the margin; older checkpoints without one use the history's alone.
    let margin = try c.plausibleMargin()
    let own = try PlausibleRange(fitting: scaled, rows: 0..<scaled.rows, margin: c.guardMargin ?? checkpoint.plausibleRange?.margin ?? margin)
    let range = checkpoint.plausibleRange.map { stored in (c.guardMargin.map { stored.withMargin($0) } ?? stored).union(own) } ?? own
    func go<M: Forecaster>(_ m: M) throws -> DoubleMatrix { try m.forecastBeyondEnd(series: scaled, steps: steps, range: range) }
    let forecast: DoubleMatrix
    do {
      forecast = checkpoint.scaler.inverseTransform(try go(model))
    } catch ForecastError.diverged(let step, let column, let value, let lower, let upper) {
      let s = checkpoint.scaler
      throw CLIError("the fed-back forecast diverged at step \(step) of \(steps): \(checkpoint.columns[column]) reached \(shortNumber(s.inverse(value, column: column))), "
        + "outside the plausible range [\(shortNumber(s.inverse(lower, column: column))), \(shortNumber(s.inverse(upper, column: column)))] "
        + "(the training range widened by --guard-margin \(range.margin)); nothing was printed; use fewer --steps or refit the model")
    }
    guard forecast.isFinite else {
      throw CLIError("the forecast is not finite (the model diverges when its forecasts are fed back, or the series is out of its range); use fewer --steps")
    }
    let time = TimeAxis(table: table)

    let subject = ForecastSubject(source: url.lastPathComponent, model: checkpoint.kind, columns: checkpoint.columns)
    let output = Output(
      lastRow: table.rowCount - 1, lastTime: time.labels[table.rowCount - 1], steps: steps,
      forecasts: (0..<steps).map { k in
        var row = ["step": Double(k + 1)]
        for (j, name) in checkpoint.columns.enumerated() { row[name] = forecast[k, j] }
        return row
      })

    // Outputs are written only when --out is given (prediction is read-only by default).
    if let out = c.out {
      let dir = try ForecastOutputDirectory(creating: out)
      var lines = [(["step", "time"] + checkpoint.columns).map(csvField).joined(separator: ",")]
      for k in 0..<steps {
        lines.append(([String(k + 1), String(format: "%.4f", time.extrapolated(k + 1))]
                      + (0..<forecast.columns).map { number(forecast[k, $0]) }).joined(separator: ","))
      }
      try dir.write(lines.joined(separator: "\n") + "\n", to: "predictions.csv")
    }

    if c.json {
      print(try ForecastReport.encodeJSON(ForecastDocument(subject: subject, body: output)), terminator: "")
    } else {
      print("\(checkpoint.kind) forecast of \(checkpoint.columns.joined(separator: ", ")) after row \(table.rowCount - 1) (\(time.labels[table.rowCount - 1])) of \(url.lastPathComponent):")
      print("  step  " + checkpoint.columns.map { $0.padding(toLength: max(12, $0.count), withPad: " ", startingAt: 0) }.joined(separator: "  "))
      for k in 0..<steps {
        let values = (0..<forecast.columns).map { j -> String in
          let text = String(format: "%.4f", forecast[k, j])
          return text.padding(toLength: max(12, checkpoint.columns[j].count), withPad: " ", startingAt: 0)
        }
        print(String(format: "  %4d  ", k + 1) + values.joined(separator: "  "))
      }
      if let out = c.out { print("  wrote \(out)/predictions.csv") }
    }
  }
}

/// `value` with 4 significant digits (messages).
func shortNumber(_ value: Double) -> String { String(format: "%.4g", value) }
