import Foundation
import Recur

/// A line chart as a self-contained SVG document: several labelled series, axes with "nice" ticks
/// (1, 2, 2.5, 5 × 10ⁿ; powers of ten on a log axis), axis titles, a title, a legend, and optional
/// shaded x-ranges and vertical markers (e.g. where the test part starts).
///
///     var plot = LinePlotSVG(title: "Loss", xLabel: "step", yLabel: "cross-entropy (nats/char)")
///     plot.logY = true
///     plot.add(LinePlotSVG.Series(label: "train", x: steps, y: train))
///     plot.add(LinePlotSVG.Series(label: "validation", x: valSteps, y: val, showsMarkers: true))
///     try plot.write(to: url)
///
/// Non-finite points (and non-positive ones on a log axis) are skipped, breaking the line there.
/// Colours default to a colour-blind-safe palette (Okabe–Ito) in the order series are added.
struct LinePlotSVG {
  struct Series {
    var label: String
    var x: [Double]
    var y: [Double]
    /// CSS colour; nil takes the next palette colour.
    var color: String?
    var lineWidth: Double
    /// SVG dash pattern, e.g. "6 3"; nil for a solid line.
    var dash: String?
    /// Draw a small circle at every point (for sparse series such as validation losses).
    var showsMarkers: Bool

    init(label: String, x: [Double], y: [Double], color: String? = nil, lineWidth: Double = 1.6,
         dash: String? = nil, showsMarkers: Bool = false) {
      precondition(x.count == y.count, "series '\(label)': \(x.count) x values but \(y.count) y values")
      self.label = label
      self.x = x
      self.y = y
      self.color = color
      self.lineWidth = lineWidth
      self.dash = dash
      self.showsMarkers = showsMarkers
    }
  }

  /// A shaded x-range with a label at its top (e.g. "test").
  struct Band {
    var from: Double
    var to: Double
    var label: String
    var color: String = "#000000"
    var opacity: Double = 0.06
  }

  /// A vertical line with a label.
  struct Marker {
    var x: Double
    var label: String
    var color: String = "#555555"
  }

  static let palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"]

  var title: String?
  var xLabel: String
  var yLabel: String
  var width = 960
  var height = 440
  var logY = false
  /// Formats x tick values (default: plain numbers with as many decimals as the step needs).
  var xTickFormatter: ((Double) -> String)?
  var yTickFormatter: ((Double) -> String)?
  private(set) var series: [Series] = []
  var bands: [Band] = []
  var markers: [Marker] = []

  init(title: String? = nil, xLabel: String, yLabel: String) {
    self.title = title
    self.xLabel = xLabel
    self.yLabel = yLabel
  }

  mutating func add(_ s: Series) {
    var s = s
    if s.color == nil { s.color = LinePlotSVG.palette[series.count % LinePlotSVG.palette.count] }
    series.append(s)
  }

  /// Writes the SVG atomically.
  func write(to url: URL) throws {
    try AtomicFile.write(Array(render().utf8), to: url)
  }

  // MARK: - Rendering

