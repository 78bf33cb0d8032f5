/// Token ids for a tokenised corpus: `<pad>` is 0, `<unk>` is 1, then the tokens of the training
/// data by count (most frequent first), ties broken by the token's text, so the same data always
/// gives the same ids.
///
/// Built from the training split only (``LabeledTextTable/vocabulary(tokenizer:minimumCount:maximumSize:)``,
/// ``TaggedSentences/vocabulary(minimumCount:lowercase:)``): validation and test tokens that were not
/// seen in training encode as `<unk>`. Codable (as its token list) for model archives.
public struct TokenVocabulary: Sendable, Equatable, Codable {
  /// The padding token, id 0.
  public static let padding = "<pad>"
  /// The unknown-token token, id 1.
  public static let unknown = "<unk>"
  /// Id of ``padding``.
  public static let paddingID = 0
  /// Id of ``unknown``.
  public static let unknownID = 1

  /// The token of each id, `<pad>` and `<unk>` first.
  public let tokens: [String]
  private let index: [String: Int]

  /// A vocabulary of `tokens` in this id order; the specials are prepended when absent.
  public init(tokens: [String]) throws {
    var all = tokens
    if !(all.count >= 2 && all[0] == Self.padding && all[1] == Self.unknown) {
      all = [Self.padding, Self.unknown] + all.filter { $0 != Self.padding && $0 != Self.unknown }
    }
    var index: [String: Int] = [:]
    for (i, token) in all.enumerated() {
      guard index.updateValue(i, forKey: token) == nil else {
        throw DataError.invalidParameter(InvalidParameter(name: "tokens", value: token, expected: "a list without duplicates"))
      }
    }
    self.tokens = all
    self.index = index
  }

  /// Counts the tokens of `sequences` (the training data) and keeps those seen at least
  /// `minimumCount` times, most frequent first, at most `maximumSize` ids in all (specials included).
  public init(building sequences: some Sequence<[String]>, minimumCount: Int = 1, maximumSize: Int? = nil) throws {
    guard minimumCount >= 1 else { throw DataError.invalidParameter(InvalidParameter("minimumCount", minimumCount, expected: ">= 1")) }
    if let maximumSize, maximumSize < 2 {
      throw DataError.invalidParameter(InvalidParameter("maximumSize", maximumSize, expected: ">= 2 (<pad> and <unk>)"))
    }
    var counts: [String: Int] = [:]
    for sequence in sequences { for token in sequence { counts[token, default: 0] += 1 } }
    counts[Self.padding] = nil
    counts[Self.unknown] = nil
    var kept = counts.filter { $0.value >= minimumCount }.sorted { ($1.value, $0.key) < ($0.value, $1.key) }.map(\.key)
    if let maximumSize, kept.count > maximumSize - 2 { kept.removeLast(kept.count - (maximumSize - 2)) }
    try self.init(tokens: [Self.padding, Self.unknown] + kept)
  }

  /// Number of ids, specials included.
  public var count: Int { tokens.count }

  /// The id of `token`, ``unknownID`` when it is not in the vocabulary.
  public func id(_ token: String) -> Int { index[token] ?? Self.unknownID }

  /// The ids of `tokens`. With `maximumLength`, only the **first** `maximumLength` tokens are kept
  /// (the rest is cut off); no padding is added — pad a batch with ``paddingID`` to its longest item.
  public func encode(_ tokens: [String], maximumLength: Int? = nil) -> [Int] {
    let kept = maximumLength.map { tokens.prefix(max(0, $0)) } ?? tokens[...]
    return kept.map(id)
  }

  /// The tokens of `ids`; ids out of range decode as ``unknown``.
  public func decode(_ ids: [Int]) -> [String] {
    ids.map { $0 >= 0 && $0 < tokens.count ? tokens[$0] : Self.unknown }
  }

  /// Writes the token list.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(tokens)
  }

  /// Reads a token list written by ``encode(to:)``; it must start with `<pad>`, `<unk>` and have no duplicates.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let tokens = try container.decode([String].self)
    guard tokens.count >= 2, tokens[0] == Self.padding, tokens[1] == Self.unknown else {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "a token vocabulary starts with <pad>, <unk>")
    }
    do { try self.init(tokens: tokens) } catch {
      throw DecodingError.dataCorruptedError(in: container, debugDescription: "\(error)")
    }
  }
}
