import Foundation

/// Autocompletion with a character-level language model: the most likely ways to finish the word
/// being typed (or the next N words), found by beam search over characters, with their
/// probabilities.
///
/// Made for an editor calling it on every keystroke: the model's state after the text typed so
/// far is kept, so a keystroke that extends the text runs the model over the new characters only,
/// and one that deletes characters goes back to a saved state (the last `snapshotLimit`
/// positions are kept; further back the text is read again from the start).
///
/// A word is a run of letters, digits and apostrophes; any other character ends it. A completion
/// is the text up to (not including) the character that ends its last word; its probability is
/// that of the text followed by a word end, summed over the characters that can end it (so
/// "ersally" after "univ" counts "ersally " and "ersally," together).
public final class Completer {
  /// One way to continue the text.
  public struct Completion: Equatable, Sendable {
    /// The characters to add after the text.
    public let text: String
    /// Natural log of the probability of `text` followed by a word end.
    public let logProbability: Double
    /// The probability of `text` followed by a word end.
    public var probability: Double { Foundation.exp(logProbability) }
  }

  /// The model.
  public let model: CharLM
  /// Its characters.
  public let vocabulary: CharVocabulary
  /// How many earlier positions keep their state for cheap deletions.
  public var snapshotLimit = 256

  private var consumed: [Int] = []
  /// States after each consumed position (the last `snapshotLimit`), as (position, state, logits).
  private var snapshots: [(position: Int, state: RecurrentState, logits: [Float])] = []
  private let wordIDs: [Bool]

  /// A completer for `model` with `vocabulary`.
  public init(model: CharLM, vocabulary: CharVocabulary) {
    self.model = model
    self.vocabulary = vocabulary
    wordIDs = vocabulary.scalars.map { Completer.isWordScalar($0) }
  }

  static func isWordScalar(_ s: Unicode.Scalar) -> Bool {
    s.properties.isAlphabetic || s.properties.numericType != nil || s == "'" || s == "\u{2019}"
  }

  /// The `count` most likely completions of `prefix`, best first.
  /// - Parameters:
  ///   - prefix: the text so far (at least one character, all known to the model).
  ///   - count: k, the completions wanted (≥ 1).
  ///   - words: complete to the end of this many words (1: the current word, or the next one
  ///     when `prefix` ends between words).
  ///   - beamWidth: hypotheses kept per character step (default max(k, 8)).
  ///   - maximumLength: the most characters added (hypotheses still inside a word then are dropped).
  /// - Throws: `CharVocabularyError` when `prefix` has characters the model does not know.
  public func complete(_ prefix: String, count: Int = 5, words: Int = 1, beamWidth: Int? = nil, maximumLength: Int = 40) throws -> [Completion] {
    precondition(count >= 1 && words >= 1 && maximumLength >= 1, "Completer.complete: count, words and maximumLength must be ≥ 1")
    let ids = try vocabulary.encode(prefix)
    guard !ids.isEmpty else { throw CharVocabularyError("there is no text to complete; type at least one character") }
    let width = Swift.max(beamWidth ?? Swift.max(count, 8), count)
    return try withoutGradients {
      let (state, logits) = try advance(to: ids)
      return try search(state: state, logits: logits, inWord: wordIDs[ids[ids.count - 1]], count: count, words: words,
                        width: width, maximumLength: maximumLength)
    }
  }

  // MARK: - The typed text

  /// The state and next-character scores after `ids`, reusing what was computed for earlier text.
  private func advance(to ids: [Int]) throws -> (RecurrentState, [Float]) {
    var common = 0
    while common < Swift.min(ids.count, consumed.count), ids[common] == consumed[common] { common += 1 }
    // Back to the latest snapshot within the common part (position p: the state after p tokens).
    while let last = snapshots.last, last.position > common { snapshots.removeLast() }
    var start = 0
    var state: RecurrentState? = nil
    var logits: [Float] = []
    if let last = snapshots.last {
      start = last.position
      state = last.state
      logits = last.logits
    } else {
      snapshots = []
    }
    consumed = Array(ids[..<start])
    let V = vocabulary.count
    for p in start..<ids.count {
      let (out, next) = try model([ids[p]], steps: 1, batchSize: 1, state: state)
      state = next
      logits = out.scalars
      consumed.append(ids[p])
      snapshots.append((p + 1, next, logits))
      if snapshots.count > snapshotLimit { snapshots.removeFirst(snapshots.count - snapshotLimit) }
    }
    precondition(logits.count == V && state != nil, "Completer: no state after the prefix")
    return (state!, logits)
  }

  // MARK: - Beam search