  func render() -> String {
    let marginLeft = 78.0, marginRight = 24.0
    let legendRows = legendLayout().rows
    let marginTop = (title == nil ? 16.0 : 44.0) + Double(legendRows) * 18 + 8
    let marginBottom = 56.0
    let plotW = Double(width) - marginLeft - marginRight
    let plotH = Double(height) - marginTop - marginBottom

    // Data ranges.
    var xs: [Double] = [], ys: [Double] = []
    for s in series {
      for (x, y) in zip(s.x, s.y) where isPlottable(x, y) {
        xs.append(x)
        ys.append(y)
      }
    }
    for b in bands { xs.append(contentsOf: [b.from, b.to].filter(\.isFinite)) }
    for m in markers where m.x.isFinite { xs.append(m.x) }
    var xMin = xs.min() ?? 0, xMax = xs.max() ?? 1
    var yMin = ys.min() ?? 0, yMax = ys.max() ?? 1
    if xMin == xMax { xMin -= 0.5; xMax += 0.5 }
    if yMin == yMax {
      if logY { yMin /= 2; yMax *= 2 } else { yMin -= max(abs(yMin) * 0.1, 0.5); yMax += max(abs(yMax) * 0.1, 0.5) }
    }
    let xTicks = LinePlotSVG.niceTicks(min: xMin, max: xMax, target: max(3, Int(plotW / 110)))
    let yTicks = logY ? LinePlotSVG.logTicks(min: yMin, max: yMax)
                      : LinePlotSVG.niceTicks(min: yMin, max: yMax, target: max(3, Int(plotH / 60)))
    // Axes span the data (x) and the outer ticks (y) so the data fill the width.
    let x0 = xMin, x1 = xMax
    let y0 = logY ? min(yTicks.values.first ?? yMin, yMin) : min(yTicks.values.first ?? yMin, yMin)
    let y1 = logY ? max(yTicks.values.last ?? yMax, yMax) : max(yTicks.values.last ?? yMax, yMax)
    func px(_ x: Double) -> Double { marginLeft + (x - x0) / (x1 - x0) * plotW }
    func py(_ y: Double) -> Double {
      if logY { return marginTop + plotH - (log10(y) - log10(y0)) / (log10(y1) - log10(y0)) * plotH }
      return marginTop + plotH - (y - y0) / (y1 - y0) * plotH
    }

    var svg = """
    <svg xmlns="http://www.w3.org/2000/svg" width="\(width)" height="\(height)" viewBox="0 0 \(width) \(height)" font-family="Helvetica, Arial, sans-serif">
    <rect width="100%" height="100%" fill="#ffffff"/>

    """
    if let title {
      svg += "<text x=\"\(f(Double(width) / 2))\" y=\"26\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"#222\">\(escape(title))</text>\n"
    }
    // Bands.
    for b in bands {
      let a = px(max(b.from, x0)), c = px(min(b.to, x1))
      guard c > a else { continue }
      svg += "<rect x=\"\(f(a))\" y=\"\(f(marginTop))\" width=\"\(f(c - a))\" height=\"\(f(plotH))\" fill=\"\(b.color)\" fill-opacity=\"\(b.opacity)\"/>\n"
      svg += "<text x=\"\(f((a + c) / 2))\" y=\"\(f(marginTop + 14))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#555\">\(escape(b.label))</text>\n"
    }
    // Grid and ticks.
    let xFormat = xTickFormatter ?? { LinePlotSVG.format($0, step: xTicks.step) }
    let yFormat = yTickFormatter ?? { logY ? LinePlotSVG.formatLog($0) : LinePlotSVG.format($0, step: yTicks.step) }
    for v in yTicks.values where v >= y0 && v <= y1 {
      let y = py(v)
      svg += "<line x1=\"\(f(marginLeft))\" y1=\"\(f(y))\" x2=\"\(f(marginLeft + plotW))\" y2=\"\(f(y))\" stroke=\"#e4e4e4\" stroke-width=\"1\"/>\n"
      svg += "<text x=\"\(f(marginLeft - 8))\" y=\"\(f(y + 4))\" text-anchor=\"end\" font-size=\"12\" fill=\"#333\">\(escape(yFormat(v)))</text>\n"
    }
    for v in xTicks.values where v >= x0 - 1e-9 * abs(x1 - x0) && v <= x1 + 1e-9 * abs(x1 - x0) {
      let x = px(v)
      svg += "<line x1=\"\(f(x))\" y1=\"\(f(marginTop))\" x2=\"\(f(x))\" y2=\"\(f(marginTop + plotH))\" stroke=\"#efefef\" stroke-width=\"1\"/>\n"
      svg += "<line x1=\"\(f(x))\" y1=\"\(f(marginTop + plotH))\" x2=\"\(f(x))\" y2=\"\(f(marginTop + plotH + 5))\" stroke=\"#444\" stroke-width=\"1\"/>\n"
      svg += "<text x=\"\(f(x))\" y=\"\(f(marginTop + plotH + 19))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#333\">\(escape(xFormat(v)))</text>\n"
    }
    // Axes.
    svg += "<line x1=\"\(f(marginLeft))\" y1=\"\(f(marginTop + plotH))\" x2=\"\(f(marginLeft + plotW))\" y2=\"\(f(marginTop + plotH))\" stroke=\"#444\" stroke-width=\"1\"/>\n"
    svg += "<line x1=\"\(f(marginLeft))\" y1=\"\(f(marginTop))\" x2=\"\(f(marginLeft))\" y2=\"\(f(marginTop + plotH))\" stroke=\"#444\" stroke-width=\"1\"/>\n"
    svg += "<text x=\"\(f(marginLeft + plotW / 2))\" y=\"\(f(Double(height) - 12))\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222\">\(escape(xLabel))</text>\n"
    svg += "<text transform=\"translate(18,\(f(marginTop + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"13\" fill=\"#222\">\(escape(yLabel))</text>\n"
    // Markers.
    for m in markers where m.x >= x0 && m.x <= x1 {
      let x = px(m.x)
      svg += "<line x1=\"\(f(x))\" y1=\"\(f(marginTop))\" x2=\"\(f(x))\" y2=\"\(f(marginTop + plotH))\" stroke=\"\(m.color)\" stroke-width=\"1\" stroke-dasharray=\"4 3\"/>\n"
      svg += "<text x=\"\(f(x + 4))\" y=\"\(f(marginTop + plotH - 6))\" font-size=\"11\" fill=\"\(m.color)\">\(escape(m.label))</text>\n"
    }
    // Series, clipped to the plot area. The id names the rectangle: plots inlined in one HTML page
    // share one id space, and a reference resolves to the first element of that id in the page.
    let clipID = "plot-area-\(Int(marginLeft))-\(Int(marginTop))-\(Int(plotW))-\(Int(plotH))"
    svg += "<clipPath id=\"\(clipID)\"><rect x=\"\(f(marginLeft))\" y=\"\(f(marginTop))\" width=\"\(f(plotW))\" height=\"\(f(plotH))\"/></clipPath>\n"
    svg += "<g clip-path=\"url(#\(clipID))\" fill=\"none\" stroke-linejoin=\"round\" stroke-linecap=\"round\">\n"
    for s in series {
      let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
      var segment: [String] = []
      func flush() {
        if segment.count > 1 {
          svg += "<polyline points=\"\(segment.joined(separator: " "))\" stroke=\"\(s.color!)\" stroke-width=\"\(f(s.lineWidth))\"\(dash)/>\n"
        }
        segment.removeAll(keepingCapacity: true)
      }
      // Long series are thinned to at most two points (min and max) per pixel column, which keeps
      // the drawn envelope and the file small.
      for (x, y) in LinePlotSVG.thinned(s, logY: logY, columns: Int(plotW), px: px) {
        if isPlottable(x, y) { segment.append("\(f(px(x))),\(f(py(y)))") } else { flush() }
      }
      flush()
      if s.showsMarkers {
        for (x, y) in zip(s.x, s.y) where isPlottable(x, y) {
          svg += "<circle cx=\"\(f(px(x)))\" cy=\"\(f(py(y)))\" r=\"2.6\" fill=\"\(s.color!)\" stroke=\"none\"/>\n"
        }
      }
    }
    svg += "</g>\n"
    // Legend, in rows above the plot area.
    let layout = legendLayout()
    let legendTop = (title == nil ? 14.0 : 42.0)
    for (i, s) in series.enumerated() {
      let (row, x) = layout.positions[i]
      let y = legendTop + Double(row) * 18 + 9
      let dash = s.dash.map { " stroke-dasharray=\"\($0)\"" } ?? ""
      svg += "<line x1=\"\(f(marginLeft + x))\" y1=\"\(f(y))\" x2=\"\(f(marginLeft + x + 22))\" y2=\"\(f(y))\" stroke=\"\(s.color!)\" stroke-width=\"\(f(max(s.lineWidth, 2)))\"\(dash)/>\n"
      svg += "<text x=\"\(f(marginLeft + x + 28))\" y=\"\(f(y + 4))\" font-size=\"12\" fill=\"#222\">\(escape(s.label))</text>\n"
    }
    svg += "</svg>\n"
    return svg
  }

