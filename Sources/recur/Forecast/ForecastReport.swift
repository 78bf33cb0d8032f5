import Foundation
import Recur

/// The outputs of `recur forecast`: the metrics table, metrics.json, forecasts.csv and forecast.svg.
struct ForecastReport {
  let subject: ForecastSubject
  let table: TimeSeriesTable
  let time: TimeAxis
  let evaluation: ForecastEvaluation
  /// The free-run scores (`--free-run`), if asked for.
  let freeRun: FreeRunEvaluation?
  let seconds: Double

  var target: String { subject.columns[0] }
  var kind: String { subject.model }

  // MARK: - Table

  func table(outputDirectory: String) -> String {
    let e = evaluation, s = e.split
    var lines: [String] = []
    let validation = s.validation.isEmpty ? "" : ", validation \(s.validation.count)"
    lines.append("\(kind) forecast of '\(target)'\(subject.columns.count > 1 ? " (inputs: \(subject.columns.joined(separator: ", ")))" : "") from \(subject.source)")
    lines.append("  \(s.count) rows: train \(s.train.count)\(validation), test \(s.test.count) (\(e.origins.count) origins × \(s.horizon) step\(s.horizon == 1 ? "" : "s")); lookback \(s.lookback), horizon \(s.horizon), season \(e.season.map(String.init) ?? "none")")
    if table.droppedRows > 0 { lines.append("  dropped \(table.droppedRows) rows with missing values") }
    if table.filledValues > 0 { lines.append("  interpolated \(table.filledValues) missing values") }
    for key in e.notes.keys.sorted() { lines.append("  \(key): \(e.notes[key]!)") }
    lines.append("")
    lines.append("  test part            RMSE         MAE       NRMSE        MASE")
    func row(_ name: String, _ m: ForecastScores) -> String {
      let mase = m.mase.map { num($0) } ?? "—".padding(toLength: 10, withPad: " ", startingAt: 0)
      return "  " + name.padding(toLength: 16, withPad: " ", startingAt: 0) + "  " + num(m.rmse) + "  " + num(m.mae) + "  " + num(m.nrmse) + "  " + mase
    }
    lines.append(row(kind, e.modelScores))
    lines.append(row("naive", e.naiveScores))
    if let seasonal = e.seasonalNaiveScores, let season = e.season {
      lines.append(row("seasonal naive", seasonal) + "   (season \(season))")
    } else {
      lines.append("  seasonal naive    (pass --season S)")
    }
    if s.horizon > 1 {
      lines.append("  RMSE by step: " + e.rmseByStep.map { String(format: "%.4g", $0) }.joined(separator: " "))
    }
    if let f = freeRun {
      lines.append("")
      lines.append("  free run: \(f.steps) steps fed back from \(f.origins.count) test origins\(f.stride > 1 ? " (every \(f.stride)th)" : ""); "
        + "diverged: \(f.divergedCount) (left the plausible range, training range ± \(f.range.margin) widths)")
      let marks = ForecastReport.freeRunMarks(steps: f.steps)
      lines.append("  NRMSE at step  " + marks.map { String($0).padding(toLength: 10, withPad: " ", startingAt: 0) }.joined(separator: "  "))
      lines.append("                 " + marks.map { ForecastReport.short(f.nrmseByStep[$0 - 1]).padding(toLength: 10, withPad: " ", startingAt: 0) }.joined(separator: "  "))
      if let n84 = f.nrmse84 { lines.append("  NRMSE84 \(ForecastReport.short(n84))") }
    }
    lines.append("")
    lines.append(String(format: "  fit + forecast %.2f s; MASE scaled by the in-sample %@ naive forecast", seconds,
                        e.season.map { "seasonal (\($0))" } ?? "one-step"))
    lines.append("  wrote \(outputDirectory)/forecasts.csv, forecast.svg, \(freeRun == nil ? "" : "free-run.svg, ")metrics.json, model.safetensors")
    return lines.joined(separator: "\n")
  }

