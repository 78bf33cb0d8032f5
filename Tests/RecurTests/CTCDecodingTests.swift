import Foundation
import Testing
@testable import Recur

/// Greedy and prefix-beam CTC decoding against brute-force sums over every frame labelling.
@Suite("CTC decoding")
struct CTCDecodingTests {
  /// Every labelling's probability (all alignments summed), by enumerating all C^T paths.
  static func labellingProbabilities(_ frames: [[Float]], blank: Int) -> [[Int]: Double] {
    var result: [[Int]: Double] = [:]
    let C = frames[0].count
    func visit(_ t: Int, _ path: [Int], _ logP: Double) {
      if t == frames.count {
        var labels: [Int] = []
        var previous = -1
        for c in path { if c != previous && c != blank { labels.append(c) }; previous = c }
        result[labels, default: 0] += exp(logP)
        return
      }
      for c in 0..<C { visit(t + 1, path + [c], logP + Double(frames[t][c])) }
    }
    visit(0, [], 0)
    return result
  }

  static func randomFrames(_ T: Int, _ C: Int, seed: UInt64) -> [[Float]] {
    var g = RandomGenerator(seed: seed)
    let lp = Tensor.uniform([T, C], low: -3, high: 3, generator: &g).logSoftmax().scalars
    return (0..<T).map { Array(lp[($0 * C)..<($0 * C + C)]) }
  }

  @Test func greedyCollapsesRepeatsAndDropsBlanks() {
    let onehot: [Int] = [1, 1, 0, 1, 2, 2, 0, 0]
    let frames = onehot.map { c in (0..<3).map { $0 == c ? Float(log(0.8)) : Float(log(0.1)) } }
    let h = CTCDecoder.greedy(frames, blank: 0)
    #expect(h.labels == [1, 1, 2])
    #expect(abs(h.logProbability - 8 * log(0.8)) < 1e-5)
  }

  @Test func beamSearchFindsTheMostProbableLabelling() {
    for seed in UInt64(1)...6 {
      let frames = Self.randomFrames(5, 3, seed: seed)
      let exact = Self.labellingProbabilities(frames, blank: 0)
      let top = exact.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key.lexicographicallyPrecedes($1.key) }
      let beams = CTCDecoder.beamSearch(frames, blank: 0, beamWidth: 64, best: 3)
      for (h, e) in zip(beams, top) {
        #expect(h.labels == e.key, "seed \(seed)")
        #expect(abs(exp(h.logProbability) - e.value) <= 1e-6, "seed \(seed): \(exp(h.logProbability)) vs \(e.value)")
      }
    }
  }

  @Test func beamSearchBeatsGreedyWhereAlignmentsAddUp() {
    // Each frame: blank 0.6, "a" 0.4. Best path: blank blank → "" (0.36); the labelling "a"
    // sums three alignments: 0.16 + 0.24 + 0.24 = 0.64.
    let frames: [[Float]] = Array(repeating: [Float(log(0.6)), Float(log(0.4))], count: 2)
    #expect(CTCDecoder.greedy(frames).labels == [])
    let beam = CTCDecoder.beamSearch(frames, beamWidth: 4, best: 2)
    #expect(beam.map(\.labels) == [[1], []])
    #expect(abs(exp(beam[0].logProbability) - 0.64) < 1e-6 && abs(exp(beam[1].logProbability) - 0.36) < 1e-6)
  }

  @Test func editDistance() {
    #expect(CTCDecoder.editDistance([1, 2, 3], [1, 3]) == 1)
    #expect(CTCDecoder.editDistance([], [4, 5]) == 2)
    #expect(CTCDecoder.editDistance([1, 2, 3, 4], [2, 1, 3, 5]) == 3)
    #expect(CTCDecoder.editDistance([7, 7], [7, 7]) == 0)
  }
}