  private func isPlottable(_ x: Double, _ y: Double) -> Bool {
    x.isFinite && y.isFinite && (!logY || y > 0)
  }

  /// Legend entries flowed left to right, wrapping to new rows: (row, x offset) per series.
  private func legendLayout() -> (rows: Int, positions: [(Int, Double)]) {
    let available = Double(width) - 78 - 24
    var row = 0, x = 0.0
    var positions: [(Int, Double)] = []
    for s in series {
      let w = 28 + Double(s.label.count) * 6.8 + 22
      if x > 0 && x + w > available {
        row += 1
        x = 0
      }
      positions.append((row, x))
      x += w
    }
    return (series.isEmpty ? 0 : row + 1, positions)
  }

  // MARK: - Ticks and numbers

  /// Ticks at multiples of a "nice" step (1, 2, 2.5 or 5 × 10ⁿ) covering [min, max] with about
  /// `target` intervals.
  static func niceTicks(min lo: Double, max hi: Double, target: Int) -> (values: [Double], step: Double) {
    guard lo.isFinite, hi.isFinite, hi > lo else { return ([lo], 1) }
    let rough = (hi - lo) / Double(max(target, 1))
    let magnitude = pow(10, (log10(rough)).rounded(.down))
    let residual = rough / magnitude
    let nice: Double = residual <= 1 ? 1 : residual <= 2 ? 2 : residual <= 2.5 ? 2.5 : residual <= 5 ? 5 : 10
    let step = nice * magnitude
    let first = (lo / step).rounded(.down) * step
    let last = (hi / step).rounded(.up) * step
    var values: [Double] = []
    var k = 0
    while true {
      let v = first + Double(k) * step
      if v > last + step * 1e-9 || k > 1000 { break }
      values.append(abs(v) < step * 1e-9 ? 0 : v)
      k += 1
    }
    return (values, step)
  }

