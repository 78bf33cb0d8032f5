import Foundation
import Testing
@testable import Recur

/// The last mile of the character-level language model: document-aligned training streams, tune
/// sampling, autocompletion by beam search (checked against exhaustive enumeration) and chat
/// sessions (state carried, saved and resumed exactly).
@Suite struct GenerationForPeopleTests {
  /// A small random model over `text`'s characters.
  func model(_ text: String, hidden: Int = 12, seed: UInt64 = 3) throws -> (CharLM, CharVocabulary) {
    let vocabulary = CharVocabulary(text: text)
    let model = try CharLM(CharLM.Configuration(cell: .lstm, vocabularySize: vocabulary.count, embeddingSize: 6, hiddenSize: hidden,
                                                numLayers: 2, dropout: 0), seed: seed)
    return (model, vocabulary)
  }

  // MARK: - Document-aligned streams

  @Test func streamsStartAtDocumentsWhenAligned() throws {
    let text = (0..<12).map { "doc\($0) " + String(repeating: "x", count: 5 + $0 % 4) + "\n\n" }.joined()
    let vocabulary = CharVocabulary(text: text)
    let ids = try vocabulary.encode(text)
    let starts = LanguageModelTask.documentStarts(ids, newline: vocabulary.id(of: "\n"))
    #expect(starts.count == 12 && starts.allSatisfy { vocabulary.decode(ids[$0..<($0 + 3)]) == "doc" })
    let batches = try TextBatches(ids: ids, batchSize: 3, seqLength: 4, documentStarts: starts)
    #expect(batches.starts.allSatisfy { starts.contains($0) } && batches.starts[0] == 0)
    // Window 0, column b, is the head of stream b: "doc…".
    let window = batches.window(0)
    for b in 0..<3 { #expect(vocabulary.decode((0..<3).map { window.inputs[$0 * 3 + b] }) == "doc") }
    // Too few documents for the streams: the contiguous layout.
    let plain = try TextBatches(ids: ids, batchSize: 3, seqLength: 4, documentStarts: [0])
    #expect(plain.starts == [0, ids.count / 3, 2 * (ids.count / 3)])
  }

  // MARK: - Tunes

  @Test func tunePromptsCarryTheHeaderFieldsInTheCollectionsOrder() throws {
    let (m, v) = try model("X: 0123456789\nTMLKRG:/68jig abc|\n ")
    let generator = try TuneGenerator(model: m, vocabulary: v, fields: ["K:G", "M:6/8", "R:jig"])
    #expect(generator.prompt(referenceNumber: 12) == "X: 12\nR:jig\nM:6/8\nK:G\n")
    #expect(throws: ABCError.self) { try TuneGenerator(model: m, vocabulary: v, fields: ["M:6/0"]) }
    #expect(throws: ABCError.self) { try TuneGenerator(model: m, vocabulary: v, fields: ["X:3"]) }
    #expect(throws: ABCError.self) { try TuneGenerator(model: m, vocabulary: v, fields: ["M:6/8", "M:3/4"]) }
    #expect(throws: ABCError.self) { try TuneGenerator(model: m, vocabulary: v, fields: ["jig"]) }
    #expect(throws: CharVocabularyError.self) { try TuneGenerator(model: m, vocabulary: v, fields: ["T:Zebra"]) }
    var generatorShort = generator
    generatorShort.maximumLength = 30
    var sampler = Sampler(temperature: 1, seed: 5)
    let sample = try generatorShort.sample(referenceNumber: 3, sampler: &sampler)
    #expect(sample.text.hasPrefix("X: 3\nR:jig\nM:6/8\nK:G\n"))
    #expect(sample.text.unicodeScalars.count <= "X: 3\nR:jig\nM:6/8\nK:G\n".unicodeScalars.count + 31)
    #expect(!sample.isValid || sample.ended)
  }

  // MARK: - Completion

  @Test func beamSearchFindsTheExhaustiveTopCompletions() throws {
    let (m, v) = try model("ab .")
    let completer = Completer(model: m, vocabulary: v)
    let prefix = "ab a"
    let maxLength = 4
    // Exhaustive: every word continuation w over {a, b} up to maxLength − 1 letters, then a word end.
    var exhaustive: [String: Double] = [:]
    func logProbs(_ text: String) throws -> [Double] {
      let ids = try v.encode(text)
      let (logits, _) = try m(ids, steps: ids.count, batchSize: 1)
      let V = v.count
      return Completer.logSoftmax(Array(logits.scalars[((ids.count - 1) * V)...]))
    }
    func walk(_ w: String, _ lp: Double) throws {
      let next = try logProbs(prefix + w)
      let end = Completer.logAdd(next[try v.encode(" ")[0]], next[try v.encode(".")[0]])
      exhaustive[w] = lp + end
      if w.count + 1 < maxLength {
        for c in ["a", "b"] { try walk(w + c, lp + next[try v.encode(c)[0]]) }
      }
    }
    try walk("", 0)
    let expected = exhaustive.sorted { $0.value > $1.value }.prefix(3)
    let found = try completer.complete(prefix, count: 3, beamWidth: 64, maximumLength: maxLength)
    #expect(found.map(\.text) == expected.map(\.key))
    for (f, e) in zip(found, expected) { #expect(abs(f.logProbability - e.value) < 1e-5) }
    // The kept state gives the same answers after edits (extension, deletion, a new text).
    let fresh = Completer(model: m, vocabulary: v)
    for text in ["ab ab", "ab a", "ab a b", "b", "ab a"] {
      #expect(try completer.complete(text, count: 3, beamWidth: 16, maximumLength: 5)
        == fresh.complete(text, count: 3, beamWidth: 16, maximumLength: 5))
      _ = try Completer(model: m, vocabulary: v).complete("ba", count: 1)
    }
    #expect(throws: CharVocabularyError.self) { try completer.complete("abc") }
  }

  @Test func severalWordsRunToTheEndOfTheLastWord() throws {
    let (m, v) = try model("ab .")
    let found = try Completer(model: m, vocabulary: v).complete("a", count: 4, words: 2, beamWidth: 32, maximumLength: 8)
    #expect(!found.isEmpty)
    for c in found {
      let words = ("a" + c.text).split(whereSeparator: { $0 == " " || $0 == "." })
      #expect(words.count == 2, "\(c.text)")
      #expect(c.probability > 0 && c.probability <= 1)
    }
  }

  // MARK: - Chat

  @Test func chatCarriesStateAndResumesExactly() throws {
    let (m, v) = try model("ABCDEFGHIJKLMNOPQRSTUVWXYZ:\n abcdefghijklmnopqrstuvwxyz.,!?'")
    let format = ChatSession.Format.play(user: "YOU", model: "JULIET")
    let a = try ChatSession(model: m, vocabulary: v, format: format, temperature: 1, seed: 9)
    var pieces = ""
    let first = try a.reply(to: "good morrow", maximumLength: 40) { pieces += $0 }
    #expect(pieces == first && first.unicodeScalars.count <= 40)
    #expect(a.transcript == "YOU:\ngood morrow\n\nJULIET:\n" + first + "\n\n")
    let file = FileManager.default.temporaryDirectory.appendingPathComponent("recur-chat-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: file) }
    try a.save(to: file)
    let second = try a.reply(to: "what say you", maximumLength: 40)
    let b = try ChatSession(resuming: file, model: m, vocabulary: v)
    #expect(try b.reply(to: "what say you", maximumLength: 40) == second)
    #expect(b.transcript == a.transcript)
    // The state matters: the same words after a reset are answered from a zero state.
    a.reset()
    #expect(a.transcript.isEmpty)
    // Unknown characters change nothing.
    let before = b.transcript
    #expect(throws: CharVocabularyError.self) { try b.reply(to: "ça va") }
    #expect(b.transcript == before)
    // Another model's conversation is refused.
    let (other, _) = try model("ABCDEFGHIJKLMNOPQRSTUVWXYZ:\n abcdefghijklmnopqrstuvwxyz.,!?'", hidden: 10)
    #expect(throws: ChatSessionError.self) { try ChatSession(resuming: file, model: other, vocabulary: v) }
    #expect(throws: CharVocabularyError.self) { try ChatSession(model: m, vocabulary: v, format: .play(user: "ÉMILE", model: nil), seed: 1) }
  }

  @Test func aGreedyChatIsDeterministicAndEndsItsTurnAtTheMarker() throws {
    let (m, v) = try model("> abc\n")
    let a = try ChatSession(model: m, vocabulary: v, format: .lines(marker: "> "), temperature: 0, seed: 1)
    let b = try ChatSession(model: m, vocabulary: v, format: .lines(marker: "> "), temperature: 1, seed: 2)
    b.temperature = 0
    #expect(try a.reply(to: "abc", maximumLength: 30) == b.reply(to: "abc", maximumLength: 30))
    #expect(!a.transcript.dropLast().contains("\n\n") && a.transcript.hasPrefix("> abc\n> "))
  }
}
