/// What `RNNCell`, `LSTMCell` and `GRUCell` share: one layer, one direction, one step, run by the
/// same fused engine as the sequence layers. Parameters are named `weight_ih`, `weight_hh`,
/// `bias_ih`, `bias_hh` as in PyTorch's cells and initialised U(−1/√H, 1/√H).
public class RecurrentCell: Module {
  /// The cell: RNN (tanh or ReLU), LSTM or GRU.
  public let kind: RecurrentCellKind
  /// I, the width of the input.
  public let inputSize: Int
  /// H, the width of the hidden state (and of the LSTM cell state).
  public let hiddenSize: Int
  /// Whether the cell has the biases `bias_ih` and `bias_hh`.
  public let bias: Bool
  let stack: RecurrentStack

  init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, bias: Bool, seed: UInt64) {
    precondition(inputSize > 0 && hiddenSize > 0, "inputSize and hiddenSize must be positive, got \(inputSize), \(hiddenSize)")
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.bias = bias
    var generator = RandomGenerator(seed: seed)
    let weights = RecurrentWeights(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, projSize: 0, bias: bias,
                                   suffix: "", generator: &generator)
    stack = RecurrentStack(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: 1, numDirections: 1,
                           projSize: 0, dropout: 0, weights: [weights])
  }

  /// `weight_ih` `[G·H, I]`, `weight_hh` `[G·H, H]` and, with `bias`, `bias_ih` and `bias_hh` `[G·H]`
  /// (G gate blocks: 1, 4 or 3), in PyTorch's order.
  public var ownParameters: [(name: String, parameter: Parameter)] { stack.weights[0].namedParameters }

  /// One step on input [B, I] (or unbatched [I]) from state h [B, H] (and c for LSTM).
  func step(_ input: Tensor, h: Tensor?, c: Tensor?) throws -> (h: Tensor, c: Tensor?) {
    let name = kind.torchName + "Cell"
    guard input.rank == 1 || input.rank == 2 else {
      throw RecurrentError("\(name): Expected input to be 1D or 2D, got \(input.rank)D instead")
    }
    guard input.shape.last == inputSize else {
      throw RecurrentError("input has inconsistent input_size: got \(input.shape.last!) expected \(inputSize)")
    }
    let unbatched = input.rank == 1
    let x = unbatched ? input.reshaped([1, 1, inputSize]) : input.unsqueezed(0)
    let B = x.shape[1]
    func state(_ s: Tensor?, _ what: String) throws -> Tensor? {
      guard let s else { return nil }
      let expected = unbatched ? [hiddenSize] : [B, hiddenSize]
      guard s.shape == expected else { throw RecurrentError.shape("\(what) size", expected: expected, got: s.shape) }
      return s.reshaped([1, B, hiddenSize])
    }
    var generator = RandomGenerator(seed: 0)
    let r = stack.run(x: x, h0: try state(h, "hidden"), c0: try state(c, "cell"), lengths: nil, training: false,
                      generator: &generator)
    let shape = unbatched ? [hiddenSize] : [B, hiddenSize]
    return (r.h.reshaped(shape), r.c?.reshaped(shape))
  }
}

/// One LSTM step, matching `torch.nn.LSTMCell` (gate blocks i, f, g, o; see `LSTM` for the equations).
/// Input [N, H_in] or [H_in]; state (h, c) each [N, H] or [H], zeros when nil.
public final class LSTMCell: RecurrentCell {
  /// A cell with `torch.nn.LSTMCell`'s arguments; weights drawn U(−1/√H, 1/√H) from `seed`.
  public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, seed: UInt64 = 0) {
    super.init(kind: .lstm, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, seed: seed)
  }

  /// Returns (h', c'), each [N, H] (or [H]).
  public func callAsFunction(_ input: Tensor, _ state: RecurrentState? = nil) throws -> RecurrentState {
    let r = try step(input, h: state?.h, c: state?.c)
    return RecurrentState(h: r.h, c: r.c)
  }
}

/// One GRU step, matching `torch.nn.GRUCell` (gate blocks r, z, n; see `GRU` for the equations).
public final class GRUCell: RecurrentCell {
  /// A cell with `torch.nn.GRUCell`'s arguments; weights drawn U(−1/√H, 1/√H) from `seed`.
  public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, seed: UInt64 = 0) {
    super.init(kind: .gru, inputSize: inputSize, hiddenSize: hiddenSize, bias: bias, seed: seed)
  }

  /// Returns h' [N, H] (or [H]).
  public func callAsFunction(_ input: Tensor, _ state: Tensor? = nil) throws -> Tensor {
    try step(input, h: state, c: nil).h
  }
}

/// One Elman RNN step, matching `torch.nn.RNNCell`: h' = act(W_ih x + b_ih + W_hh h + b_hh).
public final class RNNCell: RecurrentCell {
  /// The activation: `.tanh` or `.relu`.
  public let nonlinearity: Nonlinearity

  /// A cell with `torch.nn.RNNCell`'s arguments; weights drawn U(−1/√H, 1/√H) from `seed`.
  public init(inputSize: Int, hiddenSize: Int, bias: Bool = true, nonlinearity: Nonlinearity = .tanh, seed: UInt64 = 0) {
    self.nonlinearity = nonlinearity
    super.init(kind: nonlinearity == .tanh ? .rnnTanh : .rnnRelu, inputSize: inputSize, hiddenSize: hiddenSize,
               bias: bias, seed: seed)
  }

  /// Returns h' [N, H] (or [H]).
  public func callAsFunction(_ input: Tensor, _ state: Tensor? = nil) throws -> Tensor {
    try step(input, h: state, c: nil).h
  }
}
