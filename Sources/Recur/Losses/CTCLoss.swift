import Foundation

/// Connectionist temporal classification loss (Graves et al. 2006) with the semantics of
/// `torch.nn.CTCLoss`: the negative log-likelihood of each target label sequence summed over
/// every alignment of it to the input frames (labels separated by optional blanks, repeats
/// collapsed, a blank required between two equal labels).
///
/// Shapes: `logProbs` `[T, B, C]` (log-probabilities over C classes, e.g. from `logSoftmax()`),
/// per-item `inputLengths` (≤ T) and targets with per-item lengths. Computed in log space by the
/// forward-backward algorithm, so long inputs neither underflow nor overflow. An item no alignment
/// can produce (its input is too short) has loss +∞, or 0 with `zeroInfinity`.
///
/// Reductions: `.none` gives the `[B]` losses; `.sum` their sum; `.mean` divides each loss by its
/// target length (at least 1) and averages over the batch, as PyTorch does.
///
/// **Gradient convention** (PyTorch's): the gradient this node passes to `logProbs` is
/// `exp(logProbs) − posterior` (per frame, class), scaled by the reduction — not the partial
/// derivative with respect to independent log-probabilities, but exactly the gradient with respect
/// to the logits that fed `logSoftmax()`, which is how CTC is used: back-propagated through
/// `logSoftmax()` the two agree. Frames at or past an item's input length get zero; an infinite
/// loss gets NaN gradients, or zeros with `zeroInfinity`. One tape node; the closed form, not
/// unrolled autodiff.
public struct CTCLoss: Sendable {
  /// The blank class index.
  public var blank: Int
  /// How the per-item losses are combined.
  public var reduction: Reduction
  /// Replace infinite losses (impossible alignments) and their gradients by zero.
  public var zeroInfinity: Bool

  /// A loss with `blank` (default 0), `reduction` (default `.mean`) and `zeroInfinity` (default false).
  public init(blank: Int = 0, reduction: Reduction = .mean, zeroInfinity: Bool = false) {
    self.blank = blank
    self.reduction = reduction
    self.zeroInfinity = zeroInfinity
  }

  /// The loss of padded targets: `targets[b]` holds at least `targetLengths[b]` labels (all of
  /// them when `targetLengths` is nil); labels past the length are ignored.
  /// - Throws: `CTCError` for inconsistent shapes, lengths or labels.
  public func callAsFunction(_ logProbs: Tensor, targets: [[Int]], inputLengths: [Int], targetLengths: [Int]? = nil) throws -> Tensor {
    let lengths = targetLengths ?? targets.map(\.count)
    guard lengths.count == targets.count else {
      throw CTCError.lengthCount(what: "target lengths", expected: targets.count, got: lengths.count)
    }
    for (b, (t, n)) in zip(targets, lengths).enumerated() where n < 0 || n > t.count {
      throw CTCError.targetLengthOutOfRange(item: b, length: n, available: t.count)
    }
    return try loss(logProbs, targets: zip(targets, lengths).map { Array($0.prefix($1)) }, inputLengths: inputLengths)
  }

  /// The loss of targets concatenated into one array, item b taking the next `targetLengths[b]` labels.
  /// - Throws: `CTCError` for inconsistent shapes, lengths or labels.
  public func callAsFunction(_ logProbs: Tensor, concatenatedTargets: [Int], inputLengths: [Int], targetLengths: [Int]) throws -> Tensor {
    guard targetLengths.allSatisfy({ $0 >= 0 }), targetLengths.reduce(0, +) == concatenatedTargets.count else {
      throw CTCError.concatenatedLength(total: concatenatedTargets.count, lengths: targetLengths.reduce(0, +))
    }
    var start = 0
    let targets = targetLengths.map { n in defer { start += n }; return Array(concatenatedTargets[start..<(start + n)]) }
    return try loss(logProbs, targets: targets, inputLengths: inputLengths)
  }

