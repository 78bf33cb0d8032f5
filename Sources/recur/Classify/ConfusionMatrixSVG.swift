import Foundation
import Recur

/// A confusion matrix as a self-contained SVG heat map: rows the true classes, columns the
/// predicted ones, each cell shaded by its share of its row (recall) and labelled with its count,
/// in the house style of `LinePlotSVG` (system sans-serif, a title, axis titles).
struct ConfusionMatrixSVG {
  var title: String
  var labelNames: [String]
  var metrics: ClassificationMetrics

  func document() -> String {
    let n = metrics.classCount
    let cell = n <= 6 ? 64.0 : max(24.0, 384.0 / Double(n))
    let labelWidth = 12.0 + 7.0 * Double(labelNames.map(\.count).max() ?? 1)
    let left = 40 + labelWidth, top = 70.0
    let width = left + cell * Double(n) + 30, height = top + cell * Double(n) + labelWidth + 40
    func esc(_ s: String) -> String {
      s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
    var svg = [String(format: "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" viewBox=\"0 0 %.0f %.0f\" font-family=\"system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif\">", width, height, width, height)]
    svg.append("<rect width=\"100%\" height=\"100%\" fill=\"white\"/>")
    svg.append(String(format: "<text x=\"%.1f\" y=\"26\" font-size=\"15\" font-weight=\"600\" fill=\"#222\">%@</text>", left, esc(title)))
    svg.append(String(format: "<text x=\"%.1f\" y=\"46\" font-size=\"12\" fill=\"#555\">accuracy %.4f · macro-F1 %.4f · %d items</text>",
                      left, metrics.accuracy, metrics.macroF1, metrics.total))
    for r in 0..<n {
      let support = Double(max(metrics.support(r), 1))
      for c in 0..<n {
        let count = metrics.confusion[r][c], share = Double(count) / support
        let x = left + Double(c) * cell, y = top + Double(r) * cell
        // Okabe–Ito blue (#0072B2) blended with white by the row share.
        let rgb = [0, 114, 178].map { Int(255 - (255 - Double($0)) * share) }
        svg.append(String(format: "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"rgb(%d,%d,%d)\" stroke=\"#ccc\"/>",
                          x, y, cell, cell, rgb[0], rgb[1], rgb[2]))
        svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"%.0f\" text-anchor=\"middle\" fill=\"%@\">%d</text>",
                          x + cell / 2, y + cell / 2 + 4, min(13, cell / 3), share > 0.55 ? "white" : "#222", count))
      }
      svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\">%@</text>",
                        left - 6, top + (Double(r) + 0.5) * cell + 4, esc(labelNames[r])))
      let cx = left + (Double(r) + 0.5) * cell, cy = top + Double(n) * cell + 8
      svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\" fill=\"#333\" transform=\"rotate(-45 %.1f %.1f)\">%@</text>",
                        cx, cy + 8, cx, cy + 8, esc(labelNames[r])))
    }
    svg.append(String(format: "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\">predicted</text>",
                      left + cell * Double(n) / 2, height - 10))
    svg.append(String(format: "<text x=\"14\" y=\"%.1f\" font-size=\"12\" text-anchor=\"middle\" fill=\"#333\" transform=\"rotate(-90 14 %.1f)\">true</text>",
                      top + cell * Double(n) / 2, top + cell * Double(n) / 2))
    svg.append("</svg>")
    return svg.joined(separator: "\n") + "\n"
  }

  func write(to url: URL) throws { try Data(document().utf8).write(to: url, options: .atomic) }
}
