import Foundation
import Testing
@testable import Recur

@Suite("Spoken-digit strings")
struct SpokenDigitStringsTests {
  /// An FSDD-shaped pair of files: 3 speakers × 10 digits × 6 recordings (index 0–1 test, the rest
  /// train); utterance u has 3 + u % 4 frames whose c0 is u and c1 the frame number.
  static func files() -> (frames: String, index: String) {
    var index = "utt,file,digit,speaker,index,split\n", frames = "utt,frame,c0,c1\n"
    var u = 0
    for speaker in ["ann", "bob", "cy"] {
      for digit in 0..<10 {
        for i in 0..<6 {
          index += "\(u),\(digit)_\(speaker)_\(i).wav,\(digit),\(speaker),\(i),\(i < 2 ? "test" : "train")\n"
          for t in 0..<(3 + u % 4) { frames += "\(u),\(t),\(u),\(t)\n" }
          u += 1
        }
      }
    }
    return (frames, index)
  }

  static func build(_ change: (inout SpokenDigitStrings.Settings) -> Void = { _ in }) throws -> SpokenDigitStrings {
    var settings = SpokenDigitStrings.Settings()
    settings.trainCount = 200
    settings.validationCount = 40
    settings.testCount = 60
    change(&settings)
    let (frames, index) = files()
    return try SpokenDigitStrings.build(features: frames, index: index, settings: settings)
  }

  @Test func theSameSeedGivesTheSameStringsAndAnotherSeedOthers() throws {
    #expect(try Self.build().strings == Self.build().strings)
    #expect(try Self.build().strings != Self.build { $0.seed = 2 }.strings)
  }

  @Test func stringsKeepToOneSpeakerAndTheirSplitAndConcatenateTheUtterances() throws {
    let built = try Self.build()
    let (frames, index) = Self.files()
    let utterances = try TranscribedSequenceSet.parseJoined(features: frames, labels: index, idColumn: "utt", labelColumn: "digit")
    let byID = Dictionary(uniqueKeysWithValues: utterances.items.map { ($0.id, $0) })
    let speakerOf = Dictionary(uniqueKeysWithValues: index.split(separator: "\n").dropFirst().map { line in
      let f = line.split(separator: ","); return (String(f[0]), String(f[3]))
    })
    #expect(built.strings.map(\.split) == [DataSplit](repeating: .train, count: 200) + [DataSplit](repeating: .validation, count: 40) + [DataSplit](repeating: .test, count: 60))
    var usedBy: [DataSplit: Set<String>] = [:]
    for s in built.strings {
      #expect((2...5).contains(s.utterances.count), "\(s.id) has \(s.utterances.count) utterances")
      #expect(Set(s.utterances).count == s.utterances.count, "\(s.id) repeats an utterance")
      #expect(s.utterances.allSatisfy { speakerOf[$0] == s.speaker }, "\(s.id) mixes speakers")
      let parts = s.utterances.map { byID[$0]! }
      #expect(parts.allSatisfy { ($0.split == .test) == (s.split == .test) }, "\(s.id) mixes train and test utterances")
      #expect(s.label == parts.map(\.transcript).joined() && s.steps == parts.reduce(0) { $0 + $1.steps })
      #expect(s.values == Array(parts.map(\.values).joined()))
      usedBy[s.split, default: []].formUnion(s.utterances)
    }
    // Validation strings use held-out training utterances that no training string contains.
    #expect(usedBy[.train]!.isDisjoint(with: usedBy[.validation]!))
    #expect(usedBy[.test]!.isDisjoint(with: usedBy[.train]!.union(usedBy[.validation]!)))
    // Every length from 2 to 5 occurs.
    #expect(Set(built.strings.map(\.utterances.count)) == [2, 3, 4, 5])
  }

  @Test func theWrittenFilesReadBackAsTheStrings() throws {
    let built = try Self.build { $0.minDigits = 1; $0.maxDigits = 3 }
    let set = try TranscribedSequenceSet.parseJoined(features: built.framesCSV(), labels: built.labelsCSV())
    #expect(set.featureCount == 2 && set.items.count == built.strings.count)
    for (item, s) in zip(set.items, built.strings) {
      #expect(item.id == s.id && item.transcript == s.label && item.split == s.split && item.values == s.values)
    }
  }

  @Test func invalidSettingsAndImpossibleRequestsAreDataErrors() throws {
    #expect(dataError { _ = try Self.build { $0.maxDigits = 1 } }?.invalidParameter?.name == "maxDigits")
    #expect(dataError { _ = try Self.build { $0.validationFraction = 0 } }?.invalidParameter?.name == "validationFraction")
    // Each speaker has 20 test utterances (2 per digit): 21 in one string is impossible.
    let error = dataError { _ = try Self.build { $0.validationCount = 0; $0.minDigits = 21; $0.maxDigits = 21 } }
    #expect(error?.description.contains("no speaker with 21 test utterances") == true, "\(String(describing: error))")
  }
}
