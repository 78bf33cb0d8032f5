/// A character-level language model: embedding → recurrent stack → linear decoder to one score
/// per character.
///
/// ```
/// e_t = dropout(E[x_t])                       E: [V, embeddingSize]   (placement .all only)
/// (o_t, state) = RNN(e_t, state)              LSTM, GRU or tanh RNN, numLayers × hiddenSize,
///                                             dropout between layers
/// logits_t = W · dropout(o_t) + b             W: [V, hiddenSize]       (placement .all only)
/// ```
///
/// Shapes: tokens `[T, B]` (time-major, flattened), logits `[T, B, V]`; the state is the
/// recurrent layer's (`h` `[numLayers, B, H]`, plus `c` for the LSTM).
///
/// With `residualBlocks` set (minGRU or minLSTM only) the recurrent stack is a
/// `ResidualMinimalRecurrentStack` of `numLayers` pre-norm residual blocks of width `hiddenSize`
/// (recurrent layer with expansion, feed-forward, optional causal convolution, final norm): the
/// language-model architecture of Feng et al. 2024. Its parameters are named `rnn.blocks.0.…`.
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
/// Dropout (inverted, probability `dropout`, training only) applies to the embeddings, between
/// recurrent layers and to the recurrent output with `DropoutPlacement.all` — the placement of
/// PyTorch's `word_language_model` — or only between recurrent layers with `.betweenLayers` (what
/// `nn.LSTM(dropout=p)` alone does). Every mask is drawn from the `ForwardContext` of the call.
public final class CharLM: Module {
  /// Where dropout applies.
  public enum DropoutPlacement: String, Sendable, Codable, CaseIterable {
    /// On the embeddings, between recurrent layers and on the recurrent output.
    case all
    /// Between recurrent layers only.
    case betweenLayers = "between-layers"
  }

  /// Everything needed to rebuild the model's shape (stored in archives).
  public struct Configuration: Sendable, Codable, Equatable {
    /// The recurrent layer: an LSTM/GRU/RNN cell or a parallel-scan minGRU/minLSTM.
    public var cell: SequenceLayerKind
    /// V, the number of distinct tokens.
    public var vocabularySize: Int
    /// The width of the token embeddings.
    public var embeddingSize: Int
    /// H, the recurrent layers' width.
    public var hiddenSize: Int
    /// Recurrent layers stacked.
    public var numLayers: Int
    /// Dropout probability (training only), applied where `dropoutPlacement` says.
    public var dropout: Float
    /// Where dropout applies (archives written before this setting existed read as `.all`).
    public var dropoutPlacement: DropoutPlacement
    /// Residual blocks around a minGRU/minLSTM layer (see `ResidualMinimalRecurrentStack`), or nil
    /// for a plain stack (archives written before this setting existed read as nil).
    public var residualBlocks: ResidualBlockSettings?

    /// A configuration; the vocabulary size usually comes from the corpus.
    public init(cell: SequenceLayerKind = .recurrent(.lstm), vocabularySize: Int, embeddingSize: Int = 64, hiddenSize: Int = 512,
                numLayers: Int = 2, dropout: Float = 0.25, dropoutPlacement: DropoutPlacement = .all,
                residualBlocks: ResidualBlockSettings? = nil) {
      self.cell = cell
      self.vocabularySize = vocabularySize
      self.embeddingSize = embeddingSize
      self.hiddenSize = hiddenSize
      self.numLayers = numLayers
      self.dropout = dropout
      self.dropoutPlacement = dropoutPlacement
      self.residualBlocks = residualBlocks
    }

    /// Decodes a configuration; one without `dropoutPlacement` (written before it existed) gets `.all`,
    /// one without `residualBlocks` a plain stack.
    public init(from decoder: any Decoder) throws {
      let c = try decoder.container(keyedBy: CodingKeys.self)
      self.init(cell: try c.decode(SequenceLayerKind.self, forKey: .cell), vocabularySize: try c.decode(Int.self, forKey: .vocabularySize),
                embeddingSize: try c.decode(Int.self, forKey: .embeddingSize), hiddenSize: try c.decode(Int.self, forKey: .hiddenSize),
                numLayers: try c.decode(Int.self, forKey: .numLayers), dropout: try c.decode(Float.self, forKey: .dropout),
                dropoutPlacement: try c.decodeIfPresent(DropoutPlacement.self, forKey: .dropoutPlacement) ?? .all,
                residualBlocks: try c.decodeIfPresent(ResidualBlockSettings.self, forKey: .residualBlocks))
    }

    /// Throws `TrainingError.invalidSetting` for the first invalid value.
    public func validate() throws {
      try TrainingError.require(vocabularySize >= 1, "vocabularySize", vocabularySize, "at least 1")
      try TrainingError.requirePositive(["embeddingSize": embeddingSize, "hiddenSize": hiddenSize, "numLayers": numLayers])
      try TrainingError.require(dropout >= 0 && dropout < 1, "dropout", dropout, "in [0, 1)")
      if let residualBlocks {
        guard case .minimal = cell else {
          throw TrainingError.invalidSetting(InvalidParameter("cell", cell.rawValue, expected: "mingru or minlstm with residual blocks"))
        }
        do { try residualBlocks.validate() } catch let e as InvalidParameter { throw TrainingError.invalidSetting(e) }
      }
      try TrainingError.requireFitsMemory(parameterCount, sizes: ["vocabularySize": vocabularySize, "embeddingSize": embeddingSize,
                                                                  "hiddenSize": hiddenSize, "numLayers": numLayers])
    }

