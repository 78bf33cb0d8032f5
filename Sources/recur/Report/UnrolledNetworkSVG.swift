import Foundation

/// The recurrent network unrolled over time, drawn from a model's configuration: the same cell at
/// steps 1, 2, 3 … T, each reading its input from below and passing its state (h, and c for an
/// LSTM) to the right, with the read-out above every step or only the last.
struct UnrolledNetworkSVG {
  /// "LSTM", "GRU", "tanh RNN".
  var cellName: String
  var hiddenSize: Int
  var numLayers = 1
  /// Whether the state includes the LSTM's cell state c.
  var carriesCellState: Bool
  /// E.g. "(value, marker)" — shown under x_t.
  var inputDescription: String
  var inputSize: Int
  /// E.g. "ŷ = 0.5 + (X₁+X₂)/4" — what the read-out gives.
  var outputDescription: String
  var outputSize: Int
  /// Read-out at every step (copy) or only the last (adding).
  var readsEveryStep: Bool
  /// T (the number of steps drawn as "…").
  var steps: Int
  var width = 900
  var height = 330

  func render() -> String {
    // Steps drawn: 1, 2, 3, …, T (all of them when T ≤ 4).
    let shown: [Int?] = steps <= 4 ? (1...steps).map { $0 } : [1, 2, 3, nil, steps]
    let left = 110.0, right = 40.0
    let slot = (Double(width) - left - right) / Double(shown.count)
    let cellY = 130.0, cellH = 64.0, cellW = Swift.min(120, slot * 0.62)
    let inputY = 262.0, outputY = 40.0
    var svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(width)\" height=\"\(height)\" viewBox=\"0 0 \(width) \(height)\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\">\n"
    svg += "<title>\(xmlEscaped("The \(cellName) unrolled over \(steps) steps"))</title>\n"
    svg += "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n"
    svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
    func arrow(_ x1: Double, _ y1: Double, _ x2: Double, _ y2: Double, dash: Bool = false, colour: String = "#333") -> String {
      "<line x1=\"\(fmt(x1))\" y1=\"\(fmt(y1))\" x2=\"\(fmt(x2))\" y2=\"\(fmt(y2))\" stroke=\"\(colour)\" stroke-width=\"1.6\"\(dash ? " stroke-dasharray=\"5 3\"" : "") marker-end=\"url(#arrow)\"/>\n"
    }
    func text(_ x: Double, _ y: Double, _ s: String, size: Int = 13, anchor: String = "middle", weight: String = "normal", colour: String = "#222") -> String {
      svgText(x, y, s, anchor: anchor, size: size, colour: colour, weight: weight)
    }
    let layers = numLayers > 1 ? "\(numLayers) × " : ""
    // Initial state.
    svg += text(left - 70, cellY + cellH / 2 - (carriesCellState ? 14 : -4), "h₀ = 0", size: 12, anchor: "start")
    if carriesCellState { svg += text(left - 70, cellY + cellH / 2 + 18, "c₀ = 0", size: 12, anchor: "start", colour: "#D55E00") }
    var previousRight = left - 8.0
    for (i, t) in shown.enumerated() {
      let cx = left + (Double(i) + 0.5) * slot
      let x = cx - cellW / 2
      guard let t else {
        svg += text(cx, cellY + cellH / 2 + 6, "…", size: 26)
        svg += text(cx, cellY + cellH + 26, "same weights", size: 11, colour: "#555")
        svg += text(cx, cellY + cellH + 40, "at every step", size: 11, colour: "#555")
        previousRight = cx + 14
        continue
      }
      // State arrows from the previous cell (or h₀).
      let hy = cellY + cellH / 2 - (carriesCellState ? 10 : 0), cy = cellY + cellH / 2 + 12
      svg += arrow(previousRight, hy, x - 2, hy)
      if carriesCellState { svg += arrow(previousRight, cy, x - 2, cy, dash: true, colour: "#D55E00") }
      if i > 0, shown[i - 1] != nil {
        let mid = (previousRight + x) / 2
        svg += text(mid, hy - 6, "h\(lowered(t - 1))", size: 12)
        if carriesCellState { svg += text(mid, cy + 16, "c\(lowered(t - 1))", size: 12, colour: "#D55E00") }
      }
      // The cell.
      svg += "<rect x=\"\(fmt(x))\" y=\"\(fmt(cellY))\" width=\"\(fmt(cellW))\" height=\"\(fmt(cellH))\" rx=\"8\" fill=\"#E6F1F8\" stroke=\"#0072B2\" stroke-width=\"1.6\"/>\n"
      svg += text(cx, cellY + 27, layers + cellName, size: 14, weight: "bold")
      svg += text(cx, cellY + 46, "\(hiddenSize) units", size: 12, colour: "#333")
      // Input.
      svg += arrow(cx, inputY - 16, cx, cellY + cellH + 2)
      svg += text(cx, inputY, "x" + (t == steps && steps > 4 ? "_T" : lowered(t)), size: 14)
      svg += text(cx, inputY + 18, "t = \(t)", size: 11, colour: "#555")
      // Read-out.
      if readsEveryStep || t == steps {
        svg += arrow(cx, cellY - 2, cx, outputY + 26)
        svg += "<rect x=\"\(fmt(cx - 34))\" y=\"\(fmt(outputY))\" width=\"68\" height=\"24\" rx=\"4\" fill=\"#FDF0E6\" stroke=\"#D55E00\"/>\n"
        svg += text(cx, outputY + 17, "ŷ" + (t == steps && steps > 4 ? "_T" : lowered(t)), size: 13)
      }
      previousRight = x + cellW + 2
    }
    // Legend line.
    svg += text(12, outputY + 14, "read-out", size: 12, anchor: "start", colour: "#D55E00")
    svg += text(12, outputY + 30, "Linear \(hiddenSize) → \(outputSize)", size: 11, anchor: "start", colour: "#555")
    svg += text(12, inputY, "input", size: 12, anchor: "start", colour: "#0072B2")
    svg += text(12, inputY + 16, "\(inputSize) values", size: 11, anchor: "start", colour: "#555")
    svg += text(Double(width) / 2, Double(height) - 8,
                "x_t: \(inputDescription)   ·   ŷ: \(outputDescription)" + (carriesCellState ? "   ·   solid: h_t (hidden state), dashed: c_t (cell state)" : "   ·   arrows: h_t (hidden state)"),
                size: 12, colour: "#333")
    return svg + "</svg>"
  }

  /// `n` in subscript digits.
  func lowered(_ n: Int) -> String {
    let digits: [Character] = ["₀", "₁", "₂", "₃", "₄", "₅", "₆", "₇", "₈", "₉"]
    return String(String(n).map { $0.wholeNumberValue.map { digits[$0] } ?? $0 })
  }
}
