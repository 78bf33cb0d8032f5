import Foundation
import Testing
@testable import Recur

@Suite("Data: numeric sequences")
struct NumericSequenceTests {
  @Test func readsWideRows() throws {
    let set = try NumericSequenceSet.readWide(contentsOf: dataFixture("italypower_head.csv"))
    #expect(set.items.count == 6)
    #expect(set.featureCount == 1)
    #expect(set.items.allSatisfy { $0.steps == 24 && $0.values.count == 24 })
    #expect(set.labels.labels == ["1", "2"])
    #expect(set.items.map(\.label) == [0, 0, 1, 1, set.items[4].label, set.items[5].label])
    #expect(set.items.map(\.split) == [.train, .train, .train, .train, .test, .test])
    #expect(abs(set.items[0].values[0] - -0.71051757) < 1e-6)
    // Several features per step: 2 steps × 2 features.
    let grid = try NumericSequenceSet.parseWide("label,a,b,c,d\nx,1,2,3,4\n", featuresPerStep: 2, source: "g.csv")
    #expect(grid.featureCount == 2 && grid.items[0].steps == 2 && grid.items[0].values == [1, 2, 3, 4])
    #expect(grid.items[0].split == nil)
  }

  @Test func readsLongRowsInAnyOrder() throws {
    let set = try NumericSequenceSet.readLong(contentsOf: dataFixture("basicmotions_head.csv"))
    #expect(set.items.map(\.id) == ["0", "20", "45"])
    #expect(set.featureCount == 6)
    #expect(set.items.map(\.steps) == [4, 4, 4])
    #expect(set.labels.labels == ["Standing", "Walking"])
    #expect(set.items.map(\.split) == [.train, .train, .test])
    let shuffled = "series_id,t,label,x\na,2,p,30\nb,0,q,5\na,0,p,10\na,1,p,20\n"
    let s = try NumericSequenceSet.parseLong(shuffled, source: "l.csv")
    #expect(s.items.map(\.values) == [[10, 20, 30], [5]])
    #expect(s.items.map(\.line) == [2, 3])
  }

  @Test func joinsLabelsFromASecondFile() throws {
    let set = try NumericSequenceSet.readJoined(features: dataFixture("fsdd_mfcc13_head.csv"), labels: dataFixture("fsdd_index_head.csv"))
    #expect(set.items.map(\.id) == ["0", "5", "100"])
    #expect(set.featureCount == 13)
    #expect(set.items.map(\.steps) == [4, 4, 4])
    #expect(set.labels.labels == ["0", "6"])
    #expect(set.items.map(\.split) == [.test, .train, .train])
    #expect(abs(set.items[0].values[0] - -42.748) < 1e-4)
  }

  @Test func readsTheTSFormat() throws {
    let set = try NumericSequenceSet.readTS(contentsOf: dataFixture("sample.ts"), split: .train)
    #expect(set.featureCount == 2)
    #expect(set.labels.labels == ["10", "run", "walk"])
    #expect(set.items.map(\.steps) == [3, 2, 1])
    #expect(set.items[0].values == [1, 4, 2, 5, 3, 6])
    #expect(set.items.map(\.label) == [2, 1, 0])
    let test = try NumericSequenceSet.parseTS("@classLabel true 10 run walk\n@dimensions 2\n@data\n1:2:run\n", split: .test, source: "b.ts")
    let both = try set.appending(test)
    #expect(both.items.count == 4 && both.items(in: .test).count == 1)
  }