  /// The steps the table shows: 1, 20, 84, 200, 500, 1000 up to `steps`, and `steps` itself.
  static func freeRunMarks(steps: Int) -> [Int] {
    var marks = [1, 20, 84, 200, 500, 1000].filter { $0 < steps }
    marks.append(steps)
    return marks
  }

  static func short(_ v: Double) -> String { String(format: "%.3e", v) }

  private func num(_ v: Double) -> String {
    let text: String
    if !v.isFinite { text = "\(v)" } else if v != 0 && (abs(v) >= 1e6 || abs(v) < 1e-3) { text = String(format: "%.3e", v) } else { text = String(format: "%.4f", v) }
    return String(repeating: " ", count: max(0, 10 - text.count)) + text
  }

  // MARK: - JSON

  /// metrics.json, after the subject's fields.
  struct Metrics: Encodable {
    var target: String
    var rows, trainRows, validationRows, testRows: Int
    var lookback, horizon: Int
    var season: Int?
    var testOrigins, forecasts: Int
    var scores: [String: ForecastScores]
    var rmseByStep, nrmseByStep: [Double]
    var notes: [String: String]
    var freeRun: FreeRun?
    var seconds: Double
  }

  /// The `free_run` object of metrics.json.
  struct FreeRun: Encodable {
    var steps, stride, origins, diverged: Int
    var divergedOrigins: [Int]
    var plausibleMargin: Double
    var nrmse84: Double?
    var rmseByStep, nrmseByStep: [Double]

    init(_ f: FreeRunEvaluation) {
      steps = f.steps
      stride = f.stride
      origins = f.origins.count
      diverged = f.divergedCount
      divergedOrigins = f.origins.indices.filter { f.divergence[$0] != nil }.map { f.origins[$0] }
      plausibleMargin = f.range.margin
      nrmse84 = f.nrmse84
      rmseByStep = f.rmseByStep
      nrmseByStep = f.nrmseByStep
    }
  }

  func metricsJSON() throws -> String {
    let e = evaluation, s = e.split
    var scores = [kind: e.modelScores, "naive": e.naiveScores]
    if let seasonal = e.seasonalNaiveScores { scores["seasonal_naive"] = seasonal }
    let metrics = Metrics(target: target, rows: s.count,
                          trainRows: s.train.count, validationRows: s.validation.count, testRows: s.test.count,
                          lookback: s.lookback, horizon: s.horizon, season: e.season, testOrigins: e.origins.count,
                          forecasts: e.origins.count * s.horizon, scores: scores, rmseByStep: e.rmseByStep, nrmseByStep: e.nrmseByStep,
                          notes: e.notes, freeRun: freeRun.map(FreeRun.init), seconds: seconds)
    return try ForecastReport.encodeJSON(ForecastDocument(subject: subject, body: metrics))
  }

