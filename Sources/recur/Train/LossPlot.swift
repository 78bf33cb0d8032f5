import Foundation
import Recur

/// `loss.svg`: training and validation loss of a run against the number of training tokens seen,
/// drawn with the shared `LinePlotSVG`.
enum LossPlot {
  /// Writes the plot of `log` atomically to `url` (nothing when the log is empty).
  static func write(_ log: MetricsLog, to url: URL, title: String) throws {
    let records = log.records
    guard !records.isEmpty else { return }
    let tokens = records.map { Double($0.tokens) }
    var plot = LinePlotSVG(title: title, xLabel: "training tokens seen (characters)", yLabel: "cross-entropy loss (nats per character)")
    plot.xTickFormatter = { value in
      if value == 0 { return "0" }
      if abs(value) >= 1e6 { return String(format: "%gM", (value / 1e4).rounded() / 100) }
      if abs(value) >= 1e3 { return String(format: "%gk", (value / 10).rounded() / 100) }
      return String(format: "%g", value)
    }
    plot.add(LinePlotSVG.Series(label: "train (mean since the previous evaluation)", x: tokens, y: records.map(\.trainLoss),
                                showsMarkers: records.count < 40))
    let validation = records.map { $0.validationLoss ?? .nan }
    if validation.contains(where: \.isFinite) {
      var label = "validation"
      if let best = log.best { label += String(format: " (best %.4f at step %d)", best.loss, best.step) }
      plot.add(LinePlotSVG.Series(label: label, x: tokens, y: validation, lineWidth: 2.2, showsMarkers: true))
    }
    try plot.write(to: url)
  }
}
