import Foundation

/// Connected spoken-digit strings for CTC, built from isolated recordings: each string
/// concatenates the frames of `minDigits…maxDigits` utterances of **one** speaker, and its label is
/// their digits in order ("4071"). Training strings use only training utterances, test strings
/// only test utterances; validation strings use a held-out share of each speaker's training
/// utterances that no training string contains. Everything is drawn from one seeded generator,
/// so a seed and the two input files give the same strings on every machine.
///
/// The input is the Free Spoken Digit Dataset layout of `shared/data/speech/`: frames
/// `utt, frame, c0 … cK` and an index `utt, digit, speaker, split, …` joined on `utt`.
public struct SpokenDigitStrings: Sendable {
  /// How many strings of which lengths, and the seed.
  public struct Settings: Sendable, Equatable {
    /// Strings built from training utterances.
    public var trainCount = 3000
    /// Strings built from the held-out training utterances (0: no validation part).
    public var validationCount = 300
    /// Strings built from test utterances.
    public var testCount = 500
    /// The fewest utterances in a string.
    public var minDigits = 2
    /// The most utterances in a string.
    public var maxDigits = 5
    /// The share of each speaker's training utterances held out for validation strings.
    public var validationFraction = 0.1
    /// The seed of every draw.
    public var seed: UInt64 = 1

    /// The defaults: 3,000 / 300 / 500 strings of 2–5 digits, 10 % of the training utterances
    /// held out for validation, seed 1.
    public init() {}

    /// Throws `DataError.invalidParameter` for the first invalid value.
    public func validate() throws {
      func require(_ ok: Bool, _ name: String, _ value: some Any, _ expected: String) throws {
        if !ok { throw DataError.invalidParameter(InvalidParameter(name, value, expected: expected)) }
      }
      try require(trainCount >= 1, "trainCount", trainCount, "a positive integer")
      try require(validationCount >= 0, "validationCount", validationCount, "≥ 0")
      try require(testCount >= 0, "testCount", testCount, "≥ 0")
      try require(minDigits >= 1, "minDigits", minDigits, "a positive integer")
      try require(maxDigits >= minDigits, "maxDigits", maxDigits, "≥ minDigits (\(minDigits))")
      try require(validationFraction >= 0 && validationFraction < 1, "validationFraction", validationFraction, "in [0, 1)")
      try require(validationCount == 0 || validationFraction > 0, "validationFraction", validationFraction,
                  "> 0 when validation strings are asked for")
    }
  }

  /// One built string.
  public struct Entry: Sendable, Equatable {
    /// `train-0001`, `validation-0001`, `test-0001`, ….
    public var id: String
    /// The split of every utterance in it.
    public var split: DataSplit
    /// The one speaker of every utterance in it.
    public var speaker: String
    /// The ids of its utterances, in order.
    public var utterances: [String]
    /// The digits of its utterances, in order.
    public var label: String
    /// Frames T (the sum of the utterances').
    public var steps: Int
    /// The frames `[T, F]`, row-major.
    public var values: [Float]
  }

  /// Features per frame F.
  public let featureCount: Int
  /// The strings: training, then validation, then test.
  public let strings: [Entry]

  /// Builds the strings from the files at `features` and `index`; see
  /// ``build(features:index:settings:featuresSource:indexSource:)``.
  public static func build(features: URL, index: URL, settings: Settings) throws -> SpokenDigitStrings {
    let f = try DataFile.text(features), i = try DataFile.text(index)
    return try build(features: f.text, index: i.text, settings: settings, featuresSource: f.source, indexSource: i.source)
  }

