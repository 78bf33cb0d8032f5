/// Writes new tunes with a character-level language model trained on ABC (such as O'Neill's
/// collection): each tune starts at `X:`, optionally primed with header fields (`M:6/8`, `K:G`,
/// `R:jig`), and ends where the model writes the blank line that separates tunes. Every tune is
/// read and checked with `ABCValidity`.
public struct TuneGenerator {
  /// A tune as sampled and checked.
  public struct Sample: Sendable {
    /// The tune's text, from `X:` to its last line (with a final newline).
    public let text: String
    /// Whether the model ended the tune with a blank line (false: cut at the length limit).
    public let ended: Bool
    /// The tune, when it reads.
    public let tune: ABCTune?
    /// What is wrong with it (empty when valid).
    public let problems: [ABCValidity.Problem]
    /// Ended, read and free of problems.
    public var isValid: Bool { ended && problems.isEmpty }
  }

  /// The model.
  public let model: CharLM
  /// Its characters.
  public let vocabulary: CharVocabulary
  /// Header fields written after `X:` before the model takes over, `K:` last.
  public let primingFields: [ABCTune.Field]
  /// The most characters drawn per tune (a tune longer than that counts as not ended).
  public var maximumLength = 4_000

  /// A generator priming every tune with `fields` (`"M:6/8"`, `"K:G"`, `"R:jig"`…).
  /// Throws `ABCError` for a field that is not `LETTER:value`, is `X:`, has a value the reader
  /// cannot read (a metre, key or length) or is given twice, and `CharVocabularyError` when the
  /// model's vocabulary lacks a character of the prompt.
  public init(model: CharLM, vocabulary: CharVocabulary, fields: [String] = []) throws {
    self.model = model
    self.vocabulary = vocabulary
    var parsed: [ABCTune.Field] = []
    for (i, text) in fields.enumerated() {
      func fail(_ problem: String) -> ABCError { ABCError(source: "header field \(i + 1)", line: 1, problem: problem) }
      guard let (letter, value) = ABCReader.fieldParts(text), !value.isEmpty else {
        throw fail("\"\(text)\" is not a header field; write a letter, a colon and a value, e.g. M:6/8, K:G or R:jig")
      }
      guard letter != "X" else { throw fail("X: is written by the generator (the tune's number); leave it out") }
      guard !parsed.contains(where: { $0.letter == letter }) else { throw fail("\(letter): is given twice; give each field once") }
      do {
        switch letter {
        case "M": _ = try ABCMetre.parse(value)
        case "L": _ = try ABCReader.parseUnitLength(value)
        case "K": _ = try ABCKey.parse(value)
        case "Q": _ = try ABCReader.parseTempo(value, unit: MusicFraction(1, 8)!)
        default: break
        }
      } catch let message as ABCMessage {
        throw fail(message.text)
      }
      guard !value.contains("\n") else { throw fail("a header field is one line") }
      parsed.append(ABCTune.Field(letter: letter, value: value))
    }
    // The collection's usual order: T, R, M, L, the rest, K last (K: ends the header).
    let rank: (Character) -> Int = { letter in ["T": 0, "R": 1, "M": 2, "L": 3, "K": 9][letter] ?? 4 }
    primingFields = parsed.enumerated().sorted { (rank($0.element.letter), $0.offset) < (rank($1.element.letter), $1.offset) }.map(\.element)
    _ = try vocabulary.encode(prompt(referenceNumber: 1))
  }

  /// The text the model continues: `X: n`, then the priming fields, one per line. A number with
  /// digits the model never saw is written as 1.
  public func prompt(referenceNumber: Int) -> String {
    let number = vocabulary.covers(String(referenceNumber)) ? String(referenceNumber) : "1"
    return "X: \(number)\n" + primingFields.map { "\($0.letter):\($0.value)\n" }.joined()
  }

  /// Samples tune number `referenceNumber` and checks it.
  public func sample(referenceNumber: Int, sampler: inout Sampler) throws -> Sample {
    let prompt = prompt(referenceNumber: referenceNumber)
    guard let newline = vocabulary.id(of: "\n") else {
      throw CharVocabularyError("the model's vocabulary has no newline, so it never learnt where a tune ends; train it on ABC text")
    }
    let (ids, ended) = try model.sampleDocument(prompt: try vocabulary.encode(prompt), newline: newline,
                                                 maximumLength: maximumLength, sampler: &sampler)
    var text = prompt + vocabulary.decode(ids)
    if !text.hasSuffix("\n") { text += "\n" }
    let (tune, problems) = ABCValidity.check(text, source: "tune \(referenceNumber)")
    return Sample(text: text, ended: ended, tune: tune, problems: problems)
  }
}