  static func encodeJSON<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return String(decoding: try encoder.encode(value), as: UTF8.self) + "\n"
  }

  // MARK: - CSV

  func forecastsCSV() -> String {
    let e = evaluation
    let target = table.values.column(0)
    var header = ["origin_row", "origin_time", "step", "row", "time", "actual", kind, "naive"]
    if e.seasonalNaive != nil { header.append("seasonal_naive") }
    var text = header.map(csvField).joined(separator: ",") + "\n"
    text.reserveCapacity(e.origins.count * e.split.horizon * 80)
    let labels = time.labels.map(csvField)
    for (i, t) in e.origins.enumerated() {
      for h in 0..<e.split.horizon {
        let r = t + 1 + h
        text += "\(t),\(labels[t]),\(h + 1),\(r),\(labels[r]),\(target[r]),\(e.forecasts[i, h, 0]),\(e.naive[i, h, 0])"
        if let seasonal = e.seasonalNaive { text += ",\(seasonal[i, h, 0])" }
        text += "\n"
      }
    }
    return text
  }

  // MARK: - Plot

  func plot() -> LinePlotSVG {
    let e = evaluation, s = e.split
    let target = table.values.column(0)
    // Long test parts: show their first 500 steps (with 250 steps of history) so actual and
    // forecast stay distinguishable; short series: everything.
    let shownTest = min(s.test.count, 500)
    let lastShown = s.test.lowerBound + shownTest  // exclusive
    let firstShown = s.count <= 600 ? 0 : max(0, s.test.lowerBound - max(250, shownTest / 2))
    let window = shownTest < s.test.count ? ", first \(shownTest) of \(s.test.count) test steps" : ""
    var plot = LinePlotSVG(title: "\(self.target) — \(kind) forecast on the test part (\(subject.source)\(window))",
                           xLabel: time.title, yLabel: self.target)
    let historyRows = Array(firstShown..<s.test.lowerBound)
    plot.add(.init(label: "history", x: historyRows.map { time.values[$0] }, y: historyRows.map { target[$0] },
                   color: "#7a8ca3", lineWidth: 1.3))
    let testRows = Array(max(s.test.lowerBound - 1, 0)..<lastShown)
    let shownOrigins = e.origins.indices.filter { e.origins[$0] + 1 < lastShown }
    plot.add(.init(label: "actual (test)", x: testRows.map { time.values[$0] }, y: testRows.map { target[$0] },
                   color: "#111111", lineWidth: 1.6))
    let steps = s.horizon > 1 ? [1, s.horizon] : [1]
    let colors = ["#D55E00", "#009E73"]
    for (k, step) in steps.enumerated() {
      let indices = shownOrigins.filter { e.origins[$0] + step < lastShown }
      plot.add(.init(label: "\(kind) forecast, \(step) step\(step == 1 ? "" : "s") ahead",
                     x: indices.map { time.values[e.origins[$0] + step] }, y: indices.map { e.forecasts[$0, step - 1, 0] },
                     color: colors[k], lineWidth: 1.6, dash: k == 1 ? "6 3" : nil))
    }
    if let seasonal = e.seasonalNaive, let season = e.season {
      plot.add(.init(label: "seasonal naive (\(season)), 1 step", x: shownOrigins.map { time.values[e.origins[$0] + 1] },
                     y: shownOrigins.map { seasonal[$0, 0, 0] }, color: "#56B4E9", lineWidth: 1.0, dash: "2 3"))
    }
    if !s.validation.isEmpty {
      plot.bands.append(.init(from: time.values[s.validation.lowerBound], to: time.values[s.validation.upperBound - 1],
                              label: "validation", color: "#E69F00", opacity: 0.07))
    }
    plot.bands.append(.init(from: time.values[s.test.lowerBound], to: time.values[lastShown - 1], label: "test"))
    return plot
  }
}

extension ForecastReport {
  /// free-run.svg: the NRMSE of the target against the step, on a log scale.
  func freeRunPlot() -> LinePlotSVG? {
    guard let f = freeRun else { return nil }
    var plot = LinePlotSVG(
      title: "\(target) — \(kind) free run from \(f.origins.count) test origins (\(subject.source)); \(f.divergedCount) diverged",
      xLabel: "steps ahead (forecasts fed back)", yLabel: "NRMSE (log scale)")
    plot.logY = true
    plot.add(.init(label: "\(kind) NRMSE", x: (1...f.steps).map(Double.init), y: f.nrmseByStep, color: "#D55E00", lineWidth: 1.6))
    return plot
  }
}

func csvField(_ s: String) -> String {
  // A byte scan (Foundation's String.contains goes through NSString and dominated large outputs).
  if s.utf8.contains(where: { $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) {
    return "\"" + s.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
  return s
}

/// Shortest text that reads back as the same Double.
func number(_ v: Double) -> String { "\(v)" }