  private struct Hypothesis {
    var ids: [Int]
    var logProbability: Double
    var inWord: Bool
    var wordsLeft: Int
    var row: Int  // its state's row in the batch of the step that made it
  }

  private func search(state: RecurrentState, logits: [Float], inWord: Bool, count: Int, words: Int, width: Int,
                      maximumLength: Int) throws -> [Completion] {
    let V = vocabulary.count
    var beams = [Hypothesis(ids: [], logProbability: 0, inWord: inWord, wordsLeft: words, row: 0)]
    var batchState = state
    var batchLogits = logits
    var finished: [[Int]: Double] = [:]
    for _ in 0..<maximumLength {
      var candidates: [Hypothesis] = []
      for beam in beams {
        let row = Array(batchLogits[(beam.row * V)..<(beam.row * V + V)])
        let logProbs = Self.logSoftmax(row)
        for c in Self.topIndices(logProbs, width) {
          let lp = beam.logProbability + logProbs[c]
          if wordIDs[c] {
            candidates.append(Hypothesis(ids: beam.ids + [c], logProbability: lp, inWord: true, wordsLeft: beam.wordsLeft, row: beam.row))
          } else if beam.inWord && beam.wordsLeft == 1 {
            finished[beam.ids] = Self.logAdd(finished[beam.ids] ?? -.infinity, lp)
          } else {
            let left = beam.inWord ? beam.wordsLeft - 1 : beam.wordsLeft
            candidates.append(Hypothesis(ids: beam.ids + [c], logProbability: lp, inWord: false, wordsLeft: left, row: beam.row))
          }
        }
      }
      candidates.sort { $0.logProbability > $1.logProbability }
      candidates = Array(candidates.prefix(width))
      // Probabilities only fall as text grows: stop once k finished ones beat every open one.
      let best = finished.values.sorted(by: >)
      if candidates.isEmpty || (best.count >= count && best[count - 1] >= candidates[0].logProbability) { break }
      let (nextState, nextLogits) = try step(candidates, from: batchState)
      batchState = nextState
      batchLogits = nextLogits
      beams = candidates.enumerated().map { i, h in var h = h; h.row = i; return h }
    }
    var completions: [Completion] = finished.map { key, value in Completion(text: vocabulary.decode(key), logProbability: value) }
    completions.sort { a, b in
      a.logProbability != b.logProbability ? a.logProbability > b.logProbability : a.text < b.text
    }
    return Array(completions.prefix(count))
  }

  /// Runs the model one character further for each hypothesis (its last id, from its row's state).
  private func step(_ hypotheses: [Hypothesis], from state: RecurrentState) throws -> (RecurrentState, [Float]) {
    let rows = hypotheses.map(\.row)
    let gathered = RecurrentState(h: Self.gather(state.h, rows: rows), c: state.c.map { Self.gather($0, rows: rows) })
    let (out, next) = try model(hypotheses.map { $0.ids[$0.ids.count - 1] }, steps: 1, batchSize: hypotheses.count, state: gathered)
    return (next, out.scalars)
  }

  /// Rows `rows` of a state tensor `[layers, B, H]` as `[layers, rows.count, H]`.
  static func gather(_ t: Tensor, rows: [Int]) -> Tensor {
    let L = t.shape[0], B = t.shape[1], H = t.shape[2]
    var out = [Float](repeating: 0, count: L * rows.count * H)
    t.withUnsafeBufferPointer { src in
      for l in 0..<L {
        for (i, r) in rows.enumerated() {
          precondition(r < B, "Completer.gather: row \(r) of \(B)")
          for j in 0..<H { out[(l * rows.count + i) * H + j] = src[(l * B + r) * H + j] }
        }
      }
    }
    return Tensor(shape: [L, rows.count, H], scalars: out)
  }

  static func logSoftmax(_ logits: [Float]) -> [Double] {
    let m = Double(logits.max() ?? 0)
    let total = logits.reduce(0.0) { $0 + Foundation.exp(Double($1) - m) }
    let log = m + Foundation.log(total)
    return logits.map { Double($0) - log }
  }

  static func topIndices(_ values: [Double], _ k: Int) -> [Int] {
    Array(values.indices.sorted { values[$0] > values[$1] || (values[$0] == values[$1] && $0 < $1) }.prefix(k))
  }

  static func logAdd(_ a: Double, _ b: Double) -> Double {
    if a == -.infinity { return b }
    if b == -.infinity { return a }
    let m = Swift.max(a, b)
    return m + Foundation.log(Foundation.exp(a - m) + Foundation.exp(b - m))
  }
}
