import CRecurKernels

/// The two minimal recurrent cells of Feng et al. 2024, "Were RNNs All We Needed?".
public enum MinimalRecurrentKind: String, Sendable, Codable, CaseIterable {
  /// z = σ(W_z x + b_z), h̃ = g(W_h x + b_h), h' = (1 − z) ⊙ h + z ⊙ h̃.
  case minGRU = "mingru"
  /// f = σ(W_f x + b_f), i = σ(W_i x + b_i), h̃ = g(W_h x + b_h), h' = f/(f+i) ⊙ h + i/(f+i) ⊙ h̃.
  case minLSTM = "minlstm"

  /// H-wide blocks of the input projection: `z|h` (2) or `f|i|h` (3).
  public var gateCount: Int { self == .minGRU ? 2 : 3 }

  /// A name for people: `minGRU`, `minLSTM`.
  public var displayName: String { self == .minGRU ? "minGRU" : "minLSTM" }

  var kernelKind: Int32 { self == .minGRU ? Int32(RECUR_MIN_GRU) : Int32(RECUR_MIN_LSTM) }
}

/// A stack of minGRU or minLSTM layers: recurrence without the sequential bottleneck.
///
/// The gates read only the input, never the previous state, so a layer is one matrix product over
/// all T steps (`W_ih` `[G·H, input]`, `b_ih` `[G·H]`) followed by the linear recurrence
/// h_t = a_t ⊙ h_{t−1} + b_t, solved by a scan that is parallel over the B·H columns:
/// ```
/// minGRU:   z = σ(k_z),  a = 1 − z,          b = z ⊙ g(k_h)
/// minLSTM:  f = σ(k_f),  i = σ(k_i),  a = f / (f + i),  b = i / (f + i) ⊙ g(k_h)
/// g(x) = x + 0.5 (x ≥ 0), σ(x) (x < 0)
/// ```
/// with `[k_z | k_h]` or `[k_f | k_i | k_h]` = W_ih x + b_ih. Calling the layer on the whole
/// sequence (training) and one step at a time with the carried state (generation) give the same
/// outputs. The state is `h` `[numLayers, B, H]` (no cell state). Dropout (training only) applies
/// to the outputs of every layer but the last, as in `torch.nn.GRU`. State-dict names
/// `weight_ih_l{k}`, `bias_ih_l{k}`; initialisation U(−1/√input, 1/√input), as `torch.nn.Linear`.
/// `Tools/Reference/mingru.py` implements the same equations in PyTorch (the paper's log-space
/// parallel form) for the fixtures.
public class MinimalRecurrentLayer: SequenceLayer {
  /// Which cell.
  public let kind: MinimalRecurrentKind
  /// The width of each input step.
  public let inputSize: Int
  /// H, the state width (and the output width).
  public let hiddenSize: Int
  /// Layers stacked.
  public let numLayers: Int
  /// Dropout between layers (training only).
  public let dropout: Float
  /// `W_ih` of each layer, `[G·H, input]`.
  public let weights: [Parameter]
  /// `b_ih` of each layer, `[G·H]`.
  public let biases: [Parameter]

