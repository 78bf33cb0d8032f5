import Foundation
import Testing
@testable import Recur

/// Greedy decoding and beam search: width 1 is greedy, a wider beam finds a sequence greedy misses,
/// n-best lists are ranked by the length-penalised score.
@Suite("Beam search")
struct BeamSearchTests {
  /// A fixed next-token table over tokens {pad 0, end 1, A 2, B 3, start 4}: greedy takes A (0.6)
  /// then must go on (A A end = 0.6·0.4·0.9 = 0.216), while B end = 0.3999·0.95 ≈ 0.38 is better.
  struct Table: StepwiseDecoder {
    func distribution(_ prefix: [Int]) -> [Double] {
      switch prefix {
      case []: return [0, 0.0001, 0.6, 0.3999, 0]
      case [2]: return [0, 0.3, 0.4, 0.3, 0]
      case [3]: return [0, 0.95, 0.025, 0.025, 0]
      default: return [0, 0.9, 0.05, 0.05, 0]
      }
    }

    func step(_ previous: [Int], state: [[Int]]) throws -> (logProbabilities: Tensor, state: [[Int]], attention: Tensor?) {
      let next = zip(state, previous).map { prefix, token in token == 4 ? prefix : prefix + [token] }
      let rows = next.flatMap { distribution($0).map { Float(log(max($0, 1e-30))) } }
      return (Tensor(shape: [next.count, 5], scalars: rows), next, nil)
    }

    func select(_ state: [[Int]], rows: [Int]) -> [[Int]] { rows.map { state[$0] } }
  }

  @Test func beamFindsAHigherScoringSequenceThanGreedy() throws {
    let table = Table()
    let greedy = try GreedyDecoding.decode(table, state: [[]], rows: 1, start: 4, end: 1, excluded: [0, 4], maximumLength: 10)[0]
    #expect(greedy.tokens == [2, 2])
    #expect(abs(greedy.logProbability - log(0.6 * 0.4 * 0.9)) < 1e-5)
    let beam = try BeamSearch(width: 2, maximumLength: 10).decode(table, state: [[]], sources: 1, start: 4, end: 1, excluded: [0, 4], best: 2)[0]
    #expect(beam[0].tokens == [3])
    #expect(abs(beam[0].logProbability - log(0.3999 * 0.95)) < 1e-5)
    #expect(beam[0].logProbability > greedy.logProbability)
    #expect(beam.count == 2 && beam[1].score <= beam[0].score)
  }

  @Test func widthOneIsGreedyOnAnUntrainedModel() throws {
    var c = EncoderDecoder.Configuration(sourceVocabularySize: 9, targetVocabularySize: 8)
    c.embeddingSize = 6
    c.hiddenSize = 5
    for attention in [AttentionScore.general, .additive, nil] {
      c.attention = attention
      let model = try EncoderDecoder(c, seed: 11)
      var g = RandomGenerator(seed: 5)
      let sources = (0..<7).map { i in (0..<(2 + i % 4)).map { _ in 2 + Int(g.next() % 7) } }
      let greedy = try model.greedy(sources, maximumLength: 6)
      let beam = try model.beamSearch(sources, search: BeamSearch(width: 1, maximumLength: 6))
      for (gr, b) in zip(greedy, beam) {
        #expect(gr.tokens == b[0].tokens)
        #expect(gr.finished == b[0].finished)
        #expect(abs(gr.logProbability - b[0].logProbability) < 1e-9)
        #expect(gr.attention == b[0].attention)
      }
    }
  }

  @Test func nBestIsRankedByTheLengthPenalisedScore() throws {
    var c = EncoderDecoder.Configuration(sourceVocabularySize: 9, targetVocabularySize: 8)
    c.embeddingSize = 6
    c.hiddenSize = 5
    let model = try EncoderDecoder(c, seed: 3)
    let search = BeamSearch(width: 4, lengthPenalty: 0.6, maximumLength: 5)
    let results = try model.beamSearch([[2, 3, 4], [5, 6]], search: search, best: 4)
    for (i, list) in results.enumerated() {
      #expect(list.count == 4)
      #expect(Set(list.map(\.tokens)).count == 4, "hypotheses are distinct")
      for (a, b) in zip(list, list.dropFirst()) { #expect(a.score >= b.score) }
      for h in list {
        let length = h.tokens.count + (h.finished ? 1 : 0)
        #expect(abs(h.score - h.logProbability / pow((5 + Double(length)) / 6, 0.6)) < 1e-9)
        #expect(h.attention.count == length && h.attention.allSatisfy { $0.count == 3 && (i == 0 || $0[2] == 0) })
      }
    }
  }
}
