import Foundation
import Testing
@testable import Recur

// MARK: - Vocabulary

@Suite("CharVocabulary")
struct CharVocabularyTests {
  @Test func idsAreSortedCodePointsLikePython() throws {
    // Python: sorted(set("hello, world")) == [' ', ',', 'd', 'e', 'h', 'l', 'o', 'r', 'w']
    let v = CharVocabulary(text: "hello, world")
    #expect(v.scalars.map { String($0) } == [" ", ",", "d", "e", "h", "l", "o", "r", "w"])
    #expect(try v.encode("hello") == [4, 3, 5, 5, 6])
    #expect(v.decode([8, 6, 7, 5, 2]) == "world")
  }

  @Test func unitIsTheUnicodeScalar() throws {
    // "é" as e + combining acute is two symbols (as in Python), "\r\n" too.
    let text = "e\u{301}\r\n€"
    let v = CharVocabulary(text: text)
    #expect(v.count == 5)
    #expect(v.decode(try v.encode(text)) == text)
    #expect(try v.encode(text).count == 5)
  }

  @Test func unknownCharactersAreNamed() {
    let v = CharVocabulary(text: "abc")
    #expect(v.missingScalars(in: "abzcé z") == ["z", "é", " "])
    #expect(!v.covers("abd"))
    #expect(throws: CharVocabularyError.self) { try v.encode("abd") }
    do {
      _ = try v.encode("xyz")
      Issue.record("encode should throw")
    } catch {
      #expect("\(error)".contains("\"x\" (U+0078)"))
    }
  }

  @Test func codePointsRoundTripAndRejectSurrogates() throws {
    let v = CharVocabulary(text: "Pride & Prejudice\n")
    #expect(try CharVocabulary(codePoints: v.codePoints) == v)
    #expect(throws: CharVocabularyError.self) { try CharVocabulary(codePoints: [65, 0xD800]) }
  }
}

// MARK: - Corpus

@Suite("TextCorpus")
struct TextCorpusTests {
  func temporaryFile(_ bytes: [UInt8]) throws -> String {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-corpus-\(UUID().uuidString).txt")
    try Data(bytes).write(to: url)
    return url.path
  }

  @Test func rejectsBadFilesWithAMessage() throws {
    func message(_ path: String) -> String {
      do { _ = try TextCorpus.load(path: path); return "" } catch { return "\(error)" }
    }
    #expect(message("/nonexistent/recur/corpus.txt").contains("does not exist"))
    #expect(message(FileManager.default.temporaryDirectory.path).contains("is a directory"))
    let empty = try temporaryFile([])
    #expect(message(empty).contains("is empty"))
    let binary = try temporaryFile([0x7F, 0x45, 0x4C, 0x46, 0x02, 0x00, 0x01])
    #expect(message(binary).contains("looks binary"))
    let latin1 = try temporaryFile(Array("caf".utf8) + [0xE9, 0x20, 0x61])
    #expect(message(latin1).contains("not valid UTF-8 (invalid byte 0xE9 at offset 3)"))
    for p in [empty, binary, latin1] { try? FileManager.default.removeItem(atPath: p) }
  }

  @Test func readsUTF8AndDropsTheByteOrderMark() throws {
    let path = try temporaryFile([0xEF, 0xBB, 0xBF] + Array("naïve text".utf8))
    defer { try? FileManager.default.removeItem(atPath: path) }
    let corpus = try TextCorpus.load(path: path)
    #expect(corpus.text == "naïve text")
    #expect(corpus.characterCount == 10)
    #expect(throws: TextCorpusError.self) { try corpus.checkLength(seqLength: 10) }
    try corpus.checkLength(seqLength: 9)
  }

  @Test func bundledCorpusIsPrideAndPrejudice() throws {
    let corpus = try TextCorpus.bundled()
    #expect(corpus.text.hasPrefix("PRIDE AND PREJUDICE"))
    #expect(corpus.characterCount > 600_000)
  }

  @Test func splitKeepsTheEndForValidation() {
    let ids = Array(0..<100)
    let (train, validation) = TextCorpus.split(ids, validationFraction: 0.1)
    #expect(train == Array(0..<90))
    #expect(validation == Array(90..<100))
    #expect(TextCorpus.split(ids, validationFraction: 0).validation.isEmpty)
  }
}

// MARK: - Batches

@Suite("TextBatches")
struct TextBatchesTests {
  @Test func streamsAreContiguousAndTimeMajor() throws {
    // 26 ids, B = 2: streams 0…12 and 13…25; T = 4.
    let batches = try TextBatches(ids: Array(0..<26), batchSize: 2, seqLength: 4)
    #expect(batches.streamLength == 13)
    #expect(batches.windowCount == 3)
    let w0 = batches.window(0)
    #expect(w0.steps == 4)
    #expect(w0.inputs == [0, 13, 1, 14, 2, 15, 3, 16])
    #expect(w0.targets == [1, 14, 2, 15, 3, 16, 4, 17])
    let w1 = batches.window(1)
    #expect(w1.inputs == [4, 17, 5, 18, 6, 19, 7, 20])
  }