  /// A stack with freshly drawn weights (`seed` seeds the generator).
  public init(kind: MinimalRecurrentKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Float = 0, seed: UInt64 = 0) {
    precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0 && dropout >= 0 && dropout < 1,
                 "\(kind.displayName)(inputSize: \(inputSize), hiddenSize: \(hiddenSize), numLayers: \(numLayers), dropout: \(dropout))")
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.dropout = dropout
    var generator = RandomGenerator(seed: seed)
    var weights: [Parameter] = [], biases: [Parameter] = []
    for layer in 0..<numLayers {
      let fanIn = layer == 0 ? inputSize : hiddenSize, bound = 1 / Float(fanIn).squareRoot()
      weights.append(Parameter(.uniform([kind.gateCount * hiddenSize, fanIn], low: -bound, high: bound, generator: &generator)))
      biases.append(Parameter(.uniform([kind.gateCount * hiddenSize], low: -bound, high: bound, generator: &generator)))
    }
    self.weights = weights
    self.biases = biases
  }

  /// The width of each output step: H.
  public var outputSize: Int { hiddenSize }

  /// `weight_ih_l0`, `bias_ih_l0`, `weight_ih_l1`, … in state-dict order.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    (0..<numLayers).flatMap { [("weight_ih_l\($0)", weights[$0]), ("bias_ih_l\($0)", biases[$0])] }
  }

  /// Zeros `[numLayers, B, H]`.
  public func zeroState(batchSize: Int) -> RecurrentState { RecurrentState(h: .zeros([numLayers, batchSize, hiddenSize])) }

  /// Runs the stack over `x` `[T, B, inputSize]` (see `SequenceLayer`).
  public func callAsFunction(_ x: Tensor, state: RecurrentState?, lengths: [Int]?, context: inout ForwardContext) throws
    -> (output: Tensor, state: RecurrentState) {
    let name = kind.displayName
    guard x.rank == 3 else { throw RecurrentError("\(name): Expected input to be 3D [T, B, input], got shape \(x.shape)") }
    guard x.shape[2] == inputSize else {
      throw RecurrentError("input.size(-1) must be equal to input_size. Expected \(inputSize), got \(x.shape[2])")
    }
    let T = x.shape[0], B = x.shape[1], H = hiddenSize
    guard T > 0, B > 0 else { throw RecurrentError("\(name): input has an empty sequence or batch (shape \(x.shape))") }
    if state?.c != nil { throw RecurrentError("\(name): a cell state was given, but only LSTM has one") }
    if let h = state?.h, h.shape != [numLayers, B, H] {
      throw RecurrentError.shape("hidden size", expected: [numLayers, B, H], got: h.shape)
    }
    if let lengths {
      guard lengths.count == B else { throw RecurrentError("Expected \(B) sequence lengths (one per batch element), got \(lengths.count)") }
      if let bad = lengths.first(where: { $0 < 1 || $0 > T }) {
        throw RecurrentError("Sequence length \(bad) is out of range: lengths must be between 1 and the padded length \(T)")
      }
    }
    for t in [x] + (state.map { [$0.h] } ?? []) where !t.isFinite {
      throw RecurrentError("\(name): input or state contains NaN or infinity")
    }
    var input = x, finals: [Tensor] = []
    for layer in 0..<numLayers {
      let width = input.shape[2]
      let pre = input.reshaped([T * B, width]).linear(weight: weights[layer].value, bias: biases[layer].value)
        .reshaped([T, B, kind.gateCount * H])
      let h0 = state.map { $0.h.slice(layer..<(layer + 1)).reshaped([B, H]) } ?? .zeros([B, H])
      let states = Tensor.minimalScan(kind, pre: pre, h0: h0, lengths: lengths)
      // The final state of sequence b is its state at step lengths[b] − 1 (row (t·B + b)).
      finals.append(lengths.map { l in states.reshaped([T * B, H]).gatherRows((0..<B).map { (l[$0] - 1) * B + $0 }, indexShape: [1, B]) }
                    ?? states.slice((T - 1)..<T))
      input = states
      if layer < numLayers - 1, context.isTraining, dropout > 0 { input = input.dropout(p: dropout, generator: &context.generator) }
    }
    return (input, RecurrentState(h: Tensor.concatenate(finals, axis: 0)))
  }
}

extension MinimalRecurrentLayer {
  /// Runs the stack in evaluation mode (no dropout): `x` `[T, B, inputSize]` from `state` (zeros
  /// when nil) → outputs `[T, B, H]` and the final state.
  public func callAsFunction(_ x: Tensor, _ state: RecurrentState? = nil, lengths: [Int]? = nil) throws
    -> (output: Tensor, state: RecurrentState) {
    var context = ForwardContext.inference
    return try self(x, state: state, lengths: lengths, context: &context)
  }
}

/// minGRU layers (see `MinimalRecurrentLayer`).
public final class MinGRU: MinimalRecurrentLayer {
  /// A stack of `numLayers` minGRU layers.
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Float = 0, seed: UInt64 = 0) {
    super.init(kind: .minGRU, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout, seed: seed)
  }
}

/// minLSTM layers (see `MinimalRecurrentLayer`).
public final class MinLSTM: MinimalRecurrentLayer {
  /// A stack of `numLayers` minLSTM layers.
  public init(inputSize: Int, hiddenSize: Int, numLayers: Int = 1, dropout: Float = 0, seed: UInt64 = 0) {
    super.init(kind: .minLSTM, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout, seed: seed)
  }
}
