import Foundation

/// A heat map as inline SVG: rows × columns of positive values on a logarithmic colour scale
/// (viridis, readable with every common colour-vision deficiency and in grey), with labelled axes
/// and a colour bar whose ticks are powers of ten. Values at or below the scale's floor (including
/// zeros, e.g. a norm that underflowed) take the darkest colour, and the bar says "≤".
struct HeatMapSVG {
  var title: String
  var xLabel: String
  var yLabel: String
  /// The x coordinate of each column (e.g. time steps), increasing and evenly spaced.
  var columns: [Double]
  /// The label of each row, drawn top to bottom (e.g. training steps).
  var rows: [Int]
  /// `values[row][column]`.
  var values: [[Double]]
  /// log10 of the colour scale's ends.
  var logRange: ClosedRange<Double>
  var colorLabel: String
  var width = 440
  var height = 330

  /// Viridis at 9 stops.
  static let viridis: [(Double, Double, Double)] = [
    (68, 1, 84), (71, 44, 122), (59, 81, 139), (44, 113, 142), (33, 144, 141), (39, 173, 129), (92, 200, 99), (170, 220, 50), (253, 231, 37),
  ]

  /// The colour of `u` in [0, 1] on the viridis scale.
  static func color(_ u: Double) -> String {
    let x = Swift.min(1, Swift.max(0, u.isFinite ? u : 0)) * Double(viridis.count - 1)
    let i = Swift.min(viridis.count - 2, Int(x)), w = x - Double(i)
    let (a, b) = (viridis[i], viridis[i + 1])
    func c(_ p: Double, _ q: Double) -> Int { Int((p + (q - p) * w).rounded()) }
    return String(format: "#%02x%02x%02x", c(a.0, b.0), c(a.1, b.1), c(a.2, b.2))
  }

  func render() -> String {
    let left = 70.0, right = 96.0, top = 40.0, bottom = 50.0
    let plotW = Double(width) - left - right, plotH = Double(height) - top - bottom
    let nx = columns.count, ny = rows.count
    let lo = logRange.lowerBound, hi = logRange.upperBound
    func u(_ v: Double) -> Double { v > 0 ? (log10(v) - lo) / (hi - lo) : 0 }
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\">\n"
    svg += "<title>\(xmlEscaped(title))</title>\n<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    svg += "<text x=\"\(fmt(left + plotW / 2))\" y=\"22\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">\(xmlEscaped(title))</text>\n"
    guard nx > 0, ny > 0 else { return svg + "<text x=\"\(fmt(left))\" y=\"\(fmt(top + 20))\" font-size=\"12\">no gradient snapshots recorded</text>\n</svg>" }
    // Cells: columns are evenly spaced, each row is one band.
    let cw = plotW / Double(nx), rh = plotH / Double(ny)
    svg += "<g shape-rendering=\"crispEdges\">\n"
    for r in 0..<ny {
      let y = top + Double(r) * rh
      var c = 0
      while c < nx {
        // Merge neighbouring cells of the same colour into one rectangle.
        let colour = Self.color(u(values[r][c]))
        var end = c + 1
        while end < nx, Self.color(u(values[r][end])) == colour { end += 1 }
        svg += "<rect x=\"\(fmt(left + Double(c) * cw))\" y=\"\(fmt(y))\" width=\"\(fmt(Double(end - c) * cw + 0.3))\" height=\"\(fmt(rh + 0.3))\" fill=\"\(colour)\"/>\n"
        c = end
      }
    }
    svg += "</g>\n<rect x=\"\(fmt(left))\" y=\"\(fmt(top))\" width=\"\(fmt(plotW))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
    // x axis: time steps.
    let x0 = columns.first!, x1 = columns.last!
    let span = Swift.max(x1 - x0, 1)
    for v in LinePlotSVG.niceTicks(min: x0, max: x1, target: 5).values where v >= x0 && v <= x1 {
      let x = left + (v - x0) / span * (plotW - cw) + cw / 2
      svg += "<line x1=\"\(fmt(x))\" y1=\"\(fmt(top + plotH))\" x2=\"\(fmt(x))\" y2=\"\(fmt(top + plotH + 5))\" stroke=\"#444\"/>\n"
      svg += "<text x=\"\(fmt(x))\" y=\"\(fmt(top + plotH + 18))\" text-anchor=\"middle\" font-size=\"11\" fill=\"#333\">\(Int(v))</text>\n"
    }
    svg += "<text x=\"\(fmt(left + plotW / 2))\" y=\"\(fmt(Double(height) - 10))\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\">\(xmlEscaped(xLabel))</text>\n"
    // y axis: a few row labels.
    let every = Swift.max(1, Int((Double(ny) / 6).rounded(.up)))
    for r in stride(from: 0, to: ny, by: every) + (ny > 1 && (ny - 1) % every != 0 ? [ny - 1] : []) {
      let y = top + (Double(r) + 0.5) * rh
      svg += "<text x=\"\(fmt(left - 6))\" y=\"\(fmt(y + 4))\" text-anchor=\"end\" font-size=\"11\" fill=\"#333\">\(LinePlotSVG.format(Double(rows[r]), step: 1))</text>\n"
    }
    svg += "<text transform=\"translate(16 \(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\">\(xmlEscaped(yLabel))</text>\n"
    // Colour bar.
    let bx = left + plotW + 18, bw = 14.0
    let steps = 32
    for i in 0..<steps {
      let y = top + plotH - Double(i + 1) * plotH / Double(steps)
      svg += "<rect x=\"\(fmt(bx))\" y=\"\(fmt(y))\" width=\"\(fmt(bw))\" height=\"\(fmt(plotH / Double(steps) + 0.3))\" fill=\"\(Self.color((Double(i) + 0.5) / Double(steps)))\"/>\n"
    }
    svg += "<rect x=\"\(fmt(bx))\" y=\"\(fmt(top))\" width=\"\(fmt(bw))\" height=\"\(fmt(plotH))\" fill=\"none\" stroke=\"#444\"/>\n"
    let decades = Int((hi - lo).rounded())
    let tickEvery = Swift.max(1, Int((Double(decades) / 6).rounded(.up)))
    for e in stride(from: Int(lo.rounded()), through: Int(hi.rounded()), by: tickEvery) {
      let y = top + plotH - (Double(e) - lo) / (hi - lo) * plotH
      let label = (e == Int(lo.rounded()) ? "≤ " : "") + "1e\(e)"
      svg += "<line x1=\"\(fmt(bx + bw))\" y1=\"\(fmt(y))\" x2=\"\(fmt(bx + bw + 4))\" y2=\"\(fmt(y))\" stroke=\"#444\"/>\n"
      svg += "<text x=\"\(fmt(bx + bw + 6))\" y=\"\(fmt(y + 4))\" font-size=\"11\" fill=\"#333\">\(xmlEscaped(label))</text>\n"
    }
    svg += "<text transform=\"translate(\(fmt(Double(width) - 6)) \(fmt(top + plotH / 2))) rotate(-90)\" text-anchor=\"middle\" font-size=\"12\" fill=\"#222\">\(xmlEscaped(colorLabel))</text>\n"
    return svg + "</svg>"
  }
}

/// `s` with the five XML special characters escaped (for SVG and HTML text and attributes).
func xmlEscaped(_ s: String) -> String {
  s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
    .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;").replacingOccurrences(of: "'", with: "&#39;")
}

/// A coordinate with one decimal.
func fmt(_ v: Double) -> String { String(format: "%.1f", v.isFinite ? v : 0) }
