import Foundation
import Testing
@testable import Recur

/// CTCLoss against a brute-force sum over every frame labelling (exact for small T and C), by
/// finite differences through `logSoftmax`, and on the edge cases PyTorch defines.
@Suite("CTCLoss")
struct CTCLossTests {
  /// Random logits `[T, B, C]` and their log-softmax.
  static func logits(_ T: Int, _ B: Int, _ C: Int, seed: UInt64 = 1, scale: Float = 2) -> Tensor {
    var g = RandomGenerator(seed: seed)
    return Tensor.uniform([T, B, C], low: -scale, high: scale, generator: &g)
  }

  /// −log Σ over all labellings of `length` frames that collapse to `target` of Π p(label_t | t), in Double.
  static func bruteForceNLL(_ lp: Tensor, item b: Int, length: Int, target: [Int], blank: Int) -> Double {
    let (B, C) = (lp.shape[1], lp.shape[2])
    let values = lp.scalars
    var total = 0.0
    var path = [Int](repeating: 0, count: length)
    func collapse(_ p: [Int]) -> [Int] {
      var out: [Int] = []
      var previous = -1
      for c in p {
        if c != previous && c != blank { out.append(c) }
        previous = c
      }
      return out
    }
    func visit(_ t: Int, _ logP: Double) {
      if t == length {
        if collapse(path) == target { total += exp(logP) }
        return
      }
      for c in 0..<C {
        path[t] = c
        visit(t + 1, logP + Double(values[(t * B + b) * C + c]))
      }
    }
    visit(0, 0)
    return -log(total)
  }

  static let cases: [(targets: [[Int]], lengths: [Int], blank: Int)] = [
    ([[1, 2], [2, 2], [1]], [5, 5, 4], 0),          // plain, a repeat (needs a blank between), shorter input
    ([[0, 1], [1, 1, 0], []], [5, 4, 3], 2),        // blank last; target length 0
    ([[2, 1, 2], [1], [2, 2]], [5, 1, 2], 0),       // an impossible item (repeat in 2 frames) and a 1-frame input
  ]

  @Test func lossEqualsTheBruteForceSum() throws {
    for (targets, lengths, blank) in Self.cases {
      let lp = Self.logits(5, 3, 3).logSoftmax()
      let losses = try CTCLoss(blank: blank, reduction: .none)(lp, targets: targets, inputLengths: lengths).scalars
      for b in 0..<3 {
        let expected = Self.bruteForceNLL(lp, item: b, length: lengths[b], target: targets[b], blank: blank)
        if expected.isInfinite {
          #expect(losses[b] == .infinity, "item \(b) of \(targets): impossible alignment must be +inf")
        } else {
          #expect(abs(Double(losses[b]) - expected) <= 1e-5 * max(1, abs(expected)), "item \(b) of \(targets): \(losses[b]) vs \(expected)")
        }
      }
    }
  }

  @Test func reductionsFollowPyTorch() throws {
    let lp = Self.logits(6, 3, 4, seed: 3).logSoftmax()
    let targets = [[1, 2, 3], [3], []]
    let lengths = [6, 5, 4]
    let none = try CTCLoss(reduction: .none)(lp, targets: targets, inputLengths: lengths).scalars
    let sum = try CTCLoss(reduction: .sum)(lp, targets: targets, inputLengths: lengths).item
    let mean = try CTCLoss(reduction: .mean)(lp, targets: targets, inputLengths: lengths).item
    #expect(abs(sum - none.reduce(0, +)) <= 1e-5 * sum)
    // mean: each loss divided by its target length (at least 1), then the batch mean.
    let expectedMean = (none[0] / 3 + none[1] / 1 + none[2] / 1) / 3
    #expect(abs(mean - expectedMean) <= 1e-6 * expectedMean)
    // Concatenated targets give the same losses as padded ones.
    let concatenated = try CTCLoss(reduction: .none)(lp, concatenatedTargets: [1, 2, 3, 3], inputLengths: lengths, targetLengths: [3, 1, 0])
    #expect(concatenated.scalars == none)
    let padded = try CTCLoss(reduction: .none)(lp, targets: [[1, 2, 3], [3, 9, 9], [7]], inputLengths: lengths, targetLengths: [3, 1, 0])
    #expect(padded.scalars == none)
  }

