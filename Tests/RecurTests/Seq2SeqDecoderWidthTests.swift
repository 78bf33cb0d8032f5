import Foundation
import Testing
@testable import Recur

/// An encoder-decoder whose decoder is narrower than the encoder memory (`decoderHiddenSize`):
/// the bridges and attention map between the two widths, archives written before the option keep
/// the memory width, and `dot` attention (which needs equal widths) is refused.
@Suite struct Seq2SeqDecoderWidthTests {
  static func configuration(decoder: Int?, attention: AttentionScore? = .general) -> EncoderDecoder.Configuration {
    var c = EncoderDecoder.Configuration(sourceVocabularySize: 9, targetVocabularySize: 8)
    c.embeddingSize = 6
    c.hiddenSize = 5
    c.attention = attention
    c.inputFeeding = false
    c.decoderHiddenSize = decoder
    return c
  }

  @Test(arguments: [AttentionScore.general, .additive, nil])
  func bridgesAndAttentionMapTheMemoryToTheDecoderWidth(_ attention: AttentionScore?) throws {
    let c = Self.configuration(decoder: 7, attention: attention)
    #expect(c.memorySize == 10 && c.decoderSize == 7)
    let model = try EncoderDecoder(c, seed: 4)
    let shapes = Dictionary(uniqueKeysWithValues: model.namedParameters().map { ($0.0, $0.1.value.shape) })
    #expect(shapes["bridge.weight"] == [7, 10])
    #expect(shapes["bridge_cell.weight"] == [7, 10])
    #expect(shapes["decoder.rnn.weight_hh"] == [28, 7])
    #expect(shapes["decoder.output.weight"] == [8, 7])
    if attention == .general { #expect(shapes["decoder.attention.linear_in.weight"] == [7, 10]) }
    if attention != nil { #expect(shapes["decoder.attention.linear_out.weight"] == [7, 17]) }
    #expect(c.parameterCount.total == model.parameterCount)

    let sources = [[2, 3, 4], [5, 6], [7, 2, 3, 4]]
    var context = ForwardContext.inference
    let (memory, state) = try model.encode(sources, context: &context)
    #expect(state.recurrent.h.shape == [3, 7])
    #expect(memory?.values.shape == (attention == nil ? nil : [3, 4, 10]))
    let greedy = try model.greedy(sources, maximumLength: 5)
    let beam = try model.beamSearch(sources, search: BeamSearch(width: 1, maximumLength: 5))
    for (g, b) in zip(greedy, beam) {
      #expect(g.tokens == b[0].tokens)
      #expect(abs(g.logProbability - b[0].logProbability) < 1e-9)
    }
  }

  @Test func everyParameterOfTheNarrowDecoderLearns() throws {
    let model = try EncoderDecoder(Self.configuration(decoder: 3), seed: 8)
    var context = ForwardContext.inference
    let batch = try model.loss(sources: [[2, 3, 4], [5, 6]], targets: [[4, 5], [6, 7, 4]], context: &context)
    batch.loss.backward()
    for (name, p) in model.namedParameters() {
      let g = try #require(p.grad, "\(name) has no gradient")
      let finite = g.scalars.allSatisfy { $0.isFinite }, nonzero = g.scalars.contains { $0 != 0 }
      #expect(finite, "\(name)")
      if !name.hasPrefix("source_embedding") && !name.hasPrefix("decoder.embedding") {
        #expect(nonzero, "\(name) gets no gradient")
      }
    }
  }

  @Test func dotAttentionNeedsTheMemoryWidth() throws {
    #expect(throws: TrainingError.self) { try Self.configuration(decoder: 7, attention: .dot).validate() }
    #expect(throws: TrainingError.self) { try Self.configuration(decoder: 0).validate() }
    var dot = Self.configuration(decoder: 10, attention: .dot)
    dot.inputFeeding = true
    let model = try EncoderDecoder(dot, seed: 1)
    #expect(dot.parameterCount.total == model.parameterCount)
  }

  @Test func archivesWithoutTheWidthKeepTheMemoryWidth() throws {
    let c = Self.configuration(decoder: nil)
    var json = try #require(try JSONSerialization.jsonObject(with: JSONEncoder().encode(c)) as? [String: Any])
    #expect(json["decoderHiddenSize"] == nil)
    json.removeValue(forKey: "decoderHiddenSize")
    let decoded = try JSONDecoder().decode(EncoderDecoder.Configuration.self, from: JSONSerialization.data(withJSONObject: json))
    #expect(decoded == c && decoded.decoderSize == 10)
    var narrow = c
    narrow.decoderHiddenSize = 4
    #expect(try JSONDecoder().decode(EncoderDecoder.Configuration.self, from: JSONEncoder().encode(narrow)).decoderSize == 4)
  }
}
