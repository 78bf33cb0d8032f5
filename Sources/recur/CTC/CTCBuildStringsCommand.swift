import ArgumentParser
import Foundation
import Recur

/// `recur ctc build-strings`: writes the spoken-digit strings data set (frames CSV + labels CSV)
/// built by `SpokenDigitStrings` from the FSDD frames and index.
struct CTCBuildStringsCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "build-strings", abstract: "Build connected spoken-digit strings from isolated recordings (frames.csv, labels.csv).",
    discussion: """
      Each string concatenates --min-digits to --max-digits utterances of one speaker; training strings use training \
      utterances, test strings test utterances, validation strings a held-out --val-fraction of each speaker's training \
      utterances. The same --seed and inputs give the same files. Writes OUT/frames.csv (id, frame, c0 …) and \
      OUT/labels.csv (id, label, split, speaker, utterances), both or neither.
      """)

  @Option(help: ArgumentHelp("Frames of the isolated utterances: utt, frame, c0 … (fsdd_mfcc13.csv).", valueName: "file")) var frames: String
  @Option(help: ArgumentHelp("One row per utterance: utt, digit, speaker, split (fsdd_index.csv).", valueName: "file")) var index: String
  @Option(name: .customLong("train-count"), parsing: .unconditional, help: "Training strings (default 3000).") var trainCount = 3000
  @Option(name: .customLong("val-count"), parsing: .unconditional, help: "Validation strings (default 300; 0: none).") var valCount = 300
  @Option(name: .customLong("test-count"), parsing: .unconditional, help: "Test strings (default 500).") var testCount = 500
  @Option(name: .customLong("min-digits"), parsing: .unconditional, help: "Fewest utterances per string (default 2).") var minDigits = 2
  @Option(name: .customLong("max-digits"), parsing: .unconditional, help: "Most utterances per string (default 5).") var maxDigits = 5
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Share of each speaker's training utterances held out for validation strings (default 0.1).") var valFraction = 0.1
  @Option(parsing: .unconditional, help: "Seed of every draw (default 1).") var seed: UInt64 = 1
  @Option(help: ArgumentHelp("Output directory (default data/digit-strings).", valueName: "dir")) var out = "data/digit-strings"

  func run() throws {
    try reportingErrors(flags: CTCCommand.flags) {
      var settings = SpokenDigitStrings.Settings()
      settings.trainCount = trainCount
      settings.validationCount = valCount
      settings.testCount = testCount
      settings.minDigits = minDigits
      settings.maxDigits = maxDigits
      settings.validationFraction = valFraction
      settings.seed = seed
      let built = try SpokenDigitStrings.build(features: URL(fileURLWithPath: frames), index: URL(fileURLWithPath: index), settings: settings)
      let directory = URL(fileURLWithPath: out)
      try checkWritableDirectory(directory)
      try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
      let framesText = built.framesCSV(), labelsText = built.labelsCSV()
      let framesURL = directory.appendingPathComponent("frames.csv")
      try AtomicFile.write(Array(framesText.utf8), to: framesURL)
      do {
        try AtomicFile.write(Array(labelsText.utf8), to: directory.appendingPathComponent("labels.csv"))
      } catch {
        try? FileManager.default.removeItem(at: framesURL)
        throw error
      }
      let counts = DataSplit.allCases.map { s in "\(built.strings.filter { $0.split == s }.count) \(s.rawValue)" }.joined(separator: ", ")
      let frameCount = built.strings.reduce(0) { $0 + $1.steps }
      print("Wrote \(built.strings.count) strings (\(counts); \(frameCount) frames) to \(shellQuoted(directory.appendingPathComponent("frames.csv").path)) and labels.csv.")
    }
  }
}
