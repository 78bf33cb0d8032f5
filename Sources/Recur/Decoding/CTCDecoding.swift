import Foundation

/// A decoded label sequence and its log-probability score.
public struct CTCHypothesis: Sendable, Equatable {
  /// The labels (blanks removed, repeats collapsed).
  public var labels: [Int]
  /// log p: of the best path for greedy decoding, of the labelling (all its alignments
  /// summed) for prefix beam search.
  public var logProbability: Double

  /// A hypothesis from its parts.
  public init(labels: [Int], logProbability: Double) {
    self.labels = labels
    self.logProbability = logProbability
  }
}

/// Decoders for CTC outputs: per-frame log-probabilities `[T, C]` of one sequence (rows past its
/// length are not passed).
public enum CTCDecoder {
  /// Best-path decoding: the most probable class of every frame, repeats collapsed, blanks dropped.
  public static func greedy(_ logProbs: [[Float]], blank: Int = 0) -> CTCHypothesis {
    var labels: [Int] = []
    var score = 0.0
    var previous = -1
    for frame in logProbs {
      guard let best = frame.indices.max(by: { frame[$0] < frame[$1] }) else { continue }
      score += Double(frame[best])
      if best != blank && best != previous { labels.append(best) }
      previous = best
    }
    return CTCHypothesis(labels: labels, logProbability: score)
  }

  /// Prefix beam search (Graves 2006; Hannun et al. 2014): keeps the `beamWidth` most probable
  /// label prefixes, each with the log-probability of ending in a blank and in its last label, so
  /// every alignment of a prefix is summed. Returns up to `best` hypotheses, most probable first.
  /// - Parameter pruneBelow: classes whose log-probability at a frame is below this are not
  ///   extended (speed; −∞ keeps every class).
  public static func beamSearch(_ logProbs: [[Float]], blank: Int = 0, beamWidth: Int = 8, best: Int = 1,
                                pruneBelow: Float = -.infinity) -> [CTCHypothesis] {
    precondition(beamWidth >= 1 && best >= 1, "beamWidth and best must be at least 1")
    struct Score { var blank = -Double.infinity, label = -Double.infinity; var total: Double { logAdd(blank, label) } }
    var beams: [[Int]: Score] = [[]: Score(blank: 0)]
    for frame in logProbs {
      var next: [[Int]: Score] = [:]
      for (prefix, score) in beams {
        for c in frame.indices where frame[c] >= pruneBelow {
          let p = Double(frame[c])
          if c == blank {
            next[prefix, default: Score()].blank = logAdd(next[prefix, default: Score()].blank, score.total + p)
            continue
          }
          let extended = prefix + [c]
          if prefix.last == c {
            // A repeat extends only from a blank ending; without one it stays the same prefix.
            next[extended, default: Score()].label = logAdd(next[extended, default: Score()].label, score.blank + p)
            next[prefix, default: Score()].label = logAdd(next[prefix, default: Score()].label, score.label + p)
          } else {
            next[extended, default: Score()].label = logAdd(next[extended, default: Score()].label, score.total + p)
          }
        }
      }
      // Keep the most probable prefixes; ties broken by the labels so results are deterministic.
      beams = Dictionary(uniqueKeysWithValues: next.sorted { a, b in
        a.value.total != b.value.total ? a.value.total > b.value.total : a.key.lexicographicallyPrecedes(b.key)
      }.prefix(beamWidth).map { ($0.key, $0.value) })
    }
    return beams.map { CTCHypothesis(labels: $0.key, logProbability: $0.value.total) }
      .sorted { $0.logProbability != $1.logProbability ? $0.logProbability > $1.logProbability : $0.labels.lexicographicallyPrecedes($1.labels) }
      .prefix(best).map { $0 }
  }

  /// The Levenshtein distance between two label sequences (for label error rates).
  public static func editDistance(_ a: [Int], _ b: [Int]) -> Int {
    if a.isEmpty { return b.count }
    var row = Array(0...b.count)
    for (i, x) in a.enumerated() {
      var diagonal = row[0]
      row[0] = i + 1
      for (j, y) in b.enumerated() {
        let substitution = diagonal + (x == y ? 0 : 1)
        diagonal = row[j + 1]
        row[j + 1] = Swift.min(substitution, row[j] + 1, row[j + 1] + 1)
      }
    }
    return row[b.count]
  }
}

/// log(exp(a) + exp(b)) without overflow; −∞ is the identity.
@inline(__always)
func logAdd(_ a: Double, _ b: Double) -> Double {
  if a == -.infinity { return b }
  if b == -.infinity { return a }
  return a > b ? a + Foundation.log1p(Foundation.exp(b - a)) : b + Foundation.log1p(Foundation.exp(a - b))
}
