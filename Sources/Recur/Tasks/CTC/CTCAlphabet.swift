/// The labels of a CTC model: class 0 is the blank, classes 1… are the characters of the training
/// transcriptions in sorted order (each character one label).
public struct CTCAlphabet: Sendable, Codable, Equatable {
  /// The characters of classes 1…, in class order.
  public let characters: [String]

  /// The distinct characters of `transcripts`, sorted.
  public init(transcripts: some Sequence<String>) {
    characters = Set(transcripts.flatMap { $0.map(String.init) }).sorted()
  }

  /// The blank class.
  public static let blank = 0

  /// Classes C: the blank and one per character.
  public var classCount: Int { characters.count + 1 }

  /// The classes of `transcript`. Throws `DataError.malformed` naming `line` and `column` of
  /// `source` for a character outside the alphabet.
  public func encode(_ transcript: String, source: String, line: Int, column: String) throws -> [Int] {
    var index: [String: Int] = [:]
    for (i, c) in characters.enumerated() { index[c] = i + 1 }
    return try transcript.map { ch throws(DataError) -> Int in
      guard let id = index[String(ch)] else {
        throw .malformed(source: source, line: line, column: column,
                         problem: "label '\(transcript.prefix(40))' has the character '\(ch)', which is not in the alphabet (\(characters.joined())); use labels made of the training characters")
      }
      return id
    }
  }

  /// The text of `labels` (classes 1…; the blank and unknown classes are skipped).
  public func decode(_ labels: [Int]) -> String {
    labels.filter { $0 >= 1 && $0 <= characters.count }.map { characters[$0 - 1] }.joined()
  }
}
