/// A character-level language model: embedding → recurrent stack → linear decoder to one score
/// per character.
///
/// ```
/// e_t = dropout(E[x_t])                       E: [V, embeddingSize]
/// (o_t, state) = RNN(e_t, state)              LSTM, GRU or tanh RNN, numLayers × hiddenSize,
///                                             dropout between layers
/// logits_t = W · dropout(o_t) + b             W: [V, hiddenSize]
/// ```
///
/// Shapes: tokens `[T, B]` (time-major, flattened), logits `[T, B, V]`; the state is the
/// recurrent layer's (`h` `[numLayers, B, H]`, plus `c` for the LSTM).
///
/// Parameters are named as the PyTorch module
/// ```python
/// class CharLM(nn.Module):          # embedding, rnn, decoder attributes
///     def __init__(self, V, E, H, L, p):
///         self.embedding = nn.Embedding(V, E); self.rnn = nn.LSTM(E, H, L, dropout=p)
///         self.drop = nn.Dropout(p); self.decoder = nn.Linear(H, V)
/// ```
/// would name them (`embedding.weight`, `rnn.weight_ih_l0` …, `decoder.weight`, `decoder.bias`),
/// so its `state_dict` saved with safetensors loads here, and the other way round.
///
/// Dropout (inverted, probability `dropout`) applies to the embeddings, between recurrent layers
/// and to the recurrent output, in training only — the placement of PyTorch's
/// `word_language_model`. Its masks come from `dropoutGenerator` and the recurrent layer's own
/// `generator`; both are part of a checkpoint so a resumed run draws the same masks.
public final class CharLM: Module {
  /// The recurrent cell of a `CharLM`.
  public enum Cell: String, Sendable, Codable, CaseIterable {
    case lstm, gru, rnn
  }

  /// Everything needed to rebuild the model's shape (stored in checkpoints).
  public struct Configuration: Sendable, Codable, Equatable {
    public var cell: Cell
    public var vocabularySize: Int
    public var embeddingSize: Int
    public var hiddenSize: Int
    public var numLayers: Int
    public var dropout: Float

    public init(cell: Cell = .lstm, vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 512,
                numLayers: Int = 2, dropout: Float = 0.25) {
      self.cell = cell
      self.vocabularySize = vocabularySize
      self.embeddingSize = embeddingSize
      self.hiddenSize = hiddenSize
      self.numLayers = numLayers
      self.dropout = dropout
    }

    /// Describes the first invalid value, or nil when all are valid.
    public var problem: String? {
      if vocabularySize < 1 { return "vocabulary size must be at least 1, got \(vocabularySize)" }
      if embeddingSize < 1 { return "--embedding-size must be a positive integer, got \(embeddingSize)" }
      if hiddenSize < 1 { return "--hidden-size must be a positive integer, got \(hiddenSize)" }
      if numLayers < 1 { return "--num-layers must be a positive integer, got \(numLayers)" }
      if !(dropout >= 0 && dropout < 1) { return "--dropout must be in [0, 1), got \(dropout)" }
      return nil
    }
  }

  /// The recurrent state carried between windows: `h` `[numLayers, B, H]`, and `c` (same shape)
  /// for the LSTM.
  public struct State {
    public var h: Tensor
    public var c: Tensor?
    public init(h: Tensor, c: Tensor?) { self.h = h; self.c = c }
    /// The state cut from the tape (truncated BPTT).
    public func detached() -> State { State(h: h.detached(), c: c?.detached()) }
  }

  public let configuration: Configuration
  public let embedding: Embedding
  /// The recurrent stack (`LSTM`, `GRU` or `RNN`).
  public let rnn: RecurrentLayer
  public let decoder: Linear
  let dropoutLayer: Dropout
  /// Draws the masks of the embedding and output dropout.
  public var dropoutGenerator: RandomGenerator
  public var isTraining = true

  /// A freshly initialised model (PyTorch's default initialisations, drawn from `seed`).
  public init(_ configuration: Configuration, seed: UInt64) {
    if let problem = configuration.problem { preconditionFailure("CharLM: \(problem)") }
    self.configuration = configuration
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    embedding = Embedding(count: c.vocabularySize, dimension: c.embeddingSize, generator: &generator)
    let rnnSeed = generator.next()
    // Dropout between layers only exists with more than one layer (avoids PyTorch's warning).
    let between: Float = c.numLayers > 1 ? c.dropout : 0
    switch c.cell {
    case .lstm:
      rnn = LSTM(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: between, seed: rnnSeed)
    case .gru:
      rnn = GRU(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: between, seed: rnnSeed)
    case .rnn:
      rnn = RNN(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers, dropout: between, seed: rnnSeed)
    }
    decoder = Linear(inputSize: c.hiddenSize, outputSize: c.vocabularySize, generator: &generator)
    dropoutLayer = Dropout(p: c.dropout)
    dropoutGenerator = RandomGenerator(seed: generator.next())
  }

  public var children: [(name: String, module: any Module)] {
    [("embedding", embedding), ("rnn", rnn), ("decoder", decoder)]
  }

  /// A zero state for `batchSize` streams.
  public func zeroState(batchSize: Int) -> State {
    let shape = [configuration.numLayers, batchSize, configuration.hiddenSize]
    return State(h: .zeros(shape), c: configuration.cell == .lstm ? .zeros(shape) : nil)
  }

  /// Scores for the next character after each input.
  /// - Parameters:
  ///   - tokens: `[steps, batchSize]` ids, time-major, each in `0..<vocabularySize`.
  ///   - state: the state after the previous window (zeros when nil).
  /// - Returns: logits `[steps, batchSize, V]` and the state after the last step.
  public func callAsFunction(_ tokens: [Int], steps: Int, batchSize: Int, state: State? = nil) throws -> (logits: Tensor, state: State) {
    precondition(tokens.count == steps * batchSize, "CharLM: \(tokens.count) tokens do not fill [\(steps), \(batchSize)]")
    var x = embedding(tokens, shape: [steps, batchSize])
    if isTraining { x = dropoutLayer(x, generator: &dropoutGenerator) }
    let output: Tensor, next: State
    switch rnn {
    case let lstm as LSTM:
      let r = try lstm(x, state.map { LSTMState(h: $0.h, c: $0.c ?? .zeros($0.h.shape)) })
      (output, next) = (r.output, State(h: r.state.h, c: r.state.c))
    case let gru as GRU:
      let r = try gru(x, state?.h)
      (output, next) = (r.output, State(h: r.state, c: nil))
    case let plain as RNN:
      let r = try plain(x, state?.h)
      (output, next) = (r.output, State(h: r.state, c: nil))
    default:
      preconditionFailure("CharLM: unknown recurrent layer \(type(of: rnn))")
    }
    let y = isTraining ? dropoutLayer(output, generator: &dropoutGenerator) : output
    return (decoder(y), next)
  }
}

extension CharLM {
  /// The cell of a model saved as a state dict, from its recurrent weight shapes: gate blocks of
  /// `rnn.weight_ih_l0` rows ÷ `rnn.weight_hh_l0` columns (4 LSTM, 3 GRU, 1 RNN).
  public static func inferCell(from tensors: [String: Tensor]) -> Cell? {
    guard let wih = tensors["rnn.weight_ih_l0"], let whh = tensors["rnn.weight_hh_l0"], wih.rank == 2, whh.rank == 2,
          whh.shape[1] > 0 else { return nil }
    switch wih.shape[0] / whh.shape[1] {
    case 4: return .lstm
    case 3: return .gru
    case 1: return .rnn
    default: return nil
    }
  }
}
