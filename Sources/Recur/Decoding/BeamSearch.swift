import Foundation

/// Batched beam search with the length penalty of Wu et al. (2016).
///
/// Each source keeps `width` hypotheses (rows `source·width ..< (source+1)·width` of the model's
/// batch). At every step each unfinished hypothesis is extended by every allowed token, a finished
/// one is carried over unchanged, and the `width` candidates with the highest log-probability
/// survive (ties: the earlier hypothesis, then the lower token). A source stops when all its
/// hypotheses have ended; the search stops when every source has, or after `maximumLength` steps.
/// The n best are ranked by
/// ```
/// score(Y) = log P(Y) / lp(Y),   lp(Y) = ((5 + |Y|) / 6)^α     (|Y| counts the end token)
/// ```
/// With width 1 the search is greedy decoding.
public struct BeamSearch: Sendable {
  /// Hypotheses kept per source.
  public var width: Int
  /// α of the length penalty (0: rank by log-probability).
  public var lengthPenalty: Double
  /// The most steps (tokens, the end token included).
  public var maximumLength: Int

  /// A search of `width` hypotheses; `precondition`s on positive `width` and `maximumLength` and α ≥ 0.
  public init(width: Int, lengthPenalty: Double = 0, maximumLength: Int) {
    precondition(width >= 1 && maximumLength >= 1 && lengthPenalty >= 0,
                 "BeamSearch: width \(width) and maximumLength \(maximumLength) must be positive and lengthPenalty \(lengthPenalty) non-negative")
    self.width = width
    self.lengthPenalty = lengthPenalty
    self.maximumLength = maximumLength
  }

  /// Wu et al.'s lp for a sequence of `length` tokens.
  public func penalty(length: Int) -> Double {
    lengthPenalty == 0 ? 1 : Foundation.pow((5 + Double(length)) / 6, lengthPenalty)
  }

  private struct Hypothesis {
    var tokens: [Int] = []
    var attention: [[Float]] = []
    var logProbability: Double
    var finished = false
    var alive: Bool { logProbability > -.infinity }
  }

  /// The `best` highest-scoring sequences of each of `sources` sources, best first.
  /// - Parameters:
  ///   - model: the step function.
  ///   - state: the initial state of `sources` rows (one per source; repeated `width` times here).
  ///   - start: the first input token.
  ///   - end: the token that ends a sequence.
  ///   - excluded: tokens never chosen (padding, start).
  ///   - best: how many sequences to return per source (at most `width`).
  public func decode<Model: StepwiseDecoder>(_ model: Model, state: Model.State, sources: Int, start: Int, end: Int,
                                              excluded: Set<Int> = [], best: Int = 1) throws -> [[DecodedSequence]] {
    let K = width
    var beams = (0..<sources).map { _ in (0..<K).map { Hypothesis(logProbability: $0 == 0 ? 0 : -.infinity) } }
    var active = Array(0..<sources)  // sources still searching, in row-block order
    var state = model.select(state, rows: (0..<sources).flatMap { Array(repeating: $0, count: K) })
    for _ in 0..<maximumLength where !active.isEmpty {
      let previous = active.flatMap { s in beams[s].map { $0.finished ? end : ($0.tokens.last ?? start) } }
      let (logProbabilities, next, attention) = try model.step(previous, state: state)
      let V = logProbabilities.shape[1]
      var parents: [Int] = [], stillActive: [Int] = []
      logProbabilities.withUnsafeBufferPointer { p in
        for (block, source) in active.enumerated() {
          // (score, hypothesis, token or -1 for a finished carry-over, step log-probability)
          var candidates: [(score: Double, k: Int, token: Int, step: Float)] = []
          for (k, h) in beams[source].enumerated() where h.alive {
            if h.finished { candidates.append((h.logProbability, k, -1, 0)); continue }
            let row = (block * K + k) * V
            for v in 0..<V where !excluded.contains(v) {
              candidates.append((h.logProbability + Double(p[row + v]), k, v, p[row + v]))
            }
          }
          candidates.sort { a, b in
            if a.score != b.score { return a.score > b.score }
            if a.step != b.step { return a.step > b.step }
            return (a.k, a.token) < (b.k, b.token)
          }
          var chosen: [Hypothesis] = []
          for c in candidates.prefix(K) {
            var h = beams[source][c.k]
            if c.token >= 0 {
              h.logProbability = c.score
              if let attention { h.attention.append(attention.scalarsOfRow(block * K + c.k)) }
              if c.token == end { h.finished = true } else { h.tokens.append(c.token) }
            }
            chosen.append(h)
            parents.append(block * K + c.k)
          }
          while chosen.count < K {
            chosen.append(Hypothesis(logProbability: -.infinity, finished: true))
            parents.append(block * K)
          }
          beams[source] = chosen
          if chosen.contains(where: { $0.alive && !$0.finished }) { stillActive.append(source) }
        }
      }
      let keptRows = active.enumerated().filter { stillActive.contains($0.element) }.flatMap { block, _ in
        Array(parents[(block * K)..<((block + 1) * K)])
      }
      active = stillActive
      if !active.isEmpty { state = model.select(next, rows: keptRows) }
    }
    return beams.map { hypotheses in
      hypotheses.filter(\.alive).map { h in
        let length = h.tokens.count + (h.finished ? 1 : 0)
        return DecodedSequence(tokens: h.tokens, finished: h.finished, logProbability: h.logProbability,
                               score: h.logProbability / penalty(length: length), attention: h.attention)
      }
      .enumerated().sorted { a, b in a.element.score != b.element.score ? a.element.score > b.element.score : a.offset < b.offset }
      .prefix(best).map(\.element)
    }
  }
}
