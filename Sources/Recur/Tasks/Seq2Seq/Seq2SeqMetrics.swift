/// Sequence-level and token-level error rates against several references.
///
/// A hypothesis is right when it equals any reference; its token errors are the smallest edit
/// distance (``CTCDecoder/editDistance(_:_:)``) to a reference, over that reference's length.
/// ```
/// word error rate  = wrong sequences / sequences
/// token error rate = Σ min_r edit(h, r) / Σ |r*|     (r* the closest reference)
/// ```
/// On grapheme-to-phoneme data these are the WER and PER of the literature.
public struct Seq2SeqMetrics: Sendable, Equatable {
  /// Sequences scored.
  public var sequences = 0
  /// Sequences equal to one of their references.
  public var correct = 0
  /// Edit operations to the closest reference, summed.
  public var tokenErrors = 0
  /// Length of the closest reference, summed.
  public var referenceTokens = 0

  /// No sequences yet.
  public init() {}

  /// Scores one hypothesis against its references (at least one).
  public mutating func add(_ hypothesis: [Int], references: [[Int]]) {
    precondition(!references.isEmpty, "Seq2SeqMetrics.add: a hypothesis needs at least one reference")
    sequences += 1
    if references.contains(hypothesis) { correct += 1 }
    var best = (errors: Int.max, length: 0)
    for r in references {
      let d = CTCDecoder.editDistance(hypothesis, r)
      if d < best.errors || (d == best.errors && r.count > best.length) { best = (d, r.count) }
    }
    tokenErrors += best.errors
    referenceTokens += best.length
  }

  /// The fraction of sequences equal to a reference.
  public var accuracy: Double { sequences == 0 ? 0 : Double(correct) / Double(sequences) }
  /// The fraction of sequences not equal to any reference (WER).
  public var wordErrorRate: Double { 1 - accuracy }
  /// Token edit operations per reference token (PER on phonemes).
  public var tokenErrorRate: Double { referenceTokens == 0 ? 0 : Double(tokenErrors) / Double(referenceTokens) }
}
