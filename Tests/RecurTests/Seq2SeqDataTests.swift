import Foundation
import Testing
@testable import Recur

/// Reading `source<TAB>target` pairs, vocabularies, references and the metrics; padding invariance
/// and exact resume of the task.
@Suite struct Seq2SeqDataTests {
  static func error(_ text: String) -> DataError? {
    do {
      _ = try Seq2SeqPairs.parse(text, source: "p.tsv", sourceTokenization: .chars, targetTokenization: .words)
      return nil
    } catch let e as DataError { return e } catch { return nil }
  }

  @Test func readsPairsAndSkipsBlankLines() throws {
    let pairs = try Seq2SeqPairs.parse("\u{FEFF}cat\tK AE T\r\n\nread\tR IY D\nread\tR EH D\n", source: "p.tsv",
                                       sourceTokenization: .chars, targetTokenization: .words)
    #expect(pairs.map(\.line) == [1, 3, 4])
    #expect(pairs[0].source == ["c", "a", "t"] && pairs[0].target == ["K", "AE", "T"])
    let words = try Seq2SeqPairs.parse("a b\tx\n", source: "p.tsv", sourceTokenization: .words, targetTokenization: .chars)
    #expect(words[0].source == ["a", "b"] && words[0].target == ["x"])
  }

  @Test func badRowsNameTheLine() {
    #expect("\(Self.error("a\tb\nab\n")!)" == "p.tsv line 2: no tab: write source<TAB>target")
    #expect("\(Self.error("a\tb\tc\n")!)" == "p.tsv line 1: 2 tabs: write exactly one, source<TAB>target")
    #expect(Self.error("a\t \n") == .emptyText(source: "p.tsv", line: 1, column: "target"))
    #expect(Self.error(" \tb\n") == .emptyText(source: "p.tsv", line: 1, column: "source"))
    #expect(Self.error("\n\n") == .empty(source: "p.tsv", reason: "no source<TAB>target rows"))
  }

  @Test func vocabulariesAndReferences() throws {
    let pairs = try Seq2SeqPairs.parse("read\tR IY D\nread\tR EH D\nred\tR EH D\n", source: "p.tsv",
                                       sourceTokenization: .chars, targetTokenization: .words)
    let v = try Seq2SeqVocabulary(pairs: pairs, sourceTokenization: .chars, targetTokenization: .words)
    #expect(Array(v.target.tokens.prefix(4)) == ["<pad>", "<unk>", "<s>", "</s>"])
    #expect(v.target.id("</s>") == Seq2SeqVocabulary.endID && v.target.id("<s>") == Seq2SeqVocabulary.startID)
    let examples = Seq2SeqExample.grouping(pairs, vocabulary: v)
    #expect(examples.count == 2 && examples[0].references.count == 2 && examples[1].references.count == 1)
    #expect(v.decodeTarget(examples[0].references[1] + [Seq2SeqVocabulary.endID]) == "R EH D")
    let again = try JSONDecoder().decode(Seq2SeqVocabulary.self, from: JSONEncoder().encode(v))
    #expect(again == v)
  }

  @Test func metricsCountAnyReferenceAsRight() {
    var m = Seq2SeqMetrics()
    m.add([5, 6, 7], references: [[5, 6, 8], [5, 6, 7]])  // right (second reference)
    m.add([5, 6], references: [[5, 6, 7, 8], [9]])         // 2 edits to the closest (length 4)
    #expect(m.sequences == 2 && m.correct == 1 && m.wordErrorRate == 0.5)
    #expect(m.tokenErrors == 2 && m.referenceTokens == 7)
  }

  @Test func paddingChangesNoOutput() throws {
    let task = try Seq2SeqTaskTests.task(attention: .additive)
    let sources = task.validation.prefix(6).map(\.source)
    let together = try task.model.greedy(Array(sources), maximumLength: 8)
    for (i, s) in sources.enumerated() {
      let alone = try task.model.greedy([s], maximumLength: 8)[0]
      #expect(alone.tokens == together[i].tokens)
      #expect(abs(alone.logProbability - together[i].logProbability) < 1e-4)
    }
  }

  @Test func resumeIsBitIdentical() throws {
    let straight = try Trainer(task: Seq2SeqTaskTests.task(attention: .general), options: Seq2SeqTaskTests.options(steps: 12))
    try straight.run()
    let first = try Trainer(task: Seq2SeqTaskTests.task(attention: .general), options: Seq2SeqTaskTests.options(steps: 12))
    first.stopRequested = { first.step == 7 }
    #expect(try first.run() == .stopped)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-s2s-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try first.archive().write(to: url)
    let archive = try ModelArchive.read(from: url)
    let (model, _) = try Seq2SeqTask.loadModel(from: archive)
    let t = first.task
    let resumedTask = try Seq2SeqTask(model: model, vocabulary: t.vocabulary, sources: t.sources, targets: t.targets, validation: t.validation,
                                      batchSize: t.batchSize, labelSmoothing: t.labelSmoothing, seed: t.seed)
    let resumed = try Trainer(resuming: archive, task: resumedTask)
    #expect(resumed.step == 7)
    #expect(try resumed.run() == .finished)
    try LanguageModelTrainerTests.expectSameBits(straight, resumed)
  }
}
