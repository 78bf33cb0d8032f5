/// How well predicted tags match gold tags: token accuracy, accuracy on the tokens whose word was
/// not in the training data (word id 1), and precision, recall and F1 of every tag.
public struct TaggingMetrics: Sendable, Equatable, Codable {
  /// Precision, recall and F1 of one tag, with its gold count (support).
  public struct TagScore: Sendable, Equatable, Codable {
    /// Correct predictions of the tag ÷ all predictions of it (0 when never predicted).
    public var precision: Double
    /// Correct predictions of the tag ÷ its gold occurrences (0 when it never occurs).
    public var recall: Double
    /// The harmonic mean of precision and recall (0 when both are 0).
    public var f1: Double
    /// Gold occurrences.
    public var support: Int
  }

  /// Tokens scored.
  public var tokens: Int
  /// Correct tokens ÷ tokens.
  public var accuracy: Double
  /// Tokens whose word is unknown to the model.
  public var unseenTokens: Int
  /// Accuracy on those tokens (0 when there are none).
  public var unseenAccuracy: Double
  /// Scores by tag id.
  public var perTag: [TagScore]

  /// Metrics of `predicted` against the gold tags of `sentences` over `tagCount` tags.
  public init(sentences: [TaggingExample], predicted: [[Int]], tagCount: Int) {
    precondition(sentences.count == predicted.count, "TaggingMetrics: \(predicted.count) predictions for \(sentences.count) sentences")
    var correct = 0, unseenCorrect = 0
    var gold = [Int](repeating: 0, count: tagCount), guessed = gold, hits = gold
    tokens = 0
    unseenTokens = 0
    for (s, p) in zip(sentences, predicted) {
      for (t, tag) in s.tags.enumerated() {
        let right = p[t] == tag
        tokens += 1
        gold[tag] += 1
        guessed[p[t]] += 1
        if right { correct += 1; hits[tag] += 1 }
        if s.words[t] == 1 {
          unseenTokens += 1
          if right { unseenCorrect += 1 }
        }
      }
    }
    accuracy = tokens > 0 ? Double(correct) / Double(tokens) : 0
    unseenAccuracy = unseenTokens > 0 ? Double(unseenCorrect) / Double(unseenTokens) : 0
    perTag = (0..<tagCount).map { k in
      let precision = guessed[k] > 0 ? Double(hits[k]) / Double(guessed[k]) : 0
      let recall = gold[k] > 0 ? Double(hits[k]) / Double(gold[k]) : 0
      let f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0
      return TagScore(precision: precision, recall: recall, f1: f1, support: gold[k])
    }
  }

  /// The metrics of `model`'s predictions on `sentences`, predicted in batches of 64.
  public init(model: SequenceTagger, sentences: [TaggingExample], tagCount: Int) throws {
    var predicted: [[Int]] = []
    for start in stride(from: 0, to: sentences.count, by: 64) {
      predicted += try model.predict(Array(sentences[start..<Swift.min(sentences.count, start + 64)]))
    }
    self.init(sentences: sentences, predicted: predicted, tagCount: tagCount)
  }

  /// The mean F1 over tags that occur in the gold data.
  public var macroF1: Double {
    let present = perTag.filter { $0.support > 0 }
    return present.isEmpty ? 0 : present.map(\.f1).reduce(0, +) / Double(present.count)
  }
}
