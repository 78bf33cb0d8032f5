/// How well a network answers a set of long-memory sequences.
public struct LongMemoryScore: Sendable, Equatable, Codable {
  /// Sequences scored.
  public var sequences: Int
  /// Mean loss: squared error per sequence (adding) or cross-entropy per step (copy), nats.
  public var loss: Double
  /// Fraction of sequences answered right (adding: |error| < 0.04; copy: all ten symbols).
  public var accuracy: Double
  /// Copy task: fraction of recalled symbols right (nil for the adding problem).
  public var symbolAccuracy: Double?

  /// A score from its parts.
  public init(sequences: Int, loss: Double, accuracy: Double, symbolAccuracy: Double?) {
    self.sequences = sequences
    self.loss = loss
    self.accuracy = accuracy
    self.symbolAccuracy = symbolAccuracy
  }

  /// The score of `output` (the network's answers to `batch`: `[B, 1]` sums or `[steps·B, 10]` scores).
  init(problem: LongMemoryProblem, output: Tensor, batch: LongMemoryBatch) {
    let b = batch.count
    switch problem {
    case .adding:
      let y = output.scalars
      var squared = 0.0, right = 0
      for i in 0..<b {
        let e = y[i] - batch.values[i]
        squared += Double(e * e)
        if abs(e) < AddingProblem.tolerance { right += 1 }
      }
      self.init(sequences: b, loss: squared / Double(b), accuracy: Double(right) / Double(b), symbolAccuracy: nil)
    case .copy:
      let loss = Double(crossEntropy(logits: output, targets: batch.symbols).item)
      let predicted = output.argmax(axis: -1)
      let steps = batch.inputs.shape[0], r = CopyMemory.recallLength
      var symbolsRight = 0, sequencesRight = 0
      for s in 0..<b {
        var all = true
        for t in (steps - r)..<steps {
          if predicted[t * b + s] == batch.symbols[t * b + s] { symbolsRight += 1 } else { all = false }
        }
        if all { sequencesRight += 1 }
      }
      self.init(sequences: b, loss: loss, accuracy: Double(sequencesRight) / Double(b),
                symbolAccuracy: Double(symbolsRight) / Double(b * r))
    }
  }

  /// Merges the score of further sequences (means weighted by sequence count).
  mutating func add(_ other: LongMemoryScore) {
    let n = Double(sequences), m = Double(other.sequences), total = n + m
    guard total > 0 else { return }
    loss = (loss * n + other.loss * m) / total
    accuracy = (accuracy * n + other.accuracy * m) / total
    if let s = symbolAccuracy, let o = other.symbolAccuracy { symbolAccuracy = (s * n + o * m) / total }
    sequences += other.sequences
  }

  /// The score as the trainer's evaluation (`accuracy`, and `symbol_accuracy` for the copy task).
  public var evaluation: Evaluation {
    var metrics = ["accuracy": accuracy]
    if let symbolAccuracy { metrics["symbol_accuracy"] = symbolAccuracy }
    return Evaluation(loss: loss, metrics: metrics)
  }
}
