/// How one side of a sequence-to-sequence pair is split into tokens.
public enum Seq2SeqTokenization: String, Sendable, Codable, CaseIterable {
  /// One token per character (`cat` → `c a t`).
  case chars
  /// Tokens separated by whitespace (`K AE1 T` → `K`, `AE1`, `T`).
  case words

  /// The tokens of `text`.
  public func tokens(_ text: some StringProtocol) -> [String] {
    switch self {
    case .chars: text.map { String($0) }
    case .words: text.split(whereSeparator: { $0.isWhitespace }).map { String($0) }
    }
  }

  /// Joins tokens back into text.
  public func join(_ tokens: [String]) -> String { tokens.joined(separator: self == .chars ? "" : " ") }
}

/// Source and target vocabularies of a sequence-to-sequence model, built from the training pairs.
///
/// Source ids: `<pad>` 0, `<unk>` 1, then the training tokens (``TokenVocabulary``'s order).
/// Target ids: `<pad>` 0, `<unk>` 1, `<s>` 2 (start), `</s>` 3 (end), then the training tokens.
public struct Seq2SeqVocabulary: Sendable, Codable, Equatable {
  /// Padding id (both sides).
  public static let paddingID = 0
  /// Unknown-token id (both sides).
  public static let unknownID = 1
  /// Start-of-target id, the decoder's first input.
  public static let startID = 2
  /// End-of-target id, the decoder's last output.
  public static let endID = 3

  /// How sources are tokenised.
  public var sourceTokenization: Seq2SeqTokenization
  /// How targets are tokenised.
  public var targetTokenization: Seq2SeqTokenization
  /// Source tokens.
  public var source: TokenVocabulary
  /// Target tokens, specials `<pad> <unk> <s> </s>` first.
  public var target: TokenVocabulary

  /// The vocabularies of `pairs` (the training data).
  public init(pairs: [Seq2SeqPair], sourceTokenization: Seq2SeqTokenization, targetTokenization: Seq2SeqTokenization) throws {
    self.sourceTokenization = sourceTokenization
    self.targetTokenization = targetTokenization
    source = try TokenVocabulary(building: pairs.map(\.source))
    let built = try TokenVocabulary(building: pairs.map(\.target))
    target = try TokenVocabulary(tokens: [TokenVocabulary.padding, TokenVocabulary.unknown, "<s>", "</s>"]
      + built.tokens.dropFirst(2).filter { $0 != "<s>" && $0 != "</s>" })
  }

  /// Source ids of `tokens` (unknown tokens as 1).
  public func encodeSource(_ tokens: [String]) -> [Int] { source.encode(tokens) }
  /// Target ids of `tokens` (unknown tokens as 1).
  public func encodeTarget(_ tokens: [String]) -> [Int] { target.encode(tokens) }
  /// The target text of ids (specials dropped).
  public func decodeTarget(_ ids: [Int]) -> String {
    targetTokenization.join(target.decode(ids.filter { $0 > Self.endID || $0 == Self.unknownID }))
  }
}