  private func loss(_ logProbs: Tensor, targets: [[Int]], inputLengths: [Int]) throws -> Tensor {
    let blank = self.blank, zeroInfinity = self.zeroInfinity
    guard logProbs.rank == 3 else { throw CTCError.logProbsShape(logProbs.shape) }
    let (T, B, C) = (logProbs.shape[0], logProbs.shape[1], logProbs.shape[2])
    guard blank >= 0 && blank < C else { throw CTCError.blankOutOfRange(blank: blank, classes: C) }
    guard inputLengths.count == B else { throw CTCError.lengthCount(what: "input lengths", expected: B, got: inputLengths.count) }
    guard targets.count == B else { throw CTCError.lengthCount(what: "targets", expected: B, got: targets.count) }
    for (b, n) in inputLengths.enumerated() where n < 0 || n > T {
      throw CTCError.inputLengthOutOfRange(item: b, length: n, frames: T)
    }
    for (b, target) in targets.enumerated() {
      if let bad = target.first(where: { $0 < 0 || $0 >= C || $0 == blank }) {
        throw CTCError.labelOutOfRange(item: b, label: bad, classes: C, blank: blank)
      }
    }
    let lp = logProbs.storage.pointer
    // Per item: the loss and the posterior-based gradient (unscaled), computed independently.
    var losses = [Double](repeating: 0, count: B)
    var gradient = [Float](repeating: 0, count: T * B * C)
    losses.withUnsafeMutableBufferPointer { lossBuffer in
      gradient.withUnsafeMutableBufferPointer { gradBuffer in
        let out = ItemOutputs(logProbs: lp, losses: lossBuffer.baseAddress!, gradient: gradBuffer.baseAddress!)
        let item: @Sendable (Int) -> Void = { b in
          let r = CTCAlignment(logProbs: out.logProbs, batch: B, classes: C, item: b, length: inputLengths[b],
                               target: targets[b], blank: blank)
          let infinite = !r.nll.isFinite
          out.losses[b] = infinite && zeroInfinity ? 0 : r.nll
          r.writeGradient(into: out.gradient, zero: infinite && zeroInfinity)
        }
        if B > 1 && T * B > 4096 {
          DispatchQueue.concurrentPerform(iterations: B, execute: item)
        } else {
          for b in 0..<B { item(b) }
        }
      }
    }
    let weights: [Double] = switch reduction {
    case .none, .sum: [Double](repeating: 1, count: B)
    case .mean: targets.map { 1 / (Double(Swift.max($0.count, 1)) * Double(B)) }
    }
    let out: Tensor = switch reduction {
    case .none: Tensor(shape: [B], scalars: losses.map { Float($0) })
    case .sum, .mean: Tensor(scalar: Float(zip(losses, weights).reduce(0.0) { $0 + $1.0 * $1.1 }))
    }
    let reduction = self.reduction
    return Tensor.record(out, op: "ctcLoss", inputs: [logProbs]) { g in
      var d = Tensor(uninitializedShape: [T, B, C])
      let pg = g.storage.pointer
      d.withUnsafeMutableBufferPointer { dp in
        for t in 0..<T {
          for b in 0..<B {
            let scale = Float(weights[b]) * (reduction == .none ? pg[b] : pg[0])
            let base = (t * B + b) * C
            for c in 0..<C { dp[base + c] = gradient[base + c] * scale }
          }
        }
      }
      return [d]
    }
  }
}

/// Where the items of one batch write: item b writes only `losses[b]` and its own gradient rows,
/// so items may run on several threads at once.
private struct ItemOutputs: @unchecked Sendable {
  let logProbs: UnsafePointer<Float>
  let losses: UnsafeMutablePointer<Double>
  let gradient: UnsafeMutablePointer<Float>
}

/// The forward-backward computation for one item: its negative log-likelihood and, per frame and
/// class, `exp(logProb) − posterior`.
///
/// The recursions run on probabilities rescaled twice per frame, which keeps them in range for any
/// length without a logarithm per cell: each frame's label probabilities are divided by their
/// largest (its log is added back to the likelihood), and α and β are renormalised to sum to 1
/// after every frame (the log of each sum is added back). The posterior of a frame is
/// α̂·β̂ / y normalised over the states, which the rescaling does not change.
struct CTCAlignment {
  let logProbs: UnsafePointer<Float>
  let batch: Int, classes: Int, item: Int, length: Int
  /// The label sequence with blanks around and between: blank, l1, blank, l2, …, blank.
  let extended: [Int]
  /// Rescaled α and β, `[length, extended.count]` row-major.
  var alpha: [Double], beta: [Double]
  /// Each frame's label probabilities divided by their largest, `[length, extended.count]`.
  var y: [Double]
  /// −log p(target | input); +∞ when no alignment exists.
  var nll: Double

  init(logProbs: UnsafePointer<Float>, batch: Int, classes: Int, item: Int, length: Int, target: [Int], blank: Int) {
    self.logProbs = logProbs
    self.batch = batch
    self.classes = classes
    self.item = item
    self.length = length
    var extended = [blank]
    for label in target { extended += [label, blank] }
    self.extended = extended
    let L = extended.count
    alpha = [Double](repeating: 0, count: length * L)
    beta = alpha
    y = alpha
    nll = .infinity
    guard length > 0 else {
      nll = target.isEmpty ? 0 : .infinity  // zero frames produce only the empty sequence
      return
    }
    var logLikelihood = 0.0
    let row = { (t: Int) in (t * batch + item) * classes }
    for t in 0..<length {
      var top = -Float.infinity
      for s in 0..<L { top = Swift.max(top, logProbs[row(t) + extended[s]]) }
      guard top > -.infinity else { return }
      logLikelihood += Double(top)
      for s in 0..<L { y[t * L + s] = Foundation.exp(Double(logProbs[row(t) + extended[s]] - top)) }
    }
    // Whether state s may be entered from s − 2 (skipping a blank between two different labels).
    let skip = (0..<L).map { s in s >= 2 && extended[s] != blank && extended[s] != extended[s - 2] }
    // Forward: α̂_t(s) ∝ (α̂_{t−1}(s) + α̂_{t−1}(s−1) [+ α̂_{t−1}(s−2)]) · y_t(s), summing to 1.
    for s in 0..<min(2, L) { alpha[s] = y[s] }
    guard Self.normalize(&alpha, row: 0, width: L, into: &logLikelihood) else { return }
    for t in 1..<length {
      let (now, before) = (t * L, (t - 1) * L)
      for s in 0..<L {
        var a = alpha[before + s]
        if s >= 1 { a += alpha[before + s - 1] }
        if skip[s] { a += alpha[before + s - 2] }
        alpha[now + s] = a * y[now + s]
      }
      guard Self.normalize(&alpha, row: t, width: L, into: &logLikelihood) else { return }
    }
    let last = (length - 1) * L
    let end = alpha[last + L - 1] + (L >= 2 ? alpha[last + L - 2] : 0)
    guard end > 0 else { return }
    nll = -(logLikelihood + Foundation.log(end))
    // Backward, rescaled the same way (its scale factors are not needed: posteriors are normalised).
    for s in Swift.max(0, L - 2)..<L { beta[last + s] = y[last + s] }
    var unused = 0.0
    _ = Self.normalize(&beta, row: length - 1, width: L, into: &unused)
    for t in stride(from: length - 2, through: 0, by: -1) {
      let (now, after) = (t * L, (t + 1) * L)
      for s in 0..<L {
        var b = beta[after + s]
        if s + 1 < L { b += beta[after + s + 1] }
        if s + 2 < L && skip[s + 2] { b += beta[after + s + 2] }
        beta[now + s] = b * y[now + s]
      }
      _ = Self.normalize(&beta, row: t, width: L, into: &unused)
    }
  }