  @Test func errorsNameRowAndColumn() {
    let notNumber = dataError { _ = try NumericSequenceSet.parseWide("label,t0,t1\n1,0.5,abc\n", source: "w.csv") }
    #expect(notNumber == .notANumber(source: "w.csv", line: 2, column: "t1", text: "abc"))
    #expect("\(notNumber!)".hasPrefix("w.csv line 2, column 't1':"))
    #expect(dataError { _ = try NumericSequenceSet.parseWide("label\n1\n", source: "w.csv") } == .emptySeries(series: "0", source: "w.csv", line: 2))
    #expect(dataError { _ = try NumericSequenceSet.parseWide("label,a\n1,2\n", labels: LabelSet(["2"]), source: "w.csv") }
      == .unknownLabel(label: "1", source: "w.csv", line: 2, column: "label", known: ["2"]))
    #expect(dataError { _ = try NumericSequenceSet.parseWide("split,label,a\ntrain,1,2\ntest,3,4\n", source: "w.csv") }
      == .labelOnlyInTest(label: "3", source: "w.csv", line: 3, column: "label"))
    let gap = dataError { _ = try NumericSequenceSet.parseLong("series_id,t,label,x\ns,0,a,1\ns,2,a,1\n", source: "l.csv") }
    #expect(gap == .stepGap(series: "s", source: "l.csv", line: 3, column: "t", expected: 1, found: 2))
    #expect("\(gap!)".contains("l.csv line 3, column 't': series 's'"))
    #expect(dataError { _ = try NumericSequenceSet.parseLong("series_id,t,label,x\ns,1,a,1\ns,1,a,1\n", source: "l.csv") }
      == .duplicateStep(series: "s", source: "l.csv", line: 3, column: "t", step: 1))
    #expect(dataError { _ = try NumericSequenceSet.parseLong("series_id,t,label,x\ns,0,a,1\ns,1,b,1\n", source: "l.csv") }
      .map { if case .inconsistentSeries(_, _, 3, "label", _) = $0 { true } else { false } } == true)
    #expect(dataError { _ = try NumericSequenceSet.parseLong("series_id,t,label,x\ns,0.5,a,1\n", source: "l.csv") }
      == .notANumber(source: "l.csv", line: 2, column: "t", text: "0.5"))
    #expect(dataError { _ = try NumericSequenceSet.parseJoined(features: "utt,frame,c\n1,0,2\n", labels: "utt,digit\n1,3\n2,4\n",
                                                                featuresSource: "f.csv", labelsSource: "i.csv") }
      == .emptySeries(series: "2", source: "i.csv", line: 3))
    #expect(dataError { _ = try NumericSequenceSet.parseJoined(features: "utt,frame,c\n9,0,2\n", labels: "utt,digit\n9,3\n8,4\n",
                                                                featureColumns: ["d"], featuresSource: "f.csv", labelsSource: "i.csv") }
      == .unknownColumn(column: "d", source: "f.csv", available: ["utt", "frame", "c"]))
  }

  @Test func tsErrors() {
    func ts(_ data: String, header: String = "@dimensions 2\n@classLabel true a b\n") -> DataError? {
      dataError { _ = try NumericSequenceSet.parseTS(header + "@data\n" + data, source: "e.ts") }
    }
    #expect(ts("1,?:2,3:a\n") == .missingValue(source: "e.ts", line: 4, column: "dimension 1"))
    #expect(ts("1,x:2,3:a\n") == .notANumber(source: "e.ts", line: 4, column: "dimension 1", text: "x"))
    let mismatch = ts("1,2:3:a\n")
    #expect(mismatch == .mismatchedLengths(series: "0", source: "e.ts", line: 4, column: "dimension 2", lengths: [2, 1]))
    #expect("\(mismatch!)".hasPrefix("e.ts line 4, column 'dimension 2'"))
    #expect(ts("1:2:c\n") == .unknownLabel(label: "c", source: "e.ts", line: 4, column: "class label", known: ["a", "b"]))
    #expect(ts(":2:a\n") == .emptySeries(series: "0", source: "e.ts", line: 4))
    #expect(ts("1:a\n") == .raggedRow(source: "e.ts", line: 4, fields: 1, expected: 2))
    #expect(ts("1:2:a\n", header: "@classLabel false\n").map { if case .malformed(_, 1, "@classLabel", _) = $0 { true } else { false } } == true)
    #expect(dataError { _ = try NumericSequenceSet.parseTS("@classLabel true a\n", source: "e.ts") } == .empty(source: "e.ts", reason: "has no @data section"))
  }

  @Test func stratifiedSplitAndStandardizer() throws {
    var items: [NumericSequence] = []
    for i in 0..<20 {
      items.append(NumericSequence(id: "\(i)", steps: 2, values: [Float(i), 5, Float(i) + 1, 5], label: i < 10 ? 0 : 1,
                                   split: i == 19 ? .test : nil, line: i + 2))
    }
    let set = NumericSequenceSet(items: items, featureCount: 2, labels: LabelSet(["a", "b"]))
    let split = try set.splittingValidation(fraction: 0.2, seed: 7)
    #expect(split.items(in: .validation).count == 4)
    #expect(split.items(in: .validation).filter { $0.label == 0 }.count == 2)
    #expect(split.items[19].split == .test)
    #expect(try set.splittingValidation(fraction: 0.2, seed: 7).items.map(\.split) == split.items.map(\.split))
    #expect(dataError { _ = try set.splittingValidation(fraction: 1, seed: 7) }?.invalidParameter?.name == "validationFraction")

    let scaler = try FeatureStandardizer(fitting: split)
    let train = split.items(in: .train).flatMap { [$0.values[0], $0.values[2]] }
    let mean = train.reduce(0, +) / Float(train.count)
    #expect(abs(scaler.mean[0] - mean) < 1e-5)
    #expect(scaler.mean[1] == 5 && scaler.std[1] == 1)
    let scaled = scaler.standardized(split)
    let z = scaled.items(in: .train).flatMap { [$0.values[0], $0.values[2]] }
    #expect(abs(z.reduce(0, +) / Float(z.count)) < 1e-5)
    let decoded = try JSONDecoder().decode(FeatureStandardizer.self, from: JSONEncoder().encode(scaler))
    #expect(decoded == scaler)

    let texts = try LabeledTextTable.parse("text,label\na,x\nb,x\nc,y\nd,y\n").splittingValidation(fraction: 0.5, seed: 1)
    #expect(texts.examples(in: .validation).count == 2)
  }
}