  /// Powers of ten spanning [min, max] (with 2 and 5 between them when there are few decades,
  /// every k-th power when there are more than ten).
  static func logTicks(min lo: Double, max hi: Double) -> (values: [Double], step: Double) {
    guard lo > 0, hi > lo, hi.isFinite else { return ([max(lo, 1e-300)], 1) }
    let a = Int(log10(lo).rounded(.down)), b = Int(log10(hi).rounded(.up))
    // Over many decades, every k-th power of ten only (at most about ten labels).
    let every = max(1, (b - a + 9) / 10)
    var values: [Double] = []
    for e in stride(from: a, through: max(a, b), by: every) {
      let p = pow(10, Double(e))
      values.append(p)
      if b - a <= 2 && e < b { values.append(2 * p); values.append(5 * p) }
    }
    return (values.filter { $0 >= lo / 10 && $0 <= hi * 10 }, 10)
  }

  /// A tick label with the decimals the step needs (no "1999.0000001").
  static func format(_ v: Double, step: Double) -> String {
    if v == 0 { return "0" }
    let av = abs(v)
    if av >= 1e6 || av < 1e-4 { return String(format: "%.3g", v) }
    var decimals = max(0, Int((-log10(step)).rounded(.up)))
    if abs(step * pow(10, Double(decimals)) - (step * pow(10, Double(decimals))).rounded()) > 1e-6 { decimals += 1 }
    return String(format: "%.\(min(decimals, 8))f", v)
  }

  static func formatLog(_ v: Double) -> String {
    let e = log10(v)
    if abs(e - e.rounded()) < 1e-9 && (e < -3 || e > 4) { return "1e\(Int(e.rounded()))" }
    return String(format: "%g", v)
  }

  /// One decimal, fast (String(format:) is slow for tens of thousands of coordinates).
  private func f(_ v: Double) -> String {
    guard v.isFinite, abs(v) < 1e9 else { return "0" }
    let tenths = Int((v * 10).rounded())
    let sign = tenths < 0 ? "-" : ""
    let a = abs(tenths)
    return "\(sign)\(a / 10).\(a % 10)"
  }

  /// The points of `s`, thinned to the first and last point plus the minimum and maximum of each
  /// pixel column when there are more than four points per column; gaps (non-plottable points)
  /// are kept as NaN breaks.
  static func thinned(_ s: Series, logY: Bool, columns: Int, px: (Double) -> Double) -> [(Double, Double)] {
    let points = Array(zip(s.x, s.y))
    guard columns > 0, points.count > 4 * columns else { return points }
    var out: [(Double, Double)] = []
    out.reserveCapacity(4 * columns)
    var bucket: Int? = nil
    var lo: (Double, Double)? = nil, hi: (Double, Double)? = nil, first: (Double, Double)? = nil, last: (Double, Double)? = nil
    func emit() {
      guard let f = first, let l = last, let a = lo, let b = hi else { return }
      var group = [f, a, b, l]
      group.sort { $0.0 < $1.0 }
      var previous: (Double, Double)? = nil
      for p in group where previous.map({ $0 != p }) ?? true {
        out.append(p)
        previous = p
      }
    }
    for (x, y) in points {
      let ok = x.isFinite && y.isFinite && (!logY || y > 0)
      if !ok {
        emit()
        out.append((x, .nan))
        bucket = nil; lo = nil; hi = nil; first = nil; last = nil
        continue
      }
      let b = Int(px(x).rounded(.down))
      if b != bucket {
        emit()
        bucket = b
        lo = (x, y); hi = (x, y); first = (x, y)
      }
      if y < lo!.1 { lo = (x, y) }
      if y > hi!.1 { hi = (x, y) }
      last = (x, y)
    }
    emit()
    return out
  }

  private func escape(_ s: String) -> String {
    s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }
}
