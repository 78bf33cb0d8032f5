/// A source with all its reference targets, as ids (several rows with the same source in a file are
/// alternative references).
public struct Seq2SeqExample: Sendable, Equatable {
  /// The source ids.
  public var source: [Int]
  /// The reference target ids (at least one; without start and end).
  public var references: [[Int]]

  /// An example from its parts.
  public init(source: [Int], references: [[Int]]) {
    self.source = source
    self.references = references
  }

  /// The pairs grouped by source text, in order of first appearance, encoded with `vocabulary`.
  public static func grouping(_ pairs: [Seq2SeqPair], vocabulary: Seq2SeqVocabulary) -> [Seq2SeqExample] {
    var index: [[String]: Int] = [:]
    var examples: [Seq2SeqExample] = []
    for pair in pairs {
      let target = vocabulary.encodeTarget(pair.target)
      if let i = index[pair.source] {
        if !examples[i].references.contains(target) { examples[i].references.append(target) }
      } else {
        index[pair.source] = examples.count
        examples.append(Seq2SeqExample(source: vocabulary.encodeSource(pair.source), references: [target]))
      }
    }
    return examples
  }

  /// The most steps a decoder may take for a source of `length` tokens: twice the length plus 10.
  public static func maximumOutputLength(sourceLength length: Int) -> Int { 2 * length + 10 }
}
