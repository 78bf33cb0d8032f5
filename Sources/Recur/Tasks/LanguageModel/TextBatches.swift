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
///
/// With `documentStarts` (the positions where documents begin, such as the tunes of an ABC
/// collection, one per blank-line-separated block) each stream starts at the first document
/// start at or after `b·⌊n/B⌋`, and all streams are as long as the shortest gap between two
/// stream starts: every pass then begins each stream, from a zero state, at the head of a
/// document, as sampling does. When the documents are too few for B such streams of T + 1 tokens
/// the layout is the contiguous one above.
public struct TextBatches: Sendable {
  /// B, the number of parallel streams.
  public let batchSize: Int
  /// T, the window length (the last window of a pass may be shorter).
  public let seqLength: Int
  /// L, the tokens in each stream.
  public let streamLength: Int
  /// The whole sequence; stream b is `ids[starts[b] ..< starts[b] + L]`.
  let ids: [Int]
  /// Where each stream starts in `ids`.
  public let starts: [Int]

  /// - Parameters:
  ///   - ids: the token sequence.
  ///   - batchSize: B, at least 1.
  ///   - seqLength: T, at least 1.
  ///   - what: the part of the text these ids are (`"training"`, `"validation"`), for the error.
  ///   - documentStarts: ascending positions in `ids` where documents begin, to align the streams
  ///     with; nil for contiguous streams.
  /// - Throws: ``TextCorpusError`` (reason ``TextCorpusError/Reason/tooShortForBatches(part:characters:batchSize:seqLength:)``)
  ///   when a stream would be shorter than T + 1 tokens (no full window with its target).
  public init(ids: [Int], batchSize: Int, seqLength: Int, what: String = "text", documentStarts: [Int]? = nil) throws {
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
    self.ids = ids
    if let documentStarts, let aligned = Self.alignedStarts(documentStarts, count: ids.count, batchSize: batchSize),
       aligned.length >= seqLength + 1 {
      streamLength = aligned.length
      starts = aligned.starts
    } else {
      streamLength = length
      starts = (0..<batchSize).map { $0 * length }
    }
  }

  /// Stream starts at the first document start at or after each `b·⌊count/B⌋`, and the common
  /// stream length; nil when two streams would start at the same document.
  static func alignedStarts(_ documentStarts: [Int], count: Int, batchSize: Int) -> (starts: [Int], length: Int)? {
    var starts: [Int] = []
    var next = 0
    for b in 0..<batchSize {
      let target = b * (count / batchSize)
      while next < documentStarts.count, documentStarts[next] < target { next += 1 }
      guard next < documentStarts.count, starts.last.map({ $0 < documentStarts[next] }) ?? true else { return nil }
      starts.append(documentStarts[next])
      next += 1
    }
    var length = count - starts[batchSize - 1]
    for b in 1..<max(batchSize, 1) { length = Swift.min(length, starts[b] - starts[b - 1]) }
    return (starts, length)
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
    let start = index * seqLength, B = columns.count
    var inputs = [Int](repeating: 0, count: steps * B)
    var targets = [Int](repeating: 0, count: steps * B)
    ids.withUnsafeBufferPointer { s in
      for t in 0..<steps {
        for (b, stream) in columns.enumerated() {
          inputs[t * B + b] = s[starts[stream] + start + t]
          targets[t * B + b] = s[starts[stream] + start + t + 1]
        }
      }
    }
    return (inputs, targets, steps)
  }
}
