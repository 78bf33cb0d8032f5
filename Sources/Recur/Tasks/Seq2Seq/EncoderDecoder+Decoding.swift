/// An ``EncoderDecoder`` as a ``StepwiseDecoder`` in evaluation mode: the state is the decoder
/// state with the attention memory of the same rows, so beam search reorders both together.
public struct EncoderDecoderStepper: StepwiseDecoder {
  /// The decoder state and the memory its rows attend to.
  public struct State {
    /// The decoder's recurrent state and input feed.
    public var decoder: DecoderState
    /// The encoder memory of the same rows (nil without attention).
    public var memory: AttentionMemory?
    /// The source each row decodes (rows of one source share their memory).
    public var sources: [Int]
  }

  /// The model decoded.
  public let model: EncoderDecoder

  /// A stepper over `model`.
  public init(model: EncoderDecoder) { self.model = model }

  /// Encodes `sources` (evaluation mode, no tape): the initial state of one row per source.
  public func start(_ sources: [[Int]]) throws -> State {
    var context = ForwardContext.inference
    let (memory, state) = try withoutGradients { try model.encode(sources, context: &context) }
    return State(decoder: state, memory: memory, sources: Array(sources.indices))
  }

  /// Log-probabilities of the next target token of every row.
  public func step(_ previous: [Int], state: State) throws -> (logProbabilities: Tensor, state: State, attention: Tensor?) {
    var context = ForwardContext.inference
    return try withoutGradients {
      let r = try model.decoder.step(previous, state: state.decoder, memory: state.memory, context: &context)
      let logits = model.decoder.logits(r.output, context: &context)
      return (logits.logSoftmax(), State(decoder: r.state, memory: state.memory, sources: state.sources), r.weights)
    }
  }

  /// The rows `rows` of the state and the memory. The memory is copied only when the rows' sources
  /// change (a beam reordered within its source keeps it).
  public func select(_ state: State, rows: [Int]) -> State {
    let sources = rows.map { state.sources[$0] }
    return State(decoder: state.decoder.selecting(rows: rows),
                 memory: sources == state.sources ? state.memory : state.memory?.selecting(rows: rows), sources: sources)
  }
}

extension EncoderDecoder {
  /// Tokens never produced: padding and start.
  static let excludedOutputs: Set<Int> = [Seq2SeqVocabulary.paddingID, Seq2SeqVocabulary.startID]

  /// Greedy decoding of `sources`, at most `maximumLength` steps each.
  public func greedy(_ sources: [[Int]], maximumLength: Int) throws -> [DecodedSequence] {
    let stepper = EncoderDecoderStepper(model: self)
    return try GreedyDecoding.decode(stepper, state: try stepper.start(sources), rows: sources.count, start: Seq2SeqVocabulary.startID,
                                     end: Seq2SeqVocabulary.endID, excluded: Self.excludedOutputs, maximumLength: maximumLength)
  }

  /// Beam search over `sources`: the `best` sequences of each, best first.
  public func beamSearch(_ sources: [[Int]], search: BeamSearch, best: Int = 1) throws -> [[DecodedSequence]] {
    let stepper = EncoderDecoderStepper(model: self)
    return try search.decode(stepper, state: try stepper.start(sources), sources: sources.count, start: Seq2SeqVocabulary.startID,
                             end: Seq2SeqVocabulary.endID, excluded: Self.excludedOutputs, best: best)
  }
}