  @Test func windowsContinueEachStreamExactly() throws {
    // 58 ids, B = 4: L = 14, windows of 4, 4, 4, 1 steps; the tail (56, 57) is dropped.
    let ids = (0..<58).map { ($0 * 7) % 31 }
    let batches = try TextBatches(ids: ids, batchSize: 4, seqLength: 4)
    #expect(batches.windowCount == 4)
    #expect((0..<4).map(batches.steps(ofWindow:)) == [4, 4, 4, 1])
    #expect(batches.tokenCount == 4 * 13)
    for b in 0..<4 {
      var inputs: [Int] = [], targets: [Int] = []
      for w in 0..<batches.windowCount {
        let window = batches.window(w)
        for t in 0..<window.steps {
          inputs.append(window.inputs[t * 4 + b])
          targets.append(window.targets[t * 4 + b])
        }
      }
      #expect(inputs == Array(ids[(b * 14)..<(b * 14 + 13)]))
      #expect(targets == Array(ids[(b * 14 + 1)..<(b * 14 + 14)]))
    }
  }

  @Test func tooShortForOneWindowThrows() {
    // 4 streams of 4 ids cannot hold a window of 4 inputs and their targets; 4 of 5 can.
    #expect(throws: TextCorpusError.self) { try TextBatches(ids: Array(0..<19), batchSize: 4, seqLength: 4) }
    #expect(throws: Never.self) { try TextBatches(ids: Array(0..<20), batchSize: 4, seqLength: 4) }
  }
}

// MARK: - Model and sampling

@Suite("CharLM")
struct CharLMModelTests {
  static let text = String(repeating: "the cat sat on the mat. a rat ate the hat! ", count: 40)

