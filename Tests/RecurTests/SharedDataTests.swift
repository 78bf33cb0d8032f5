import Foundation
import Testing
import RecurFuzz
@testable import Recur

/// The real files of `/work/shared/data` (next to the repository as `../shared/data`), checked
/// against the counts in its README. Skipped, with the reason recorded, when the directory is absent.
@Suite("Data: the shared data files", .enabled(if: sharedDataDirectory() != nil, "../shared/data is absent: the real-file checks were skipped"))
struct SharedDataTests {
  let root = sharedDataDirectory() ?? URL(fileURLWithPath: "/nonexistent")

  @Test func sentiment() throws {
    let table = try LabeledTextTable.read(contentsOf: root.appendingPathComponent("sentiment/movie_snippets_train.csv"))
    #expect(table.examples.count == 8484)
    #expect(table.labels.labels == ["0", "1"])
    #expect(table.examples.filter { $0.label == 1 }.count == 4203)
    let vocabulary = try table.vocabulary(tokenizer: WordTokenizer(), minimumCount: 2)
    #expect(vocabulary.count > 5000)
  }

  @Test func partOfSpeech() throws {
    let dev = try TaggedSentences.readTSV(contentsOf: root.appendingPathComponent("pos/en_ewt_dev_upos.tsv"))
    let test = try TaggedSentences.readTSV(contentsOf: root.appendingPathComponent("pos/en_ewt_test_upos.tsv"))
    #expect(dev.sentences.count == 2001 && dev.tokenCount == 25147)
    #expect(test.sentences.count == 2077 && test.tokenCount == 25094)
    #expect(LabelSet(dev.tagSet.labels + test.tagSet.labels).count == 17)
  }

  @Test func classification() throws {
    let dir = root.appendingPathComponent("classification")
    let gun = try NumericSequenceSet.readWide(contentsOf: dir.appendingPathComponent("gunpoint.csv"))
    #expect(gun.items(in: .train).count == 50 && gun.items(in: .test).count == 150)
    #expect(gun.items.allSatisfy { $0.steps == 150 } && gun.labels.labels == ["1", "2"])
    let italy = try NumericSequenceSet.readWide(contentsOf: dir.appendingPathComponent("italypowerdemand.csv"))
    #expect(italy.items(in: .train).count == 67 && italy.items(in: .test).count == 1029 && italy.items[0].steps == 24)
    let digits = try NumericSequenceSet.readWide(contentsOf: dir.appendingPathComponent("digits_8x8.csv"), featuresPerStep: 8)
    #expect(digits.items.count == 1797 && digits.featureCount == 8 && digits.items[0].steps == 8 && digits.labels.count == 10)
    let motions = try NumericSequenceSet.readLong(contentsOf: dir.appendingPathComponent("basicmotions.csv"))
    #expect(motions.items(in: .train).count == 40 && motions.items(in: .test).count == 40)
    #expect(motions.featureCount == 6 && motions.items.allSatisfy { $0.steps == 100 })
    #expect(motions.labels.labels == ["Badminton", "Running", "Standing", "Walking"])
  }

  @Test func speech() throws {
    let dir = root.appendingPathComponent("speech")
    let set = try NumericSequenceSet.readJoined(features: dir.appendingPathComponent("fsdd_mfcc13.csv"),
                                                labels: dir.appendingPathComponent("fsdd_index.csv"))
    #expect(set.items.count == 900 && set.items(in: .test).count == 300 && set.items(in: .train).count == 600)
    #expect(set.items.reduce(0) { $0 + $1.steps } == 37292)
    #expect(set.featureCount == 13 && set.labels.count == 10)
    #expect(set.items.allSatisfy { (12...129).contains($0.steps) })
  }
}

@Suite("Data: fuzzed text files")
struct DataFuzzTests {
  @Test func mutatedDataFilesGiveValuesOrDataErrors() {
    let report = _IOFuzzer.run(cases: 3000, seed: 20_261_207, extraSeeds: _IOFuzzer.dataSeeds() + _IOFuzzer.dataSeeds())
    #expect(report.failures.isEmpty, "\(report)")
    #expect(report.parsed + report.rejectedTotal == 3000)
    #expect(report.parsedData > 50, "\(report)")
    #expect(report.rejectedData > 50, "\(report)")
    #expect(report.slowestCase < 2, "\(report)")
  }
}
