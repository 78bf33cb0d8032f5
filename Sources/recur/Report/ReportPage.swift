import Foundation
import Recur

/// The page `recur report` writes: one self-contained HTML document (inline SVG and CSS, no
/// scripts) explaining long-memory experiments and training runs.
///
/// Every number in a table carries `data-check="<source>:<field>"` and `data-value` (the value as
/// stored), so a test can hold the page to the JSON it was made from.
struct ReportPage {
  /// A results file of `recur experiment`.
  struct Experiment {
    var path: String
    var results: LongMemoryResults
  }

  /// A training run's `metrics.jsonl`.
  struct TrainingRun {
    var path: String
    var log: MetricsLog
  }

  var title = "Recur: long memory, shown"
  var experiments: [Experiment]
  var trainingRuns: [TrainingRun]

  static let cellOrder: [SequenceLayerKind] = [.rnnTanh, .rnnRelu, .lstm, .gru, .minGRU, .minLSTM]
  static let cellColours: [SequenceLayerKind: String] = [.rnnTanh: "#D55E00", .rnnRelu: "#CC79A7", .lstm: "#0072B2", .gru: "#009E73",
                                                         .minGRU: "#E69F00", .minLSTM: "#56B4E9"]

  func render() -> String {
    var html = """
    <!DOCTYPE html>
    <html lang="en"><head><meta charset="utf-8"><title>\(xmlEscaped(title))</title>
    <style>
    body { font-family: Helvetica, Arial, sans-serif; color: #222; max-width: 1380px; margin: 24px auto; padding: 0 16px; line-height: 1.45; }
    h1 { font-size: 26px; } h2 { font-size: 21px; margin-top: 40px; border-bottom: 1px solid #ccc; padding-bottom: 4px; } h3 { font-size: 17px; margin-top: 28px; }
    .row { display: flex; flex-wrap: wrap; gap: 16px; align-items: flex-start; }
    figure { margin: 8px 0; } figure.cell { width: 430px; } figure.cell svg { width: 100%; height: auto; } figcaption { font-size: 13px; color: #444; max-width: 900px; }
    table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
    th, td { border-bottom: 1px solid #ddd; padding: 4px 8px; text-align: right; } th { background: #f3f3f3; }
    td.text, th.text { text-align: left; } tr.best td { font-weight: bold; }
    .eq { font-family: "Times New Roman", serif; font-size: 16px; line-height: 1.7; }
    .note { font-size: 13px; color: #444; max-width: 1000px; }
    .swatch { display: inline-block; width: 12px; height: 12px; margin-right: 4px; vertical-align: -1px; }
    </style></head><body>
    <h1>\(xmlEscaped(title))</h1>
    <p class="note">A plain recurrent network forgets: the gradient that tells it how to use an input shrinks by a roughly
    constant factor at every step it travels back, so after a few hundred steps nothing is left to learn from
    (the <em>vanishing gradient</em>; when the factor is above one it explodes instead). The LSTM and the GRU add a
    path through time that is changed only by gated multiplication and addition, and along which the gradient can
    survive. The experiments below measure this on two classic synthetic tasks; every figure is drawn from the
    results files named under each heading.</p>

    """
    for (i, e) in experiments.enumerated() { html += experimentSection(e, index: i) }
    if !experiments.isEmpty || trainingRuns.isEmpty { html += cellsSection() }
    if !trainingRuns.isEmpty { html += trainingSection() }
    return html + "<p class=\"note\">Made by \(xmlEscaped("recur report")) (Recur \(xmlEscaped(RecurVersion.current))).</p>\n</body></html>\n"
  }

  // MARK: - Experiments