  /// Divides row `row` of `values` by its sum and adds the sum's log to `logScale`; false when the
  /// sum is 0 (no alignment reaches this frame).
  private static func normalize(_ values: inout [Double], row: Int, width: Int, into logScale: inout Double) -> Bool {
    var sum = 0.0
    for s in 0..<width { sum += values[row * width + s] }
    guard sum > 0 else { return false }
    let inverse = 1 / sum
    for s in 0..<width { values[row * width + s] *= inverse }
    logScale += Foundation.log(sum)
    return true
  }

  /// Writes `exp(lp) − posterior` for frames before the input length (NaN for an infinite loss
  /// unless `zero`); later frames and zeroed items stay 0.
  func writeGradient(into out: UnsafeMutablePointer<Float>, zero: Bool) {
    guard !zero else { return }
    let L = extended.count
    var posterior = [Double](repeating: 0, count: classes)
    var occupancy = [Double](repeating: 0, count: L)
    for t in 0..<length {
      let base = (t * batch + item) * classes
      guard nll.isFinite else {
        for c in 0..<classes { out[base + c] = .nan }
        continue
      }
      for c in 0..<classes { posterior[c] = 0 }
      var total = 0.0
      for s in 0..<L {
        let yts = y[t * L + s]
        occupancy[s] = yts > 0 ? alpha[t * L + s] * beta[t * L + s] / yts : 0
        total += occupancy[s]
      }
      let inverse = total > 0 ? 1 / total : 0
      for s in 0..<L { posterior[extended[s]] += occupancy[s] * inverse }
      for c in 0..<classes { out[base + c] = Float(Foundation.exp(Double(logProbs[base + c])) - posterior[c]) }
    }
  }
}

/// Inputs a `CTCLoss` cannot take: each case names the item, the value and the valid range.
public enum CTCError: Error, Equatable, CustomStringConvertible {
  /// `logProbs` is not `[T, B, C]`.
  case logProbsShape([Int])
  /// The blank index is not a class.
  case blankOutOfRange(blank: Int, classes: Int)
  /// A per-item array has the wrong count.
  case lengthCount(what: String, expected: Int, got: Int)
  /// An input length is negative or longer than the frames.
  case inputLengthOutOfRange(item: Int, length: Int, frames: Int)
  /// A target length is negative or longer than its padded target.
  case targetLengthOutOfRange(item: Int, length: Int, available: Int)
  /// Concatenated targets do not hold exactly the sum of the target lengths.
  case concatenatedLength(total: Int, lengths: Int)
  /// A label is not a class or is the blank.
  case labelOutOfRange(item: Int, label: Int, classes: Int, blank: Int)

  /// One line naming the problem and the valid range.
  public var description: String {
    switch self {
    case .logProbsShape(let shape): "CTC log-probabilities must be [T, B, C], got shape \(shape)"
    case let .blankOutOfRange(blank, classes): "blank \(blank) is not one of the \(classes) classes"
    case let .lengthCount(what, expected, got): "\(what): expected \(expected) (one per item), got \(got)"
    case let .inputLengthOutOfRange(item, length, frames): "input length \(length) of item \(item) is outside 0...\(frames) (the frames)"
    case let .targetLengthOutOfRange(item, length, available): "target length \(length) of item \(item) is outside 0...\(available) (its padded target)"
    case let .concatenatedLength(total, lengths): "the concatenated targets hold \(total) labels but the target lengths add up to \(lengths)"
    case let .labelOutOfRange(item, label, classes, blank): "label \(label) of item \(item) must be a class in 0..<\(classes) other than the blank \(blank)"
    }
  }
}
