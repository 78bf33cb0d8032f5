/// The three vocabularies of a tagger: words (id 0 padding, 1 unknown, then the training words
/// in order of first appearance), characters (the same layout) and tags (in order of first
/// appearance). Built from the training sentences only; stored in archives.
///
/// With `lowercaseWords` (the default for new vocabularies) words are looked up lower-cased, so
/// "The" at the start of a sentence shares the embedding of "the"; the character ids keep the
/// case, so the spelling model still sees it.
public struct TaggingVocabulary: Sendable, Codable, Equatable {
  /// Word strings by id (`""` for padding and `"<unk>"` for the unknown word at 0 and 1).
  public private(set) var words: [String]
  /// Characters by id (`""` and `"<unk>"` at 0 and 1).
  public private(set) var characters: [String]
  /// Tag names by id.
  public private(set) var tags: [String]
  /// Whether words are looked up lower-cased (false in archives written before it existed).
  public private(set) var lowercaseWords: Bool
  private var wordIndex: [String: Int] = [:], characterIndex: [String: Int] = [:], tagIndex: [String: Int] = [:]

  private enum CodingKeys: String, CodingKey { case words, characters, tags, lowercaseWords }

  /// The vocabularies of `sentences`, each a list of (token, tag) pairs; words lower-cased when
  /// `lowercaseWords`.
  public init(sentences: [[(token: String, tag: String)]], lowercaseWords: Bool = true) {
    words = ["", "<unk>"]
    characters = ["", "<unk>"]
    tags = []
    self.lowercaseWords = lowercaseWords
    for sentence in sentences {
      for (token, tag) in sentence {
        let key = lowercaseWords ? token.lowercased() : token
        if wordIndex[key] == nil { wordIndex[key] = words.count; words.append(key) }
        for c in token where characterIndex[String(c)] == nil {
          characterIndex[String(c)] = characters.count
          characters.append(String(c))
        }
        if tagIndex[tag] == nil { tagIndex[tag] = tags.count; tags.append(tag) }
      }
    }
  }

  /// A stored vocabulary.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    words = try container.decode([String].self, forKey: .words)
    characters = try container.decode([String].self, forKey: .characters)
    tags = try container.decode([String].self, forKey: .tags)
    lowercaseWords = try container.decodeIfPresent(Bool.self, forKey: .lowercaseWords) ?? false
    rebuildIndexes()
  }

  /// Stores the three lists and the lookup rule.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.container(keyedBy: CodingKeys.self)
    try container.encode(words, forKey: .words)
    try container.encode(characters, forKey: .characters)
    try container.encode(tags, forKey: .tags)
    try container.encode(lowercaseWords, forKey: .lowercaseWords)
  }

  private mutating func rebuildIndexes() {
    wordIndex = Dictionary(words.enumerated().dropFirst(2).map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    characterIndex = Dictionary(characters.enumerated().dropFirst(2).map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
    tagIndex = Dictionary(tags.enumerated().map { ($1, $0) }, uniquingKeysWith: { a, _ in a })
  }

  /// The id of a word (1 when unknown).
  public func wordID(_ token: String) -> Int { wordIndex[lowercaseWords ? token.lowercased() : token] ?? 1 }
  /// Whether a word was seen in training (lower-cased when `lowercaseWords`).
  public func knows(_ token: String) -> Bool { wordID(token) != 1 }
  /// The most characters of one word the character BiLSTM reads (a 100,000-character "word"
  /// would otherwise widen every batch it is in to 100,000 steps).
  public static let maximumSpellingLength = 64

  /// The id of a tag, or nil for a tag not seen in training.
  public func tagID(_ tag: String) -> Int? { tagIndex[tag] }

  /// A sentence's ids. Throws `TaggingDataError.unknownTag` for a tag not seen in training
  /// (`sentence` numbers it in the message); tags are left empty when `tags` is nil.
  /// A word's spelling is read up to ``maximumSpellingLength`` characters: longer words keep
  /// their first and last halves of that (prefixes and suffixes carry what a tagger needs).
  public func encode(_ tokens: [String], tags: [String]? = nil, sentence: Int = 0) throws -> TaggingExample {
    let characterIDs = tokens.map { token -> [Int] in
      if token.isEmpty { return [1] }
      var spelling = Array(token)
      if spelling.count > Self.maximumSpellingLength {
        let half = Self.maximumSpellingLength / 2
        spelling = Array(spelling.prefix(half) + spelling.suffix(half))
      }
      return spelling.map { characterIndex[String($0)] ?? 1 }
    }
    let tagIDs = try (tags ?? []).map { tag in
      guard let id = tagIndex[tag] else { throw TaggingDataError.unknownTag(tag, sentence: sentence) }
      return id
    }
    return TaggingExample(words: tokens.map(wordID), characters: characterIDs, tags: tagIDs)
  }
}

/// Why tagging data cannot be used, in the data's terms.
public enum TaggingDataError: Error, Equatable, CustomStringConvertible {
  /// A tag that does not occur in the training data.
  case unknownTag(String, sentence: Int)
  /// No sentences at all (`what` names the split or file).
  case noSentences(what: String)
  /// A token line (1-based `line`) of `what` with `found` columns and no tag in `column`.
  case missingColumn(what: String, line: Int, column: Int, found: Int)
  /// A file that cannot be read as UTF-8 text.
  case unreadable(path: String)

  /// One line for the user.
  public var description: String {
    switch self {
    case let .unknownTag(tag, sentence): "sentence \(sentence) has the tag \"\(tag)\", which the training data does not have"
    case let .noSentences(what): "\(what) has no sentences"
    case let .missingColumn(what, line, column, found):
      "\(what), line \(line): no tag in column \(column) (the line has \(found) column\(found == 1 ? "" : "s"))"
    case let .unreadable(path): "\(path) cannot be read as UTF-8 text"
    }
  }
}