  /// The runs of `results` grouped by length, and the best run (solved first, with the fewest
  /// sequences, then test accuracy, then test loss) of each cell at each length.
  static func bestRuns(_ results: LongMemoryResults) -> [Int: [(cell: SequenceLayerKind, run: LongMemoryRunResult, tried: Int)]] {
    var out: [Int: [(SequenceLayerKind, LongMemoryRunResult, Int)]] = [:]
    let byLength = Dictionary(grouping: results.runs) { $0.settings.configuration.problem.length }
    for (length, runs) in byLength {
      for cell in cellOrder {
        let mine = runs.filter { $0.settings.configuration.cell == cell }
        guard let best = mine.max(by: { isWorse($0, than: $1) }) else { continue }
        out[length, default: []].append((cell, best, mine.count))
      }
    }
    return out
  }

  static func isWorse(_ a: LongMemoryRunResult, than b: LongMemoryRunResult) -> Bool {
    if a.solved != b.solved { return !a.solved }
    if let x = a.sequencesToSolve, let y = b.sequencesToSolve, x != y { return x > y }
    if a.test.accuracy != b.test.accuracy { return a.test.accuracy < b.test.accuracy }
    return a.test.loss > b.test.loss
  }

  func experimentSection(_ e: Experiment, index: Int) -> String {
    let r = e.results
    let source = "experiment\(index)"
    let isCopy = r.problem == "copy"
    let best = Self.bestRuns(r)
    let lengths = best.keys.sorted()
    var html = "<h2>\(isCopy ? "Copy-memory task (Arjovsky, Shah &amp; Bengio 2016)" : "Adding problem (Hochreiter &amp; Schmidhuber 1997)")</h2>\n"
    html += "<p class=\"note\">From <code>\(xmlEscaped(e.path))</code>: \(r.runs.count) runs. "
    if isCopy {
      html += "The network reads ten symbols (of eight), then T − 1 blanks and a delimiter, and must then write the ten symbols back in order; "
        + "every step is scored by cross-entropy. A network without memory can do no better than 10·log 8 / (T + 20) nats per step "
        + "(the <em>memoryless baseline</em>). A sequence is right when all ten recalled symbols are; a run is <em>solved</em> when 99 % "
        + "of the 512 validation sequences are right. Accuracy is measured on 2,560 fresh test sequences.</p>\n"
    } else {
      html += "Each step is a pair (value in [−1, 1], marker). Two values are marked, one among the first ten steps and one among the first T/2 − 1; "
        + "sequences are T to 1.1·T steps long, and at the last step the network must output 0.5 + (X₁ + X₂)/4. An answer is right when it is within 0.04. "
        + "Predicting 0.5 without memory gives a mean squared error of 0.0396 and about 16 % right. A run is <em>solved</em> when 99 % of the 512 "
        + "validation sequences are right; accuracy is measured on 2,560 fresh test sequences. Hochreiter &amp; Schmidhuber's LSTM needed "
        + "74,000 (T = 100), 209,000 (T = 500) and 853,000 (T = 1,000) training sequences.</p>\n"
    }
    if let example = r.runs.first(where: { $0.settings.configuration.cell == .lstm }) ?? r.runs.first {
      html += "<figure>" + unrolled(example.settings.configuration) + "<figcaption>The network of these runs (here the "
        + "\(xmlEscaped(example.settings.configuration.cell.displayName)), drawn from its configuration): one recurrent layer of "
        + "\(example.settings.configuration.hiddenSize) units unrolled over T = \(example.settings.configuration.problem.length) steps, "
        + "the same weights at every step, "
        + (isCopy ? "a linear read-out at every step." : "a linear read-out of the final hidden state.")
        + " The gradient of the loss must travel back along the state arrows to reach the early inputs.</figcaption></figure>\n"
    }
    html += runTable(r, source: source, best: best)
    // Learning curves.
    html += "<h3>Learning curves</h3>\n<p class=\"note\">Validation accuracy and loss against the training sequences seen, the best "
      + "learning rate of each cell; the dashed line is the memoryless baseline. A run stops at the first validation with 99 % right.</p>\n"
    for length in lengths {
      let runs = best[length]!
      var accuracy = LinePlotSVG(title: "T = \(length): validation accuracy", xLabel: "training sequences seen", yLabel: "sequences right (%)")
      var loss = LinePlotSVG(title: "T = \(length): validation loss", xLabel: "training sequences seen",
                             yLabel: isCopy ? "cross-entropy (nats per step, log)" : "mean squared error (log)")
      for plot in [0, 1] {
        var p = plot == 0 ? accuracy : loss
        p.width = 660
        p.height = 380
        p.xTickFormatter = shortCount
        for (cell, run, _) in runs {
          let x = run.curve.map { Double($0.sequences) }
          let y = plot == 0 ? run.curve.map { $0.validationAccuracy * 100 } : run.curve.map(\.validationLoss)
          p.add(LinePlotSVG.Series(label: "\(cell.displayName) (lr \(rate(run.settings.learningRate)))", x: x, y: y, color: Self.cellColours[cell]))
        }
        let xs = runs.flatMap { $0.run.curve.map { Double($0.sequences) } }
        if let lo = xs.min(), let hi = xs.max() {
          if plot == 0 {
            p.add(LinePlotSVG.Series(label: "99 % (solved)", x: [lo, hi], y: [99, 99], color: "#555555", lineWidth: 1, dash: "6 4"))
          } else {
            p.logY = true
            p.add(LinePlotSVG.Series(label: "memoryless baseline", x: [lo, hi], y: [runs[0].run.baselineLoss, runs[0].run.baselineLoss],
                                     color: "#555555", lineWidth: 1, dash: "6 4"))
          }
        }
        if plot == 0 { accuracy = p } else { loss = p }
      }
      html += "<div class=\"row\"><figure>\(accuracy.render())</figure><figure>\(loss.render())</figure></div>\n"
    }
    html += successSection(best, lengths: lengths, isCopy: isCopy)
    html += gradientSection(best, lengths: lengths, isCopy: isCopy)
    return html
  }

