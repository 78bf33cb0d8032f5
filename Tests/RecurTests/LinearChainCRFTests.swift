import Foundation
import Testing
@testable import Recur

@Suite struct LinearChainCRFTests {
  /// A CRF with K tags and emissions [T, B, K] drawn from a fixed seed.
  func problem(k: Int, steps: Int, batch: Int, seed: UInt64 = 3) -> (LinearChainCRF, Tensor) {
    var generator = RandomGenerator(seed: seed)
    let crf = LinearChainCRF(tagCount: k, generator: &generator)
    // Larger transition scores than the init, so paths differ clearly.
    crf.transitions.assign(.uniform([k, k], low: -1, high: 1, generator: &generator))
    return (crf, .uniform([steps, batch, k], low: -2, high: 2, generator: &generator))
  }

  /// Every tag sequence of `length` over `k` tags.
  func allPaths(k: Int, length: Int) -> [[Int]] {
    (0..<Int(pow(Double(k), Double(length)))).map { code in
      var c = code
      return (0..<length).map { _ in defer { c /= k }; return c % k }
    }
  }

  /// score(y) in float64, straight from the definition.
  func bruteScore(_ crf: LinearChainCRF, _ e: Tensor, b: Int, _ y: [Int]) -> Double {
    let start = crf.startTransitions.data, end = crf.endTransitions.data, trans = crf.transitions.data
    var s = Double(start[y[0]]) + Double(end[y[y.count - 1]])
    for t in 0..<y.count {
      s += Double(e[t, b, y[t]])
      if t > 0 { s += Double(trans[y[t - 1], y[t]]) }
    }
    return s
  }

  @Test func logPartitionNLLAndViterbiMatchBruteForce() {
    let (crf, e) = problem(k: 3, steps: 4, batch: 3)
    let lengths = [4, 2, 3]
    let tags = [0, 1, 2, 2, 0, 1, 1, 2, 0, 0, 1, 2]
    let logZ = crf.logPartition(emissions: e, lengths: lengths)
    let nll = crf.negativeLogLikelihood(emissions: e, tags: tags, lengths: lengths, reduction: .none).scalars
    let paths = crf.viterbi(emissions: e, lengths: lengths)
    for b in 0..<3 {
      let all = allPaths(k: 3, length: lengths[b])
      let scores = all.map { bruteScore(crf, e, b: b, $0) }
      let m = scores.max()!
      let bruteLogZ = m + log(scores.reduce(0) { $0 + exp($1 - m) })
      #expect(abs(logZ[b] - bruteLogZ) < 1e-9, "log Z of sequence \(b)")
      let gold = (0..<lengths[b]).map { tags[$0 * 3 + b] }
      #expect(abs(Double(nll[b]) - (bruteLogZ - bruteScore(crf, e, b: b, gold))) < 1e-5, "NLL of sequence \(b)")
      #expect(paths[b] == all[scores.firstIndex(of: m)!], "Viterbi path of sequence \(b)")
    }
    let mean = crf.negativeLogLikelihood(emissions: e, tags: tags, lengths: lengths).item
    #expect(abs(mean - nll.reduce(0, +) / 3) < 1e-5)
  }

  @Test(arguments: [Reduction.mean, .sum, .none])
  func gradientsMatchFiniteDifferences(_ reduction: Reduction) {
    let (crf, e) = problem(k: 3, steps: 4, batch: 2, seed: 11)
    let tags = [2, 0, 1, 1, 0, 2, 1, 0]
    let lengths = [4, 3]
    let result = gradCheck(inputs: [e, crf.startTransitions.data, crf.endTransitions.data, crf.transitions.data],
                           epsilon: 1e-3, rtol: 2e-2, atol: 2e-3) { t in
      LinearChainCRF.negativeLogLikelihood(emissions: t[0], start: t[1], end: t[2], transitions: t[3], tags: tags,
                                           lengths: lengths, reduction: reduction)
    }
    #expect(result.passed, "\(result)")
  }

  @Test func parametersGetTheirGradientsThroughTheModule() {
    let (crf, e) = problem(k: 2, steps: 3, batch: 1)
    crf.negativeLogLikelihood(emissions: e.requiringGrad(), tags: [0, 1, 1]).backward()
    for (name, p) in crf.namedParameters() { #expect(p.grad != nil, "\(name)") }
    #expect(crf.namedParameters().map(\.name) == ["start_transitions", "end_transitions", "transitions"])
  }

  @Test func paddingChangesNothing() {
    let (crf, batch) = problem(k: 4, steps: 6, batch: 3, seed: 5)
    let lengths = [6, 3, 5]
    var tags = [Int](repeating: 0, count: 18)
    for i in 0..<18 { tags[i] = (i * 7) % 4 }
    let batchNLL = crf.negativeLogLikelihood(emissions: batch, tags: tags, lengths: lengths, reduction: .none).scalars
    let batchPaths = crf.viterbi(emissions: batch, lengths: lengths)
    for b in 0..<3 {
      let n = lengths[b]
      var alone = [Float](), aloneTags = [Int]()
      for t in 0..<n {
        alone += (0..<4).map { batch[t, b, $0] }
        aloneTags.append(tags[t * 3 + b])
      }
      let e = Tensor(shape: [n, 1, 4], scalars: alone)
      #expect(crf.negativeLogLikelihood(emissions: e, tags: aloneTags).item == batchNLL[b], "loss of sequence \(b)")
      #expect(crf.viterbi(emissions: e) == [batchPaths[b]], "path of sequence \(b)")
    }
  }
}