  @Test func parametersHavePyTorchNames() throws {
    let model = try CharLM(.init(cell: .lstm, vocabularySize: 11, embeddingSize: 4, hiddenSize: 6, numLayers: 2, dropout: 0.1), seed: 1)
    let names = model.namedParameters().map(\.name)
    #expect(names == [
      "embedding.weight",
      "rnn.weight_ih_l0", "rnn.weight_hh_l0", "rnn.bias_ih_l0", "rnn.bias_hh_l0",
      "rnn.weight_ih_l1", "rnn.weight_hh_l1", "rnn.bias_ih_l1", "rnn.bias_hh_l1",
      "decoder.weight", "decoder.bias",
    ])
    let shapes = model.namedParameters().map(\.parameter.shape)
    #expect(shapes[0] == [11, 4] && shapes[1] == [24, 4] && shapes[2] == [24, 6] && shapes[9] == [11, 6] && shapes[10] == [11])
    let gru = try CharLM(.init(cell: .gru, vocabularySize: 11, embeddingSize: 4, hiddenSize: 6, numLayers: 1), seed: 1)
    #expect(gru.namedParameters()[1].parameter.shape == [18, 4])
    #expect(CharLM.inferCell(from: Dictionary(uniqueKeysWithValues: gru.stateDict().map { ($0.name, $0.tensor) })) == .gru)
  }

  @Test(arguments: SequenceLayerKind.allCases)
  func carryingTheStateEqualsOneLongWindow(cell: SequenceLayerKind) throws {
    // Evaluation mode: 2 windows of 3 steps with the state carried == one window of 6 steps.
    let model = try CharLM(.init(cell: cell, vocabularySize: 7, embeddingSize: 5, hiddenSize: 8, numLayers: 2, dropout: 0.3), seed: 3)
    let B = 2
    let tokens = [0, 1, 2, 3, 4, 5, 6, 0, 1, 2, 3, 4]  // [6, 2] time-major
    let (whole, wholeState) = try model(tokens, steps: 6, batchSize: B)
    let (first, s1) = try model(Array(tokens[..<6]), steps: 3, batchSize: B)
    let (second, s2) = try model(Array(tokens[6...]), steps: 3, batchSize: B, state: s1.detached())
    #expect(whole.shape == [6, B, 7])
    let joined = first.scalars + second.scalars
    for (a, b) in zip(joined, whole.scalars) { #expect(abs(a - b) <= 1e-5 * max(1, abs(b))) }
    for (a, b) in zip(s2.h.scalars, wholeState.h.scalars) { #expect(abs(a - b) <= 1e-5) }
    #expect((s2.c == nil) == (cell != .lstm))
  }

  @Test func samplerIsDeterministicUnderASeed() {
    let logits: [Float] = [0.5, 2.0, -1.0, 1.5, 0.0]
    func draws(seed: UInt64, temperature: Float = 1, topK: Int = 0) -> [Int] {
      var s = Sampler(temperature: temperature, topK: topK, seed: seed)
      return (0..<200).map { _ in logits.withUnsafeBufferPointer { s.sample($0) } }
    }
    #expect(draws(seed: 7) == draws(seed: 7))
    #expect(draws(seed: 7) != draws(seed: 8))
    #expect(Set(draws(seed: 1, temperature: 0)) == [1])
    #expect(Set(draws(seed: 1, topK: 1)) == [1])
    #expect(Set(draws(seed: 1, topK: 2)) == [1, 3])
    #expect(Set(draws(seed: 1)).count == 5)
  }

  @Test func samplerFollowsTheSoftmax() {
    // 20 000 draws: each frequency within 0.015 of softmax(logits / T).
    let logits: [Float] = [1.0, 0.0, 2.0]
    let temperature: Float = 0.7
    var s = Sampler(temperature: temperature, seed: 11)
    var counts = [0, 0, 0]
    for _ in 0..<20_000 { counts[logits.withUnsafeBufferPointer { s.sample($0) }] += 1 }
    let e = logits.map { Foundation.exp(Double($0 / temperature)) }
    let total = e.reduce(0, +)
    for i in 0..<3 { #expect(abs(Double(counts[i]) / 20_000 - e[i] / total) < 0.015) }
  }

  @Test func generationIsReproducible() throws {
    let v = CharVocabulary(text: Self.text)
    let model = try CharLM(.init(vocabularySize: v.count, embeddingSize: 8, hiddenSize: 16, numLayers: 2, dropout: 0.2), seed: 5)
    func text(seed: UInt64) throws -> String {
      var sampler = Sampler(temperature: 1, seed: seed)
      return v.decode(try model.generate(prompt: try v.encode("the "), length: 40, sampler: &sampler))
    }
    let a = try text(seed: 9)
    #expect(a.unicodeScalars.count == 40)
    #expect(try text(seed: 9) == a)
    #expect(try text(seed: 10) != a)
    var streamed: [Int] = []
    var sampler = Sampler(temperature: 1, seed: 9)
    let drawn = try model.generate(prompt: try v.encode("the "), length: 40, sampler: &sampler) { streamed.append($0); return true }
    #expect(streamed == drawn)
  }

  @Test func dropoutDrawsOnlyFromTheContext() throws {
    let model = try CharLM(.init(vocabularySize: 7, embeddingSize: 5, hiddenSize: 8, numLayers: 2, dropout: 0.5), seed: 3)
    let tokens = [0, 1, 2, 3, 4, 5]
    func logits(seed: UInt64) throws -> [UInt32] {
      var context = ForwardContext(training: true, seed: seed)
      return try model(tokens, steps: 3, batchSize: 2, context: &context).logits.scalars.map(\.bitPattern)
    }
    #expect(try logits(seed: 1) == logits(seed: 1))
    #expect(try logits(seed: 1) != logits(seed: 2))
    var inference = ForwardContext(training: false, seed: 1)
    let plain = try model(tokens, steps: 3, batchSize: 2).logits.scalars
    #expect(try model(tokens, steps: 3, batchSize: 2, context: &inference).logits.scalars == plain)
    #expect(inference.generator == RandomGenerator(seed: 1), "evaluation draws nothing")
  }

  @Test func betweenLayersPlacementDropsOnlyBetweenRecurrentLayers() throws {
    let tokens = [0, 1, 2, 3, 4, 5]
    func logits(_ placement: CharLM.DropoutPlacement, layers: Int) throws -> (training: [Float], inference: [Float]) {
      let model = try CharLM(.init(vocabularySize: 7, embeddingSize: 5, hiddenSize: 8, numLayers: layers, dropout: 0.5,
                                   dropoutPlacement: placement), seed: 3)
      var context = ForwardContext(training: true, seed: 1)
      return (try model(tokens, steps: 3, batchSize: 2, context: &context).logits.scalars,
              try model(tokens, steps: 3, batchSize: 2).logits.scalars)
    }
    // One layer: nothing lies between layers, so training equals inference; with .all it does not.
    let single = try logits(.betweenLayers, layers: 1)
    #expect(single.training == single.inference)
    let all = try logits(.all, layers: 1)
    #expect(all.training != all.inference)
    // Two layers: the mask between them still applies.
    let stacked = try logits(.betweenLayers, layers: 2)
    #expect(stacked.training != stacked.inference)
  }

  @Test func dropoutPlacementIsStoredAndOldConfigurationsReadAsAll() throws {
    let config = CharLM.Configuration(vocabularySize: 7, dropoutPlacement: .betweenLayers)
    let json = try JSONEncoder().encode(config)
    #expect(String(decoding: json, as: UTF8.self).contains("\"between-layers\""))
    #expect(try JSONDecoder().decode(CharLM.Configuration.self, from: json) == config)
    let old = #"{"cell":"lstm","vocabularySize":7,"embeddingSize":64,"hiddenSize":512,"numLayers":2,"dropout":0.25}"#
    #expect(try JSONDecoder().decode(CharLM.Configuration.self, from: Data(old.utf8)).dropoutPlacement == .all)
  }
}
