import Foundation

/// Diagrams of the three cells (tanh RNN, LSTM, GRU) in PyTorch's formulation, drawn as inline SVG:
/// state lines left to right, the inputs h_{t−1} and x_t on a bus below, gates as boxes
/// (σ or tanh), pointwise products ⊗ and sums ⊕ as circles. The equations go beside them in HTML.
enum CellDiagramSVG {
  static let width = 460, height = 280

  static func lstm() -> String {
    var d = Drawing(title: "LSTM cell")
    d.container()
    d.line([(10, 60), (122, 60)], arrow: true); d.label(12, 52, "c_{t−1}", anchor: "start")
    d.line([(138, 60), (212, 60)], arrow: true)
    d.line([(228, 60), (440, 60)], arrow: true); d.label(446, 52, "c_t", anchor: "end")
    d.op(130, 60, "×"); d.op(220, 60, "+")
    d.bus(from: 10, to: 300, label: "h_{t−1}", inputX: 80)
    for (x, name, f) in [(130.0, "f", "σ"), (190.0, "i", "σ"), (245.0, "g", "tanh"), (300.0, "o", "σ")] {
      d.line([(x, 225), (x, 199)], arrow: true)
      d.gate(x, 185, f, name: name)
    }
    d.line([(130, 171), (130, 68)], arrow: true)
    d.op(220, 120, "×")
    d.line([(190, 171), (190, 120), (212, 120)], arrow: true)
    d.line([(245, 171), (245, 120), (228, 120)], arrow: true)
    d.line([(220, 112), (220, 68)], arrow: true)
    d.line([(340, 60), (340, 93)], arrow: true)
    d.gate(340, 105, "tanh", name: nil, rounded: true)
    d.line([(340, 117), (340, 142)], arrow: true)
    d.op(340, 150, "×")
    d.line([(300, 171), (300, 150), (332, 150)], arrow: true)
    d.line([(348, 150), (440, 150)], arrow: true); d.label(446, 142, "h_t", anchor: "end")
    return d.finish()
  }

  static func gru() -> String {
    var d = Drawing(title: "GRU cell")
    d.container()
    d.line([(10, 60), (192, 60)], arrow: true); d.label(12, 52, "h_{t−1}", anchor: "start")
    d.line([(208, 60), (327, 60)], arrow: true)
    d.line([(343, 60), (440, 60)], arrow: true); d.label(446, 52, "h_t", anchor: "end")
    d.op(200, 60, "×"); d.op(335, 60, "+")
    d.line([(50, 60), (50, 225)], arrow: false)
    d.bus(from: 50, to: 320, label: nil, inputX: 90)
    for (x, name, f) in [(130.0, "r", "σ"), (200.0, "z", "σ"), (320.0, "n", "tanh")] {
      d.line([(x, 225), (x, 199)], arrow: true)
      d.gate(x, 185, f, name: name, width: x == 320 ? 60 : 40)
    }
    d.line([(130, 171), (130, 145), (300, 145), (300, 169)], arrow: true)
    d.label(207, 160, "r ⊙ (W_{hn} h + b_{hn})", anchor: "start", size: 10, colour: "#555")
    d.line([(200, 171), (200, 68)], arrow: true)
    d.line([(200, 110), (258, 110)], arrow: true)
    d.op(270, 110, "1−", radius: 12)
    d.line([(282, 110), (327, 110)], arrow: true)
    d.op(335, 110, "×")
    d.line([(335, 171), (335, 118)], arrow: true)
    d.line([(335, 102), (335, 68)], arrow: true)
    return d.finish()
  }

  static func rnn() -> String {
    var d = Drawing(title: "tanh RNN cell")
    d.container()
    d.label(12, 222, "h_{t−1}", anchor: "start")
    d.bus(from: 10, to: 220, label: nil, inputX: 120)
    d.line([(220, 225), (220, 159)], arrow: true)
    d.gate(220, 145, "tanh", name: nil, width: 60)
    d.line([(220, 131), (220, 60), (440, 60)], arrow: true)
    d.label(446, 52, "h_t", anchor: "end")
    d.label(300, 130, "W_hh, W_ih, two biases", size: 11, colour: "#555")
    return d.finish()
  }

  /// A small SVG builder for the diagrams.
  struct Drawing {
    var svg: String