  /// Builds the strings from the texts of the frames file and the index. Throws `DataError` for
  /// unreadable inputs, invalid settings, a speaker-less or split-less index row, a test
  /// utterance without a split, and a part (train, validation, test) with strings to build but no
  /// speaker who has `minDigits` utterances in it.
  public static func build(features: String, index: String, settings: Settings, featuresSource: String = "features CSV",
                           indexSource: String = "index CSV") throws -> SpokenDigitStrings {
    try settings.validate()
    let set = try TranscribedSequenceSet.parseJoined(features: features, labels: index, idColumn: "utt", stepColumn: "frame",
                                                     labelColumn: "digit", featuresSource: featuresSource, labelsSource: indexSource)
    let table = try CSVTable(index, source: indexSource)
    let speakerColumn = try table.column("speaker"), idColumn = try table.column("utt")
    var speakerOf: [String: String] = [:]
    for row in table.rows {
      let speaker = row.fields[speakerColumn].trimmingCharacters(in: .whitespaces)
      guard !speaker.isEmpty else { throw DataError.emptyText(source: indexSource, line: row.line, column: "speaker") }
      speakerOf[row.fields[idColumn].trimmingCharacters(in: .whitespaces)] = speaker
    }
    var generator = RandomGenerator(seed: settings.seed)

    // Pools of utterance indices per part and speaker; validation takes a share of each speaker's training utterances.
    var pools: [DataSplit: [String: [Int]]] = [:]
    for (i, item) in set.items.enumerated() {
      guard let split = item.split else {
        throw DataError.malformed(source: indexSource, line: item.line, column: "split", problem: "has no split; every utterance needs train or test")
      }
      pools[split == .validation ? .train : split, default: [:]][speakerOf[item.id]!, default: []].append(i)
    }
    for speaker in (pools[.train] ?? [:]).keys.sorted() {
      var utterances = pools[.train]![speaker]!
      utterances.shuffle(using: &generator)
      let held = Int((Double(utterances.count) * settings.validationFraction).rounded())
      pools[.validation, default: [:]][speaker] = Array(utterances.prefix(held)).sorted()
      pools[.train]![speaker] = Array(utterances.dropFirst(held)).sorted()
    }

    var strings: [Entry] = []
    for (split, count) in [(DataSplit.train, settings.trainCount), (.validation, settings.validationCount), (.test, settings.testCount)] where count > 0 {
      let speakers = (pools[split] ?? [:]).filter { $0.value.count >= settings.minDigits }.keys.sorted()
      guard !speakers.isEmpty else {
        throw DataError.empty(source: indexSource, reason: "has no speaker with \(settings.minDigits) \(split.rawValue) utterances to build \(split.rawValue) strings from")
      }
      let width = String(count).count
      for k in 0..<count {
        let speaker = speakers[Int(generator.next() % UInt64(speakers.count))]
        var pool = pools[split]![speaker]!
        let most = min(settings.maxDigits, pool.count)
        let n = settings.minDigits + Int(generator.next() % UInt64(most - settings.minDigits + 1))
        var chosen: [Int] = []
        for j in 0..<n {
          pool.swapAt(j, j + Int(generator.next() % UInt64(pool.count - j)))
          chosen.append(pool[j])
        }
        let parts = chosen.map { set.items[$0] }
        let number = String(k + 1)
        strings.append(Entry(id: "\(split.rawValue)-" + String(repeating: "0", count: width - number.count) + number, split: split,
                             speaker: speaker, utterances: parts.map(\.id), label: parts.map(\.transcript).joined(),
                             steps: parts.reduce(0) { $0 + $1.steps }, values: Array(parts.map(\.values).joined())))
      }
    }
    return SpokenDigitStrings(featureCount: set.featureCount, strings: strings)
  }

  /// The frames as CSV: `id, frame, c0 … c{F−1}`, one row per frame.
  public func framesCSV() -> String {
    var text = "id,frame," + (0..<featureCount).map { "c\($0)" }.joined(separator: ",") + "\n"
    for s in strings {
      for t in 0..<s.steps {
        text += "\(s.id),\(t)"
        for k in 0..<featureCount { text += ",\(s.values[t * featureCount + k])" }
        text += "\n"
      }
    }
    return text
  }

  /// One row per string: `id, label, split, speaker, utterances` (the utterance ids joined by spaces).
  public func labelsCSV() -> String {
    "id,label,split,speaker,utterances\n" + strings.map { s in
      "\(s.id),\(csvField(s.label)),\(s.split.rawValue),\(csvField(s.speaker)),\(csvField(s.utterances.joined(separator: " ")))\n"
    }.joined()
  }

  /// `text` quoted when it holds a comma, a quote or a line break.
  private func csvField(_ text: String) -> String {
    text.contains(where: { $0 == "," || $0 == "\"" || $0.isNewline }) ? "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\"" : text
  }
}
