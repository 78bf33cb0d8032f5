import Foundation
import Recur

/// A CTC model's scores on labelled data: the loss, greedy and beam-search label error rates and
/// sequence accuracies, and the per-item outputs the plot needs.
struct CTCReport {
  var items: Int
  var loss: Double
  var greedy: CTCMetrics
  var beam: CTCMetrics
  var beamWidth: Int
  var seconds: Double

  /// Scores `model` on `data` (labelled) with both decoders.
  static func score(_ model: CTCModel, on data: CTCDataset, beam: CTCBeamOptions) throws -> (report: CTCReport, logProbs: [[[Float]]]) {
    let start = ProgressLine.now()
    let logProbs = try model.logProbabilities(data)
    let (loss, greedy) = try CTCTask.evaluate(logProbabilities: logProbs, targets: data.targets)
    var beamMetrics = CTCMetrics()
    for (lp, target) in zip(logProbs, data.targets) { beamMetrics.add(decoded: beam.decode(lp).first?.labels ?? [], reference: target) }
    let report = CTCReport(items: data.count, loss: loss, greedy: greedy, beam: beamMetrics, beamWidth: beam.beamWidth,
                           seconds: ProgressLine.now() - start)
    return (report, logProbs)
  }

  /// Two lines: greedy and beam label error rate and sequence accuracy.
  func text(part: String) -> String {
    String(format: "%@: %d sequences, %d labels, loss %.4f per label\n", part, items, greedy.referenceLength, loss)
      + String(format: "  greedy       label error rate %.4f (%d errors)  sequence accuracy %.4f\n", greedy.labelErrorRate, greedy.errors, greedy.sequenceAccuracy)
      + String(format: "  beam (%3d)   label error rate %.4f (%d errors)  sequence accuracy %.4f", beamWidth, beam.labelErrorRate, beam.errors, beam.sequenceAccuracy)
  }

  /// The report as pretty JSON.
  func json(part: String) throws -> String {
    struct Scores: Encodable { var label_error_rate: Double, errors: Int, sequence_accuracy: Double }
    struct Report: Encodable { var part: String, sequences: Int, labels: Int, loss: Double, greedy: Scores, beam: Scores, beam_width: Int }
    func scores(_ m: CTCMetrics) -> Scores { Scores(label_error_rate: m.labelErrorRate, errors: m.errors, sequence_accuracy: m.sequenceAccuracy) }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    let report = Report(part: part, sequences: items, labels: greedy.referenceLength, loss: loss, greedy: scores(greedy), beam: scores(beam), beam_width: beamWidth)
    return String(decoding: try encoder.encode(report), as: UTF8.self)
  }
}

/// The "spiky" CTC picture of one sequence: each class's probability against the frame, the blank
/// dashed grey, with the reference and the greedy decoding in the title.
func ctcProbabilityPlot(_ logProbs: [[Float]], id: String, reference: String?, decoded: String, alphabet: CTCAlphabet, frameStack: Int) -> LinePlotSVG {
  let title = "CTC label probabilities of \(id)" + (reference.map { ": reference \($0)," } ?? ":") + " greedy \(decoded)"
  var plot = LinePlotSVG(title: title, xLabel: frameStack > 1 ? "frame (steps of \(frameStack) frames)" : "frame", yLabel: "probability")
  let x = logProbs.indices.map { Double($0 * frameStack) }
  plot.add(LinePlotSVG.Series(label: "blank", x: x, y: logProbs.map { Double(Foundation.exp($0[CTCAlphabet.blank])) }, color: "#999999", dash: "4 3"))
  for (i, character) in alphabet.characters.enumerated() {
    // Past the palette's eight colours, lines are dashed so no two classes look alike.
    plot.add(LinePlotSVG.Series(label: character, x: x, y: logProbs.map { Double(Foundation.exp($0[i + 1])) }, dash: i >= 8 ? "7 2" : nil))
  }
  return plot
}