    init(title: String) {
      svg = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(CellDiagramSVG.width)\" height=\"\(CellDiagramSVG.height)\" viewBox=\"0 0 \(CellDiagramSVG.width) \(CellDiagramSVG.height)\" font-family=\"Helvetica, Arial, sans-serif\" role=\"img\">\n"
      svg += "<title>\(xmlEscaped(title))</title>\n"
      svg += "<defs><marker id=\"cellarrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"6\" markerHeight=\"6\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#333\"/></marker></defs>\n"
      svg += "<rect width=\"100%\" height=\"100%\" fill=\"#ffffff\"/>\n"
      svg += "<text x=\"230\" y=\"18\" text-anchor=\"middle\" font-size=\"14\" font-weight=\"bold\" fill=\"#222\">\(xmlEscaped(title))</text>\n"
    }

    mutating func container() {
      svg += "<rect x=\"36\" y=\"32\" width=\"368\" height=\"214\" rx=\"12\" fill=\"#F4F8FB\" stroke=\"#0072B2\" stroke-width=\"1.2\"/>\n"
    }

    mutating func line(_ points: [(Double, Double)], arrow: Bool) {
      let p = points.map { "\(fmt($0.0)),\(fmt($0.1))" }.joined(separator: " ")
      svg += "<polyline points=\"\(p)\" fill=\"none\" stroke=\"#333\" stroke-width=\"1.5\"\(arrow ? " marker-end=\"url(#cellarrow)\"" : "")/>\n"
    }

    /// The inputs: h_{t−1} from the left along y = 225 and x_t from below at `inputX`.
    mutating func bus(from x0: Double, to x1: Double, label: String?, inputX: Double) {
      if let label { self.label(12, 219, label, anchor: "start") }
      line([(x0, 225), (x1, 225)], arrow: false)
      line([(inputX, 272), (inputX, 229)], arrow: true)
      self.label(inputX + 8, 266, "x_t", anchor: "start")
      svg += "<circle cx=\"\(fmt(inputX))\" cy=\"225\" r=\"3\" fill=\"#333\"/>\n"
    }

    mutating func gate(_ x: Double, _ y: Double, _ function: String, name: String?, width: Double = 40, rounded: Bool = false) {
      let fill = function == "σ" ? "#FDF0E6" : "#E6F4EF", stroke = function == "σ" ? "#D55E00" : "#009E73"
      svg += "<rect x=\"\(fmt(x - width / 2))\" y=\"\(fmt(y - 12))\" width=\"\(fmt(width))\" height=\"24\" rx=\"\(rounded ? 12 : 3)\" fill=\"\(fill)\" stroke=\"\(stroke)\"/>\n"
      label(x, y + 5, function, size: 13)
      if let name { label(x + width / 2 + 4, y - 10, name, anchor: "start", size: 13, colour: stroke, italic: true) }
    }

    mutating func op(_ x: Double, _ y: Double, _ symbol: String, radius: Double = 8) {
      svg += "<circle cx=\"\(fmt(x))\" cy=\"\(fmt(y))\" r=\"\(fmt(radius))\" fill=\"#ffffff\" stroke=\"#333\" stroke-width=\"1.3\"/>\n"
      label(x, y + 4.5, symbol, size: symbol.count > 1 ? 11 : 14)
    }

    mutating func label(_ x: Double, _ y: Double, _ text: String, anchor: String = "middle", size: Int = 13, colour: String = "#222", italic: Bool = false) {
      svg += svgText(x, y, text, anchor: anchor, size: size, colour: colour, italic: italic)
    }

    func finish() -> String { svg + "</svg>" }
  }
}

/// A `<text>` element; `_{…}` and `_x` (a run of letters and digits) become subscripts.
func svgText(_ x: Double, _ y: Double, _ text: String, anchor: String = "middle", size: Int = 13, colour: String = "#222",
             italic: Bool = false, weight: String = "normal") -> String {
  var body = "", i = text.startIndex
  while i < text.endIndex {
    if text[i] == "_", text.index(after: i) < text.endIndex {
      var j = text.index(after: i)
      let sub: Substring
      if text[j] == "{", let close = text[j...].firstIndex(of: "}") {
        sub = text[text.index(after: j)..<close]
        j = text.index(after: close)
      } else {
        let end = text[j...].firstIndex(where: { !$0.isLetter && !$0.isNumber }) ?? text.endIndex
        sub = text[j..<end]
        j = end
      }
      body += "<tspan baseline-shift=\"sub\" font-size=\"\(size - 3)\">\(xmlEscaped(String(sub)))</tspan>"
      i = j
    } else {
      body += xmlEscaped(String(text[i]))
      i = text.index(after: i)
    }
  }
  return "<text x=\"\(fmt(x))\" y=\"\(fmt(y))\" text-anchor=\"\(anchor)\" font-size=\"\(size)\" font-weight=\"\(weight)\" fill=\"\(colour)\""
    + (italic ? " font-style=\"italic\"" : "") + ">\(body)</text>\n"
}