  func unrolled(_ c: LongMemoryTask.Configuration) -> String {
    let isCopy = c.problem.readsEveryStep
    return UnrolledNetworkSVG(
      cellName: c.cell.displayName, hiddenSize: c.hiddenSize, carriesCellState: c.cell == .lstm,
      inputDescription: isCopy ? "one-hot symbol (8 symbols, blank, delimiter)" : "(value, marker)", inputSize: c.problem.inputSize,
      outputDescription: isCopy ? "scores of the 10 symbols at every step" : "0.5 + (X₁ + X₂)/4 at the last step",
      outputSize: c.problem.outputSize, readsEveryStep: isCopy, steps: c.problem.length).render()
  }

  func runTable(_ r: LongMemoryResults, source: String, best: [Int: [(cell: SequenceLayerKind, run: LongMemoryRunResult, tried: Int)]]) -> String {
    let isCopy = r.problem == "copy"
    var html = "<table>\n<tr><th class=\"text\">cell</th><th>T</th><th>learning rate</th><th>units</th><th>seed</th><th title=\"initial bias of the LSTM forget gate / GRU update gate\">gate bias</th><th class=\"text\">outcome</th>"
      + "<th>sequences to solve</th><th>time to solve</th><th>sequences seen</th><th>test: right</th>"
      + (isCopy ? "<th>test: symbols right</th>" : "") + "<th>test loss</th><th>memoryless loss</th>"
      + "<th title=\"‖∂L/∂h₀‖ / ‖∂L/∂h_T−1‖ at the first training step\">gradient kept over T (step 1)</th><th>wall</th><th>CPU</th></tr>\n"
    let order = r.runs.indices.sorted { a, b in
      let x = r.runs[a].settings, y = r.runs[b].settings
      let kx = (x.configuration.problem.length, Self.cellOrder.firstIndex(of: x.configuration.cell) ?? 9, -x.learningRate)
      let ky = (y.configuration.problem.length, Self.cellOrder.firstIndex(of: y.configuration.cell) ?? 9, -y.learningRate)
      return kx < ky
    }
    for i in order {
      let run = r.runs[i], s = run.settings, c = s.configuration
      let entry = best[c.problem.length]?.first { $0.cell == c.cell }
      let isBest = entry?.run == run && (entry?.tried ?? 0) > 1
      let key = "\(source):runs[\(i)]"
      html += "<tr\(isBest ? " class=\"best\"" : "")><td class=\"text\"><span class=\"swatch\" style=\"background:\(Self.cellColours[c.cell] ?? "#000")\"></span>"
        + "\(xmlEscaped(c.cell.displayName))\(isBest ? " (best of \(entry!.tried))" : "")</td>"
      html += number("\(key).settings.configuration.problem.length", Double(c.problem.length), grouped(c.problem.length))
      html += number("\(key).settings.learningRate", Double(s.learningRate), rate(s.learningRate))
      html += number("\(key).settings.configuration.hiddenSize", Double(c.hiddenSize), "\(c.hiddenSize)")
      html += number("\(key).settings.seed", Double(s.seed), "\(s.seed)")
      if let chrono = c.chronoMaximum {
        html += "<td title=\"chrono initialisation: ln U(1, T_max − 1) per unit\">chrono, T<sub>max</sub> "
          + number("\(key).settings.configuration.chronoMaximum", Double(chrono), grouped(chrono), tag: "span") + "</td>"
      } else {
        html += c.memoryGateBias.map { number("\(key).settings.configuration.memoryGateBias", Double($0), String(format: "%.2f", Double($0))) } ?? "<td>—</td>"
      }
      html += "<td class=\"text\">\(run.solved ? "solved" : run.outcome == "stopped" ? "interrupted" : "not solved")</td>"
      html += run.sequencesToSolve.map { number("\(key).sequencesToSolve", Double($0), grouped($0)) } ?? "<td>—</td>"
      html += run.secondsToSolve.map { number("\(key).secondsToSolve", $0, ProgressLine.duration($0)) } ?? "<td>—</td>"
      html += number("\(key).sequencesSeen", Double(run.sequencesSeen), grouped(run.sequencesSeen))
      html += number("\(key).test.accuracy", run.test.accuracy, percent(run.test.accuracy))
      if isCopy { html += run.test.symbolAccuracy.map { number("\(key).test.symbolAccuracy", $0, percent($0)) } ?? "<td>—</td>" }
      html += number("\(key).test.loss", run.test.loss, String(format: "%.4g", run.test.loss))
      html += number("\(key).baselineLoss", run.baselineLoss, String(format: "%.4g", run.baselineLoss))
      html += Self.gradientRatio(run).map { number("\(key).gradientRatio", $0, String(format: "%.1e", $0)) } ?? "<td>—</td>"
      html += number("\(key).wallSeconds", run.wallSeconds, ProgressLine.duration(run.wallSeconds))
      html += number("\(key).cpuSeconds", run.cpuSeconds, ProgressLine.duration(run.cpuSeconds))
      html += "</tr>\n"
    }
    return html + "</table>\n<p class=\"note\">Bold: the run a cell is shown with in the plots where it has several (solved first, with the fewest "
      + "sequences, then the test accuracy). <em>Gradient kept over T</em>: the norm of ∂L/∂h at the first time step divided by the norm at step T − 1, "
      + "in the first training step (untrained weights).</p>\n"
  }

  /// ‖∂L/∂h₀‖ / ‖∂L/∂h_{T−1}‖ in the run's first gradient snapshot.
  static func gradientRatio(_ run: LongMemoryRunResult) -> Double? {
    guard let first = run.gradientFlow.snapshots.first, let last = first.norms.last, last > 0, let n0 = first.norms.first else { return nil }
    return Double(n0) / Double(last)
  }

  func successSection(_ best: [Int: [(cell: SequenceLayerKind, run: LongMemoryRunResult, tried: Int)]], lengths: [Int], isCopy: Bool) -> String {
    guard lengths.count >= 2 else {
      return "<h3>Success against T</h3>\n<p class=\"note\">These results hold one length (T = \(lengths.map(grouped).joined())); "
        + "run more lengths (<code>--lengths 100,200,500</code>) to plot accuracy against T.</p>\n"
    }
    var accuracy = LinePlotSVG(title: "Test accuracy against T", xLabel: "T (steps between the information and the answer)",
                               yLabel: "test sequences right (%)")
    var sequences = LinePlotSVG(title: "Training sequences until solved", xLabel: "T (steps)", yLabel: "sequences (log)")
    for p in [0, 1] {
      var plot = p == 0 ? accuracy : sequences
      plot.width = 660
      plot.height = 380
      plot.xTickFormatter = { grouped(Int($0)) }
      if p == 1 { plot.logY = true; plot.yTickFormatter = shortCount }
      for cell in Self.cellOrder {
        let points = lengths.compactMap { t in best[t]?.first { $0.cell == cell }.map { (t, $0.run) } }
        guard !points.isEmpty else { continue }
        let ys = points.map { p == 0 ? $0.1.test.accuracy * 100 : $0.1.sequencesToSolve.map(Double.init) ?? .nan }
        if p == 1 && !ys.contains(where: \.isFinite) { continue }
        plot.add(LinePlotSVG.Series(label: cell.displayName, x: points.map { Double($0.0) }, y: ys, color: Self.cellColours[cell], showsMarkers: true))
      }
      if p == 0, let lo = lengths.first, let hi = lengths.last {
        plot.add(LinePlotSVG.Series(label: "99 % (solved)", x: [Double(lo), Double(hi)], y: [99, 99], color: "#555555", lineWidth: 1, dash: "6 4"))
      }
      if p == 0 { accuracy = plot } else { sequences = plot }
    }
    let anySolved = best.values.contains { $0.contains { $0.run.solved } }
    return "<h3>Success against T</h3>\n<div class=\"row\"><figure>\(accuracy.render())</figure>"
      + (anySolved ? "<figure>\(sequences.render())<figcaption>Only solved runs have a point here.</figcaption></figure>"
                   : "<p class=\"note\">No run reached 99 % right, so there is no plot of the sequences needed to solve.</p>") + "</div>\n"
  }

  func gradientSection(_ best: [Int: [(cell: SequenceLayerKind, run: LongMemoryRunResult, tried: Int)]], lengths: [Int], isCopy: Bool) -> String {
    var html = "<h3>Gradient flow through time</h3>\n<p class=\"note\">Each heat map shows ‖∂L/∂h<sub>t</sub>‖ — how strongly the loss "
      + "depends on the hidden state at time step t (horizontal) — at training steps spread over the run (vertical, first step at the top), "
      + "on a logarithmic colour scale shared by the cells of one T. "
      + (isCopy ? "The loss reads every step, so the last 10 steps (the recall) receive the gradient directly; it must reach the first 10 steps, where the symbols were shown."
                : "The loss reads only the last step: the gradient enters on the right and must reach the two marked steps near the start.")
      + " Dark on the left means the gradient vanished before it got there.</p>\n"
    for length in lengths {
      // The parallel-scan layers record no per-step norms.
      let runs = best[length]!.filter { !$0.run.gradientFlow.snapshots.isEmpty }
      let all = runs.flatMap { $0.run.gradientFlow.snapshots.flatMap(\.norms) }.filter { $0 > 0 && $0.isFinite }.map { log10(Double($0)) }
      guard let top = all.max(), let bottom = all.min() else { continue }
      let hi = top.rounded(.up), lo = Swift.max(bottom.rounded(.down), hi - 20)
      html += "<div class=\"row\">"
      for (cell, run, _) in runs {
        let g = run.gradientFlow
        let map = HeatMapSVG(
          title: "\(cell.displayName), T = \(length), lr \(rate(run.settings.learningRate))", xLabel: "time step t",
          yLabel: "training step", columns: g.timeSteps.map { Double($0) }, rows: g.snapshots.map(\.step),
          values: g.snapshots.map { $0.norms.map { Double($0) } }, logRange: lo...Swift.max(hi, lo + 1), colorLabel: "‖∂L/∂hₜ‖ (log scale)")
        html += "<figure>\(map.render())</figure>"
      }
      // The first and last snapshots as lines: the decay over the lag, in decades.
      var lines = LinePlotSVG(title: "T = \(length): ‖∂L/∂hₜ‖ at the first and last recorded step", xLabel: "time step t", yLabel: "‖∂L/∂hₜ‖ (log)")
      lines.width = 660
      lines.height = 330
      lines.logY = true
      for (cell, run, _) in runs {
        let g = run.gradientFlow
        guard let first = g.snapshots.first, let last = g.snapshots.last else { continue }
        let x = g.timeSteps.map { Double($0) }
        lines.add(LinePlotSVG.Series(label: "\(cell.displayName), step \(first.step)", x: x, y: first.norms.map { $0 > 0 ? Double($0) : .nan },
                                     color: Self.cellColours[cell], dash: "5 3"))
        lines.add(LinePlotSVG.Series(label: "\(cell.displayName), step \(last.step)", x: x, y: last.norms.map { $0 > 0 ? Double($0) : .nan }, color: Self.cellColours[cell]))
      }
      html += "<figure>\(lines.render())</figure></div>\n"
    }
    return html
  }

  // MARK: - Cells

  func cellsSection() -> String {
    """
    <h2>The cells</h2>
    <p class="note">PyTorch's formulation (gate order LSTM i, f, g, o and GRU r, z, n; two bias vectors per gate). σ is the logistic sigmoid,
    ⊙ the element-wise product. Boxes are learned layers (a matrix product of x<sub>t</sub> and h<sub>t−1</sub> plus biases, then the function
    shown), circles are element-wise operations.</p>
    <div class="row">
    <figure class="cell">\(CellDiagramSVG.rnn())<figcaption class="eq">h<sub>t</sub> = tanh(W<sub>ih</sub> x<sub>t</sub> + b<sub>ih</sub> + W<sub>hh</sub> h<sub>t−1</sub> + b<sub>hh</sub>)</figcaption>
    <figcaption>Going back one step multiplies the gradient by W<sub>hh</sub><sup>T</sup> diag(1 − h<sub>t</sub><sup>2</sup>): over T steps a product of T such
    matrices, which shrinks (or grows) geometrically.</figcaption></figure>
    <figure class="cell">\(CellDiagramSVG.lstm())<figcaption class="eq">
    i<sub>t</sub> = σ(W<sub>ii</sub> x<sub>t</sub> + b<sub>ii</sub> + W<sub>hi</sub> h<sub>t−1</sub> + b<sub>hi</sub>)<br>
    f<sub>t</sub> = σ(W<sub>if</sub> x<sub>t</sub> + b<sub>if</sub> + W<sub>hf</sub> h<sub>t−1</sub> + b<sub>hf</sub>)<br>
    g<sub>t</sub> = tanh(W<sub>ig</sub> x<sub>t</sub> + b<sub>ig</sub> + W<sub>hg</sub> h<sub>t−1</sub> + b<sub>hg</sub>)<br>
    o<sub>t</sub> = σ(W<sub>io</sub> x<sub>t</sub> + b<sub>io</sub> + W<sub>ho</sub> h<sub>t−1</sub> + b<sub>ho</sub>)<br>
    c<sub>t</sub> = f<sub>t</sub> ⊙ c<sub>t−1</sub> + i<sub>t</sub> ⊙ g<sub>t</sub><br>
    h<sub>t</sub> = o<sub>t</sub> ⊙ tanh(c<sub>t</sub>)</figcaption>
    <figcaption>Along the cell state, going back one step multiplies the gradient by the forget gate f<sub>t</sub> only: with f near 1 it survives
    hundreds of steps (the experiments start its bias at ln T, the table's <em>gate bias</em>, so that f ≈ T/(T + 1), or by chrono
    initialisation, which also starts the input gate i nearly closed).</figcaption></figure>
    <figure class="cell">\(CellDiagramSVG.gru())<figcaption class="eq">
    r<sub>t</sub> = σ(W<sub>ir</sub> x<sub>t</sub> + b<sub>ir</sub> + W<sub>hr</sub> h<sub>t−1</sub> + b<sub>hr</sub>)<br>
    z<sub>t</sub> = σ(W<sub>iz</sub> x<sub>t</sub> + b<sub>iz</sub> + W<sub>hz</sub> h<sub>t−1</sub> + b<sub>hz</sub>)<br>
    n<sub>t</sub> = tanh(W<sub>in</sub> x<sub>t</sub> + b<sub>in</sub> + r<sub>t</sub> ⊙ (W<sub>hn</sub> h<sub>t−1</sub> + b<sub>hn</sub>))<br>
    h<sub>t</sub> = (1 − z<sub>t</sub>) ⊙ n<sub>t</sub> + z<sub>t</sub> ⊙ h<sub>t−1</sub></figcaption>
    <figcaption>The update gate z interpolates between the old state and the candidate n: where z is near 1 the state, and its gradient, pass
    through unchanged (its bias starts at ln T too).</figcaption></figure>
    </div>
    <p class="note">minGRU and minLSTM (Feng et al. 2024) drop h<sub>t−1</sub> from the gates, so the recurrence is linear and a parallel scan
    computes all T steps at once: minGRU z<sub>t</sub> = σ(W<sub>z</sub> x<sub>t</sub> + b<sub>z</sub>), h<sub>t</sub> = (1 − z<sub>t</sub>) ⊙ h<sub>t−1</sub>
    + z<sub>t</sub> ⊙ g(W<sub>h</sub> x<sub>t</sub> + b<sub>h</sub>); minLSTM f<sub>t</sub>, i<sub>t</sub> likewise, h<sub>t</sub> = f<sub>t</sub>/(f<sub>t</sub> + i<sub>t</sub>) ⊙ h<sub>t−1</sub>
    + i<sub>t</sub>/(f<sub>t</sub> + i<sub>t</sub>) ⊙ g(…), with g(x) = x + ½ for x ≥ 0, σ(x) below. <em>Chrono</em> in the table's gate-bias column is Tallec &amp;
    Ollivier's (2018) initialisation: each unit's keep bias drawn as ln u, u uniform in [1, T<sub>max</sub> − 1], and the write gate (the LSTM's i) the opposite.</p>

    """
  }

  // MARK: - Training runs

  func trainingSection() -> String {
    var html = "<h2>Training runs</h2>\n<p class=\"note\">From <code>metrics.jsonl</code> files written by the trainer (one line per evaluation). "
      + "Losses are in nats per predicted item (character, token, step).</p>\n"
    var overlay = LinePlotSVG(title: "Validation loss of every run", xLabel: "training items seen", yLabel: "validation loss (nats)")
    overlay.width = 660
    overlay.height = 380
    overlay.xTickFormatter = shortCount
    html += "<table>\n<tr><th class=\"text\">run</th><th>evaluations</th><th>steps</th><th>items seen</th><th>last train loss</th>"
      + "<th>best validation loss</th><th>at step</th><th>training time</th></tr>\n"
    var plots: [String] = []
    for (i, run) in trainingRuns.enumerated() {
      let records = run.log.records
      let key = "metrics\(i)"
      let name = Self.runName(run.path)
      html += "<tr><td class=\"text\">\(xmlEscaped(name))</td>"
      html += number("\(key):count", Double(records.count), grouped(records.count))
      if let last = records.last {
        html += number("\(key):step", Double(last.step), grouped(last.step))
        html += number("\(key):tokens", Double(last.tokens), grouped(last.tokens))
        html += number("\(key):train_loss", last.trainLoss, String(format: "%.4f", last.trainLoss))
        if let best = run.log.best {
          html += number("\(key):best_val_loss", best.loss, String(format: "%.4f", best.loss))
          html += number("\(key):best_step", Double(best.step), grouped(best.step))
        } else {
          html += "<td>—</td><td>—</td>"
        }
        html += number("\(key):elapsed_s", last.elapsed, ProgressLine.duration(last.elapsed))
      } else {
        html += "<td>—</td><td>—</td><td>—</td><td>—</td><td>—</td><td>—</td>"
      }
      html += "</tr>\n"
      var plot = LinePlotSVG(title: name, xLabel: "training items seen", yLabel: "loss (nats per item)")
      plot.width = 660
      plot.height = 380
      plot.xTickFormatter = shortCount
      let x = records.map { Double($0.tokens) }
      plot.add(LinePlotSVG.Series(label: "train", x: x, y: records.map(\.trainLoss), color: "#0072B2"))
      plot.add(LinePlotSVG.Series(label: "validation", x: x, y: records.map { $0.validationLoss ?? .nan }, color: "#D55E00", showsMarkers: true))
      let values = records.flatMap { [$0.trainLoss] + ($0.validationLoss.map { [$0] } ?? []) }.filter { $0 > 0 && $0.isFinite }
      if let lo = values.min(), let hi = values.max(), hi / lo > 10 { plot.logY = true; plot.yLabel = "loss (nats per item, log)" }
      plots.append(plot.render())
      overlay.add(LinePlotSVG.Series(label: name, x: x, y: records.map { $0.validationLoss ?? .nan }, showsMarkers: true))
    }
    html += "</table>\n<div class=\"row\">" + plots.map { "<figure>\($0)</figure>" }.joined()
    if trainingRuns.count > 1 { html += "<figure>\(overlay.render())</figure>" }
    return html + "</div>\n"
  }

  /// The run's name: its directory, or the file name when it has none.
  static func runName(_ path: String) -> String {
    let url = URL(fileURLWithPath: path)
    let dir = url.deletingLastPathComponent().lastPathComponent
    return dir.isEmpty || dir == "." ? url.lastPathComponent : dir
  }

  // MARK: - Numbers

  func number(_ key: String, _ value: Double, _ text: String, tag: String = "td") -> String {
    "<\(tag) data-check=\"\(xmlEscaped(key))\" data-value=\"\(value)\">\(xmlEscaped(text))</\(tag)>"
  }
}

/// 12,345.
func grouped(_ n: Int) -> String {
  let digits = String(abs(n))
  var out = ""
  for (i, c) in digits.enumerated() {
    if i > 0 && (digits.count - i) % 3 == 0 { out += "," }
    out.append(c)
  }
  return (n < 0 ? "-" : "") + out
}

/// 99.61 %.
func percent(_ x: Double) -> String { String(format: "%.2f %%", x * 100) }

/// A learning rate: 0.001, 1e-4.
func rate(_ r: Float) -> String { r >= 1e-3 ? String(format: "%g", Double(r)) : String(format: "%.0e", Double(r)) }

/// 500, 20k, 1.5M.
func shortCount(_ v: Double) -> String {
  let a = abs(v)
  if a >= 1e6 { return String(format: "%gM", (v / 1e5).rounded() / 10) }
  if a >= 1e3 { return String(format: "%gk", (v / 1e2).rounded() / 10) }
  return String(format: "%g", v)
}
