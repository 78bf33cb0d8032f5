/// A token sequence read as B parallel streams in windows of T steps, for truncated
/// backpropagation through time with the hidden state carried from one window to the next.
///
/// The sequence (trimmed to a multiple of B) is cut into B contiguous streams of `streamLength`
/// tokens; stream b is `ids[b·L ..< (b+1)·L]`. Window w covers positions `w·T ..< w·T + T'` of
/// every stream, with T' = T except for a shorter last window, and its targets are the same
/// positions shifted by one. So column b of window w + 1 continues column b of window w exactly,
/// which is what makes carrying the final state of one window into the next correct. This is
/// PyTorch's `word_language_model` `batchify` + `get_batch`, and char-rnn's layout.
///
/// Windows are time-major: element `t·B + b` is step t of stream b, the `[T, B]` layout the
/// recurrent layers take without a transpose.
public struct TextBatches: Sendable {
  /// B, the number of parallel streams.
  public let batchSize: Int
  /// T, the window length (the last window of a pass may be shorter).
  public let seqLength: Int
  /// L, the tokens in each stream.
  public let streamLength: Int
  /// The trimmed sequence, stream after stream: `[B, L]`.
  let streams: [Int]

  /// - Parameters:
  ///   - ids: the token sequence.
  ///   - batchSize: B, at least 1.
  ///   - seqLength: T, at least 1.
  ///   - what: the part of the text these ids are (`"training"`, `"validation"`), for the error.
  /// - Throws: ``TextCorpusError`` (reason ``TextCorpusError/Reason/tooShortForBatches(part:characters:batchSize:seqLength:)``)
  ///   when a stream would be shorter than T + 1 tokens (no full window with its target).
  public init(ids: [Int], batchSize: Int, seqLength: Int, what: String = "text") throws {
    precondition(batchSize > 0 && seqLength > 0, "TextBatches: batchSize and seqLength must be positive")
    let length = ids.count / batchSize
    guard length >= seqLength + 1 else {
      throw TextCorpusError(
        .tooShortForBatches(part: what, characters: ids.count, batchSize: batchSize, seqLength: seqLength),
        "the \(what) part has \(ids.count) characters: too few for batchSize \(batchSize) × (seqLength \(seqLength) + 1) = "
          + "\(batchSize * (seqLength + 1)); use a longer text or a smaller batchSize or seqLength")
    }
    self.batchSize = batchSize
    self.seqLength = seqLength
    streamLength = length
    streams = Array(ids[..<(length * batchSize)])
  }

  /// Number of windows in one pass over the streams (the last may be shorter than T).
  public var windowCount: Int { (streamLength - 1 + seqLength - 1) / seqLength }

  /// Number of target tokens in one pass: B·(L − 1).
  public var tokenCount: Int { batchSize * (streamLength - 1) }

  /// Number of steps of window `index` (T, or fewer for the last one).
  public func steps(ofWindow index: Int) -> Int {
    precondition(index >= 0 && index < windowCount, "TextBatches: window \(index) out of range 0..<\(windowCount)")
    return Swift.min(seqLength, streamLength - 1 - index * seqLength)
  }

  /// Inputs and targets of window `index`, each `[T', B]` time-major (flattened); with `columns`,
  /// only those streams (`[T', columns.count]`, the part of a data-parallel process).
  public func window(_ index: Int, columns: Range<Int>? = nil) -> (inputs: [Int], targets: [Int], steps: Int) {
    let steps = steps(ofWindow: index)
    let columns = columns ?? 0..<batchSize
    precondition(columns.lowerBound >= 0 && columns.upperBound <= batchSize, "TextBatches: streams \(columns) out of 0..<\(batchSize)")
    let start = index * seqLength, B = columns.count, L = streamLength
    var inputs = [Int](repeating: 0, count: steps * B)
    var targets = [Int](repeating: 0, count: steps * B)
    streams.withUnsafeBufferPointer { s in
      for t in 0..<steps {
        for (b, stream) in columns.enumerated() {
          inputs[t * B + b] = s[stream * L + start + t]
          targets[t * B + b] = s[stream * L + start + t + 1]
        }
      }
    }
    return (inputs, targets, steps)
  }
}
