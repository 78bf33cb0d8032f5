import Foundation

/// How well predicted classes match true ones: accuracy, per-class precision, recall and F1,
/// their unweighted mean (macro-F1) and the confusion matrix.
public struct ClassificationMetrics: Sendable, Equatable, Codable {
  /// `confusion[true][predicted]`: how many sequences of each true class got each prediction.
  public let confusion: [[Int]]

  /// The metrics of `predicted` against `actual` (class indices in `0..<classCount`).
  public init(predicted: [Int], actual: [Int], classCount: Int) {
    precondition(predicted.count == actual.count, "ClassificationMetrics: \(predicted.count) predictions for \(actual.count) labels")
    var m = [[Int]](repeating: [Int](repeating: 0, count: classCount), count: classCount)
    for (p, a) in zip(predicted, actual) { m[a][p] += 1 }
    confusion = m
  }

  /// The metrics of a confusion matrix (`confusion[true][predicted]` counts, square).
  public init(confusion: [[Int]]) {
    precondition(confusion.allSatisfy { $0.count == confusion.count }, "ClassificationMetrics: the confusion matrix is not square")
    self.confusion = confusion
  }

  /// The number of classes.
  public var classCount: Int { confusion.count }
  /// The number of sequences counted.
  public var total: Int { confusion.joined().reduce(0, +) }
  /// The fraction predicted right (0 when nothing was counted).
  public var accuracy: Double {
    let right = (0..<classCount).reduce(0) { $0 + confusion[$1][$1] }
    return total == 0 ? 0 : Double(right) / Double(total)
  }
  /// Sequences of class `c` (the row sum).
  public func support(_ c: Int) -> Int { confusion[c].reduce(0, +) }
  /// Of the sequences predicted `c`, the fraction that are `c` (0 when none was predicted `c`).
  public func precision(_ c: Int) -> Double {
    let predicted = (0..<classCount).reduce(0) { $0 + confusion[$1][c] }
    return predicted == 0 ? 0 : Double(confusion[c][c]) / Double(predicted)
  }
  /// Of the sequences of class `c`, the fraction predicted `c` (0 when there are none).
  public func recall(_ c: Int) -> Double {
    support(c) == 0 ? 0 : Double(confusion[c][c]) / Double(support(c))
  }
  /// The harmonic mean of precision and recall of class `c` (0 when both are 0).
  public func f1(_ c: Int) -> Double {
    let p = precision(c), r = recall(c)
    return p + r == 0 ? 0 : 2 * p * r / (p + r)
  }
  /// The unweighted mean of the per-class F1 over the classes that occur (in truth or prediction).
  public var macroF1: Double {
    let present = (0..<classCount).filter { c in support(c) > 0 || (0..<classCount).contains { confusion[$0][c] > 0 } }
    return present.isEmpty ? 0 : present.map(f1).reduce(0, +) / Double(present.count)
  }

  /// A text report: the per-class table (precision, recall, F1, support), accuracy and macro-F1,
  /// then the confusion matrix (rows true, columns predicted).
  public func table(labelNames: [String]) -> String {
    let names = (0..<classCount).map { $0 < labelNames.count ? labelNames[$0] : "\($0)" }
    let w = Swift.max(9, names.map(\.count).max() ?? 0)
    func pad(_ s: String, _ n: Int, left: Bool = false) -> String {
      let fill = String(repeating: " ", count: Swift.max(0, n - s.count))
      return left ? s + fill : fill + s
    }
    var lines = [pad("class", w, left: true) + "  precision  recall      f1  support"]
    for c in 0..<classCount {
      lines.append(pad(names[c], w, left: true) + String(format: "  %9.4f  %6.4f  %6.4f  %7d", precision(c), recall(c), f1(c), support(c)))
    }
    lines.append(pad("accuracy", w, left: true) + String(repeating: " ", count: 21) + String(format: "%6.4f  %7d", accuracy, total))
    lines.append(pad("macro-F1", w, left: true) + String(repeating: " ", count: 21) + String(format: "%6.4f", macroF1))
    lines.append("")
    lines.append("confusion (rows: true, columns: predicted)")
    let cw = Swift.max(6, names.map(\.count).max() ?? 0, String(confusion.joined().max() ?? 0).count)
    lines.append(pad("", w) + "  " + names.map { pad($0, cw) }.joined(separator: " "))
    for c in 0..<classCount {
      lines.append(pad(names[c], w, left: true) + "  " + confusion[c].map { pad(String($0), cw) }.joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }
}