  @Test func gradientThroughLogSoftmaxMatchesFiniteDifferences() throws {
    for reduction in [Reduction.mean, .sum, .none] {
      let x = Self.logits(5, 2, 4, seed: 5)
      let result = gradCheck(inputs: [x], epsilon: 1e-2, rtol: 1e-2, atol: 1e-3) { xs in
        try! CTCLoss(blank: 0, reduction: reduction)(xs[0].logSoftmax(), targets: [[1, 3], [2, 2]], inputLengths: [5, 4])
      }
      #expect(result.passed, "\(reduction): \(result)")
    }
  }

  @Test func gradientConventionIsPyTorchs() throws {
    // Into log-probs: exp(lp) − posterior, so each frame's gradient sums to 0 over the classes;
    // frames at or past the input length get 0.
    let lp = Self.logits(5, 2, 3, seed: 9).logSoftmax().detached().requiringGrad()
    try CTCLoss(reduction: .sum)(lp, targets: [[1, 2], [1]], inputLengths: [5, 3]).backward()
    let g = try #require(lp.grad).scalars
    for t in 0..<5 {
      for b in 0..<2 {
        let row = g[((t * 2 + b) * 3)..<((t * 2 + b) * 3 + 3)]
        if b == 1 && t >= 3 {
          #expect(row.allSatisfy { $0 == 0 })
        } else {
          #expect(abs(row.reduce(0, +)) < 1e-5)
        }
      }
    }
  }

  @Test func impossibleItemsAreInfiniteOrZeroed() throws {
    let lp = Self.logits(3, 2, 3).logSoftmax().detached().requiringGrad()
    let targets = [[1, 1, 1], [1]]   // three equal labels need 5 frames
    let plain = try CTCLoss(reduction: .none)(lp, targets: targets, inputLengths: [3, 3])
    #expect(plain.scalars[0] == .infinity && plain.scalars[1].isFinite)
    let zeroed = try CTCLoss(reduction: .sum, zeroInfinity: true)(lp, targets: targets, inputLengths: [3, 3])
    #expect(zeroed.item == plain.scalars[1])
    zeroed.backward()
    let g = try #require(lp.grad).scalars
    for t in 0..<3 { #expect(g[(t * 2) * 3..<(t * 2) * 3 + 3].allSatisfy { $0 == 0 }) }
    #expect(g.allSatisfy { $0.isFinite })
  }

  @Test func longInputsNeitherUnderflowNorOverflow() throws {
    // T = 1,000 frames: probabilities multiply to far below Float's range; the log-space
    // recursion stays finite, and a uniform distribution has a closed form to compare with.
    let (T, C) = (1_000, 5)
    let uniform = Tensor(shape: [T, 1, C], scalars: [Float](repeating: -log(Float(C)), count: T * C))
    let loss = try CTCLoss(reduction: .none)(uniform, targets: [[]], inputLengths: [T]).scalars[0]
    #expect(abs(Double(loss) - Double(T) * log(Double(C))) <= 1e-5 * Double(T) * log(Double(C)))
    let target = (0..<200).map { 1 + $0 % 4 }
    let lp = Self.logits(T, 2, C, seed: 11, scale: 4).logSoftmax().detached().requiringGrad()
    let l = try CTCLoss(reduction: .mean)(lp, targets: [target, Array(target.prefix(50))], inputLengths: [T, 700])
    #expect(l.item.isFinite)
    l.backward()
    let grads = try #require(lp.grad).scalars
    #expect(grads.allSatisfy { $0.isFinite })
  }

  @Test func badInputsThrowNamedErrors() {
    let lp = Self.logits(4, 2, 3).logSoftmax()
    #expect(throws: CTCError.inputLengthOutOfRange(item: 1, length: 5, frames: 4)) {
      try CTCLoss()(lp, targets: [[1], [2]], inputLengths: [4, 5])
    }
    #expect(throws: CTCError.labelOutOfRange(item: 0, label: 0, classes: 3, blank: 0)) {
      try CTCLoss()(lp, targets: [[0], [2]], inputLengths: [4, 4])
    }
    #expect(throws: CTCError.blankOutOfRange(blank: 3, classes: 3)) {
      try CTCLoss(blank: 3)(lp, targets: [[1], [2]], inputLengths: [4, 4])
    }
    #expect(throws: CTCError.concatenatedLength(total: 2, lengths: 3)) {
      try CTCLoss()(lp, concatenatedTargets: [1, 2], inputLengths: [4, 4], targetLengths: [1, 2])
    }
    #expect(throws: CTCError.logProbsShape([4, 3])) { try CTCLoss()(Tensor.zeros([4, 3]), targets: [[1]], inputLengths: [4]) }
  }
}