    /// The recurrent part for people: `LSTM`, `minGRU`, or `residual minGRU` with its block settings
    /// (`residual minGRU (expansion 1.5, feed-forward × 4, convolution 4)`) when `detailed`.
    public func layerName(detailed: Bool = false) -> String {
      guard let b = residualBlocks else { return cell.displayName }
      let name = "residual \(cell.displayName)"
      guard detailed else { return name }
      return "\(name) (expansion \(b.expansion), feed-forward × \(b.feedForwardMultiplier)"
        + (b.convolutionKernel > 0 ? ", convolution \(b.convolutionKernel))" : ")")
    }

    /// The number of parameters of the model, computed without building it.
    public var parameterCount: SizeTally {
      var tally = if let residualBlocks, case .minimal(let kind) = cell {
        residualBlocks.parameterCount(kind: kind, inputSize: embeddingSize, modelSize: hiddenSize, numBlocks: numLayers)
      } else {
        cell.parameterCount(inputSize: embeddingSize, hiddenSize: hiddenSize, numLayers: numLayers)
      }
      tally.add(vocabularySize, embeddingSize)
      tally.add(vocabularySize, hiddenSize)
      tally.add(vocabularySize)
      return tally
    }
  }

  /// The model's shape.
  public let configuration: Configuration
  /// Token embeddings `[V, embeddingSize]`.
  public let embedding: Embedding
  /// The recurrent stack.
  public let rnn: any SequenceLayer
  /// The output layer `[V, hiddenSize]`.
  public let decoder: Linear
  let dropoutLayer: Dropout

  /// A freshly initialised model (PyTorch's default initialisations, drawn from `seed`).
  /// Throws `TrainingError.invalidSetting` for an invalid configuration.
  public init(_ configuration: Configuration, seed: UInt64) throws {
    try configuration.validate()
    self.configuration = configuration
    let c = configuration
    var generator = RandomGenerator(seed: seed)
    embedding = Embedding(count: c.vocabularySize, dimension: c.embeddingSize, generator: &generator)
    if let blocks = c.residualBlocks, case .minimal(let kind) = c.cell {
      rnn = try ResidualMinimalRecurrentStack(kind: kind, inputSize: c.embeddingSize, modelSize: c.hiddenSize, numBlocks: c.numLayers,
                                              settings: blocks, dropout: c.dropout, seed: generator.next())
    } else {
      // Dropout between layers only exists with more than one layer (avoids PyTorch's warning).
      rnn = c.cell.make(inputSize: c.embeddingSize, hiddenSize: c.hiddenSize, numLayers: c.numLayers,
                        dropout: c.numLayers > 1 ? c.dropout : 0, seed: generator.next())
    }
    decoder = Linear(inputSize: c.hiddenSize, outputSize: c.vocabularySize, generator: &generator)
    dropoutLayer = Dropout(p: c.dropout)
  }

  /// The embedding, the recurrent stack and the decoder, named as PyTorch's attributes.
  public var children: [(name: String, module: any Module)] {
    [("embedding", embedding), ("rnn", rnn), ("decoder", decoder)]
  }

  /// A zero state for `batchSize` streams.
  public func zeroState(batchSize: Int) -> RecurrentState { rnn.zeroState(batchSize: batchSize) }

  /// Scores for the next token after each input.
  /// - Parameters:
  ///   - tokens: `[steps, batchSize]` ids, time-major, flattened, each in `0..<vocabularySize`.
  ///   - steps: T, the time steps of the window.
  ///   - batchSize: B, the parallel streams.
  ///   - state: the state after the previous window (zeros when nil).
  ///   - context: training mode and the generator of the dropout masks.
  /// - Returns: logits `[steps, batchSize, V]` and the state after the last step.
  public func callAsFunction(_ tokens: [Int], steps: Int, batchSize: Int, state: RecurrentState? = nil,
                             context: inout ForwardContext) throws -> (logits: Tensor, state: RecurrentState) {
    precondition(tokens.count == steps * batchSize, "CharLM: \(tokens.count) tokens do not fill [\(steps), \(batchSize)]")
    let outer = configuration.dropoutPlacement == .all
    let e = embedding(tokens, shape: [steps, batchSize])
    let x = outer ? dropoutLayer(e, context: &context) : e
    let (output, next) = try rnn(x, state: state, lengths: nil, context: &context)
    return (decoder(outer ? dropoutLayer(output, context: &context) : output), next)
  }

  /// Scores in evaluation mode (no dropout).
  public func callAsFunction(_ tokens: [Int], steps: Int, batchSize: Int, state: RecurrentState? = nil) throws
    -> (logits: Tensor, state: RecurrentState) {
    var context = ForwardContext.inference
    return try self(tokens, steps: steps, batchSize: batchSize, state: state, context: &context)
  }
}

extension CharLM {
  /// The cell of a model saved as a state dict, from its recurrent weight shapes: gate blocks of
  /// `rnn.weight_ih_l0` rows ÷ `rnn.weight_hh_l0` columns (4 LSTM, 3 GRU, 1 tanh RNN).
  public static func inferCell(from tensors: [String: Tensor]) -> RecurrentCellKind? {
    guard let wih = tensors["rnn.weight_ih_l0"], let whh = tensors["rnn.weight_hh_l0"], wih.rank == 2, whh.rank == 2,
          whh.shape[1] > 0 else { return nil }
    switch wih.shape[0] / whh.shape[1] {
    case 4: return .lstm
    case 3: return .gru
    case 1: return .rnnTanh
    default: return nil
    }
  }
}
