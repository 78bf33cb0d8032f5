import Foundation

/// Attention weights as a self-contained SVG: one panel per example, columns the source tokens,
/// rows the output tokens (the end token last), each cell shaded by its weight — the house style of
/// `ConfusionMatrixSVG` (system sans-serif, a title).
enum AttentionHeatMap {
  /// One example: its source and output tokens and one row of weights per output token.
  struct Panel {
    var source: [String]
    var output: [String]
    var weights: [[Float]]
  }

  static func svg(_ panels: [Panel]) -> String {
    let cell = 22.0, gap = 40.0, top = 56.0
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    let label = 10.0 + 7.5 * Double(panels.flatMap(\.output).map(\.count).max() ?? 1)
    let width = panels.map { label + cell * Double($0.source.count) + gap }.max() ?? 200
    var y = top
    var body: [String] = []
    for p in panels {
      let left = 20 + label
      for (s, token) in p.source.enumerated() {
        body.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"#222\">%@</text>",
                           left + (Double(s) + 0.5) * cell, y + 14, esc(token)))
      }
      y += 20
      for (r, token) in p.output.enumerated() {
        body.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\" fill=\"#222\">%@</text>",
                           left - 6, y + Double(r) * cell + 15, esc(token)))
        let row = r < p.weights.count ? p.weights[r] : []
        for s in 0..<p.source.count {
          let w = Double(s < row.count ? row[s] : 0)
          let shade = Int((1 - w) * 255)
          body.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"rgb(%d,%d,255)\" stroke=\"#ddd\"><title>%.3f</title></rect>",
                             left + Double(s) * cell, y + Double(r) * cell, cell, cell, shade, shade, w))
        }
      }
      y += Double(p.output.count) * cell + gap
    }
    var svg = [String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\">",
                      max(width, 320), y, max(width, 320), y)]
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
    svg.append("<text x=\"20\" y=\"26\" font-size=\"15\" font-weight=\"600\" fill=\"#222\">Attention weights</text>")
    svg.append("<text x=\"20\" y=\"44\" font-size=\"12\" fill=\"#555\">columns: source tokens · rows: output tokens · darker = more weight</text>")
    svg += body
    svg.append("</svg>")
    return svg.joined(separator: "\n") + "\n"
  }
}