/// CTCLoss against `torch.nn.CTCLoss` (float64, Tools/Reference/ctc.py): blank first, in the middle
/// and last, repeats, target length 0, inputs shorter than T, impossible items with and without
/// `zeroInfinity`, T = 1,000. Loss ≤ 1e-5 relative; the gradient with respect to the logits
/// (through `logSoftmax`) ≤ 1e-5 · max|reference| per tensor.
@Suite("CTCLoss against PyTorch")
struct CTCLossPyTorchTests {
  @Test(arguments: ["basic", "blank_last", "blank_middle", "impossible", "impossible_zero", "long"])
  func matchesTorch(_ name: String) throws {
    let f = try loadFixture("ctc/\(name)")
    let logits = try #require(f["logits"])
    let (T, B) = (logits.shape[0], logits.shape[1])
    let padded = try #require(f["targets"]).scalars.map { Int($0) }
    let targetLengths = try #require(f["target_lengths"]).scalars.map { Int($0) }
    let S = padded.count / B
    let targets = (0..<B).map { b in Array(padded[(b * S)..<(b * S + targetLengths[b])]) }
    let inputLengths = try #require(f["input_lengths"]).scalars.map { Int($0) }
    let blank = Int(try #require(f["blank"]).scalars[0])
    let zeroInfinity = try #require(f["zero_infinity"]).scalars[0] == 1
    for reduction in [Reduction.none, .sum, .mean] {
      let x = logits.detached().requiringGrad()
      let loss = try CTCLoss(blank: blank, reduction: reduction, zeroInfinity: zeroInfinity)(
        x.logSoftmax(), targets: targets, inputLengths: inputLengths)
      let expected = try #require(f["loss_\(reduction.rawValue)"]).scalars
      for (a, e) in zip(loss.scalars, expected) {
        if e.isInfinite { #expect(a == e, "\(name) \(reduction): \(a) vs \(e)") } else {
          #expect(abs(a - e) <= 1e-5 * max(1, abs(e)), "\(name) \(reduction): loss \(a) vs \(e)")
        }
      }
      let weights = reduction == .none
        ? Tensor(shape: [B], scalars: (0..<B).map { B == 1 ? 0.5 : 0.5 + Float($0) / Float(B - 1) }) : Tensor(scalar: 1)
      (loss * weights).sum().backward()
      let grad = try #require(x.grad).scalars, reference = try #require(f["grad_\(reduction.rawValue)"]).scalars
      let scale = reference.filter(\.isFinite).map(abs).max() ?? 1
      var worst: Float = 0
      for (i, (a, e)) in zip(grad, reference).enumerated() {
        if e.isNaN { #expect(a.isNaN, "\(name) \(reduction): element \(i) should be NaN"); continue }
        worst = max(worst, abs(a - e))
      }
      #expect(worst <= 1e-5 * scale, "\(name) \(reduction): max |Δ grad| \(worst) vs scale \(scale) (T \(T))")
    }
  }
}
