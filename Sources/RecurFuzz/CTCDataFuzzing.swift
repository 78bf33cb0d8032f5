import Foundation
import Recur

/// The inputs of CTC (issue 15) for the fuzzer: a labels CSV of label strings joined to fixed
/// frames, and an FSDD-style index the spoken-digit string builder reads with fixed frames.
extension _IOFuzzer {
  /// Frames every mutated labels file or index is joined with: ids 0–5, 2–4 frames of 2 features.
  static let ctcFrames = "id,frame,c0,c1\n" + (0..<6).map { id in
    (0..<(2 + id % 3)).map { t in "\(id),\(t),\(Double(id) * 0.5),\(-Double(t))\n" }.joined()
  }.joined()

  /// Valid small files of the CTC formats.
  static func ctcSeeds() -> [Seed] {
    [
      Seed(name: "ctc-labels.csv", format: .ctcLabels, bytes: Array("id,label,split\n0,ab,train\n1,ba,train\n2,\"a,b\",train\n3,aa,validation\n4,b,test\n5,ab,test\n".utf8)),
      Seed(name: "digit-index.csv", format: .digitIndex,
           bytes: Array(("utt,digit,speaker,split\n" + (0..<6).map { "\($0),\($0 % 3),\($0 < 3 ? "ann" : "bob"),\($0 % 3 == 0 ? "test" : "train")\n" }.joined()).utf8)),
    ]
  }

  /// Parses a CTC input and returns a broken invariant, or nil; reader errors propagate.
  static func ctcProblem(_ text: String, format: Format) throws -> String? {
    if format == .digitIndex {
      var settings = SpokenDigitStrings.Settings()
      (settings.trainCount, settings.validationCount, settings.testCount, settings.minDigits, settings.maxDigits) = (4, 0, 2, 1, 2)
      let built = try SpokenDigitStrings.build(features: ctcFrames.replacingOccurrences(of: "id,frame", with: "utt,frame"), index: text, settings: settings)
      for s in built.strings where s.utterances.isEmpty || s.steps * built.featureCount != s.values.count || s.label.isEmpty {
        return "string \(s.id) has an inconsistent shape or label"
      }
      let again = try TranscribedSequenceSet.parseJoined(features: built.framesCSV(), labels: built.labelsCSV())
      if again.items.map(\.transcript) != built.strings.map(\.label) { return "built strings do not read back" }
      return nil
    }
    let set = try TranscribedSequenceSet.parseJoined(features: ctcFrames, labels: text, featuresSource: "frames.csv", labelsSource: "fuzz.csv")
    if Set(set.items.map(\.id)).count != set.items.count { return "repeated ids" }
    for item in set.items where item.steps < 1 || item.values.count != item.steps * set.featureCount || item.transcript.isEmpty {
      return "item \(item.id) has an inconsistent shape or an empty label"
    }
    let train = set.items(in: .train)
    let alphabet = CTCAlphabet(transcripts: train.map(\.transcript))
    for item in train where alphabet.decode(try alphabet.encode(item.transcript, source: set.source, line: item.line, column: "label")) != item.transcript {
      return "label '\(item.transcript)' does not round-trip through the alphabet"
    }
    let input = try CTCInput(standardizer: FeatureStandardizer(mean: [0, 0], std: [1, 1]), frameStack: 2)
    if let data = try? CTCDataset(set.items, featureCount: set.featureCount, input: input, alphabet: alphabet, source: set.source) {
      _ = data.firstUnalignable()
    }
    return nil
  }
}
