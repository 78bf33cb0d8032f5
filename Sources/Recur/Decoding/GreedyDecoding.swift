/// Greedy decoding: every row takes its most probable next token (ties: the lowest id) until it
/// produces the end token or reaches `maximumLength` steps. Rows that have ended leave the batch.
public enum GreedyDecoding {
  /// Decodes `rows` sequences from `state`.
  /// - Parameters:
  ///   - model: the step function.
  ///   - state: the initial state of `rows` rows.
  ///   - start: the first input token of every row.
  ///   - end: the token that ends a sequence.
  ///   - excluded: tokens never chosen (padding, start).
  ///   - maximumLength: the most steps (tokens, the end token included).
  public static func decode<Model: StepwiseDecoder>(_ model: Model, state: Model.State, rows: Int, start: Int, end: Int,
                                                     excluded: Set<Int> = [], maximumLength: Int) throws -> [DecodedSequence] {
    var results = (0..<rows).map { _ in DecodedSequence(tokens: [], finished: false, logProbability: 0, score: 0, attention: []) }
    var active = Array(0..<rows)
    var previous = [Int](repeating: start, count: rows)
    var state = state
    for _ in 0..<maximumLength where !active.isEmpty {
      let (logProbabilities, next, attention) = try model.step(previous, state: state)
      let V = logProbabilities.shape[1]
      var kept: [Int] = []
      logProbabilities.withUnsafeBufferPointer { p in
        for (row, sequence) in active.enumerated() {
          var best = -1, bestValue = -Float.infinity
          for v in 0..<V where !excluded.contains(v) && (best < 0 || p[row * V + v] > bestValue) {
            best = v
            bestValue = p[row * V + v]
          }
          results[sequence].logProbability += Double(bestValue)
          if let attention { results[sequence].attention.append(attention.scalarsOfRow(row)) }
          if best == end {
            results[sequence].finished = true
          } else {
            results[sequence].tokens.append(best)
            kept.append(row)
            previous[row] = best
          }
        }
      }
      if kept.count < active.count {
        previous = kept.map { previous[$0] }
        active = kept.map { active[$0] }
        state = model.select(next, rows: kept)
      } else {
        state = next
      }
    }
    for i in results.indices { results[i].score = results[i].logProbability }
    return results
  }
}

extension Tensor {
  /// Row `row` of a 2-D tensor, as values.
  func scalarsOfRow(_ row: Int) -> [Float] {
    let width = shape[1]
    return withUnsafeBufferPointer { Array($0[(row * width)..<((row + 1) * width)]) }
  }
}
