import Foundation
import Testing
@testable import Recur

/// The encoder-decoder task on a synthetic problem (reverse a digit string): attention learns the
/// anti-diagonal alignment and generalises beyond the trained lengths better than no attention;
/// padding invariance and exact resume.
@Suite struct Seq2SeqTaskTests {
  /// Random digit strings of `lengths` and their reversals.
  static func reversals(count: Int, lengths: ClosedRange<Int>, seed: UInt64) -> [Seq2SeqPair] {
    var g = RandomGenerator(seed: seed)
    return (0..<count).map { i in
      let n = lengths.lowerBound + Int(g.next() % UInt64(lengths.count))
      let digits = (0..<n).map { _ in String(g.next() % 10) }
      return Seq2SeqPair(source: digits, target: digits.reversed(), line: i + 1)
    }
  }

  static let vocabulary = try! Seq2SeqVocabulary(pairs: reversals(count: 200, lengths: 5...12, seed: 1),
                                                 sourceTokenization: .chars, targetTokenization: .chars)

  static func task(attention: AttentionScore?, seed: UInt64 = 3) throws -> Seq2SeqTask {
    let train = reversals(count: 4000, lengths: 5...12, seed: 1), validation = reversals(count: 64, lengths: 5...12, seed: 2)
    var c = EncoderDecoder.Configuration(sourceVocabularySize: vocabulary.source.count, targetVocabularySize: vocabulary.target.count)
    (c.embeddingSize, c.hiddenSize, c.dropout, c.attention) = (16, 32, 0, attention)
    return try Seq2SeqTask(model: EncoderDecoder(c, seed: seed), vocabulary: vocabulary,
                           sources: train.map { vocabulary.encodeSource($0.source) }, targets: train.map { vocabulary.encodeTarget($0.target) },
                           validation: Seq2SeqExample.grouping(validation, vocabulary: vocabulary), batchSize: 32, labelSmoothing: 0, seed: seed)
  }

  static func options(steps: Int) -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-2))
    o.steps = steps
    o.gradClip = 5
    o.seed = 5
    return o
  }

  /// Token accuracy (position by position, a missing token counts wrong) of greedy outputs.
  static func tokenAccuracy(_ model: EncoderDecoder, _ pairs: [Seq2SeqPair]) throws -> Double {
    let sources = pairs.map { vocabulary.encodeSource($0.source) }
    let decoded = try model.greedy(sources, maximumLength: 30)
    var right = 0, total = 0
    for (d, p) in zip(decoded, pairs) {
      let target = vocabulary.encodeTarget(p.target)
      for (i, t) in target.enumerated() where i < d.tokens.count && d.tokens[i] == t { right += 1 }
      total += target.count
    }
    return Double(right) / Double(total)
  }

  @Test func attentionLearnsTheAntiDiagonalAndGeneralisesFurther() throws {
    let started = Date()
    let withAttention = try Trainer(task: Self.task(attention: .general), options: Self.options(steps: 300))
    try withAttention.run()
    let without = try Trainer(task: Self.task(attention: nil), options: Self.options(steps: 300))
    try without.run()
    let seconds = Date().timeIntervalSince(started)

    // The alignment: output step i of a source of length n attends most to source position n − 1 − i.
    let model = withAttention.task.model
    let check = Self.reversals(count: 32, lengths: 5...12, seed: 9)
    let decoded = try model.greedy(check.map { Self.vocabulary.encodeSource($0.source) }, maximumLength: 30)
    var aligned = 0, steps = 0
    for (d, p) in zip(decoded, check) {
      let n = p.source.count
      for (i, row) in d.attention.prefix(n).enumerated() {
        steps += 1
        if row.indices.max(by: { row[$0] < row[$1] }) == n - 1 - i { aligned += 1 }
      }
    }
    #expect(Double(aligned) / Double(steps) > 0.9, "anti-diagonal argmax at \(aligned) of \(steps) steps")

    let inRange = Self.reversals(count: 64, lengths: 5...12, seed: 10), beyond = Self.reversals(count: 64, lengths: 14...16, seed: 11)
    let attentionIn = try Self.tokenAccuracy(model, inRange), attentionBeyond = try Self.tokenAccuracy(model, beyond)
    let plainIn = try Self.tokenAccuracy(without.task.model, inRange), plainBeyond = try Self.tokenAccuracy(without.task.model, beyond)
    #expect(attentionIn > 0.9, "attention, trained lengths: \(attentionIn)")
    #expect(attentionIn - attentionBeyond < plainIn - plainBeyond,
            "accuracy falls \(attentionIn) → \(attentionBeyond) with attention, \(plainIn) → \(plainBeyond) without")
    print("reverse 5–12: \(String(format: "%.1f", seconds)) s; token accuracy with attention \(attentionIn) → \(attentionBeyond) at 14–16, without \(plainIn) → \(plainBeyond); anti-diagonal \(aligned)/\(steps)")
  }
}
