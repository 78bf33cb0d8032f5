/// The network of the long-memory experiments: one recurrent layer (tanh RNN, LSTM or GRU) and a
/// linear read-out, applied to the final state (adding problem) or to every step (copy task).
/// Parameters: `rnn.*` (PyTorch's names), `head.weight`, `head.bias`.
public final class LongMemoryNetwork: Module {
  /// The recurrent layer.
  public let rnn: RecurrentLayer
  /// The read-out.
  public let head: Linear
  /// Whether the read-out is applied to every step.
  public let readsEveryStep: Bool

  /// A fresh network for `problem` with weights drawn from `seed`. The biases of the gate that keeps
  /// the state — the LSTM's forget gate f, the GRU's update gate z (block 1 of both) — sum to
  /// `memoryGateBias` (b_ih gets it, b_hh gets 0; nil keeps PyTorch's initialisation). At ln T the gate
  /// starts at σ(ln T) = T/(T + 1), which keeps about 1/e of the state over T steps: the largest
  /// value of Tallec & Ollivier's (2018) chrono initialisation.
  public init(cell: RecurrentCellKind, hiddenSize: Int, problem: LongMemoryProblem, memoryGateBias: Float?, seed: UInt64) {
    var generator = RandomGenerator(seed: seed)
    rnn = RecurrentLayer.make(cell, inputSize: problem.inputSize, hiddenSize: hiddenSize, seed: generator.next())
    if let memoryGateBias, cell == .lstm || cell == .gru {
      let h = hiddenSize
      for w in rnn.stack.weights {
        w.biasIH?.update { for j in h..<(2 * h) { $0[j] = memoryGateBias } }
        w.biasHH?.update { for j in h..<(2 * h) { $0[j] = 0 } }
      }
    }
    head = Linear(inputSize: hiddenSize, outputSize: problem.outputSize, generator: &generator)
    readsEveryStep = problem.readsEveryStep
  }

  /// The recurrent layer `rnn` and the read-out `head`.
  public var children: [(name: String, module: any Module)] { [("rnn", rnn), ("head", head)] }

  /// `x` `[steps, B, inputSize]` → `[B, outputSize]` (last valid step) or `[steps·B, outputSize]`
  /// (every step, time-major).
  public func callAsFunction(_ x: Tensor, lengths: [Int]?, context: inout ForwardContext) throws -> Tensor {
    let (output, state) = try rnn(x, state: nil, lengths: lengths, context: &context)
    if readsEveryStep { return head(output.reshaped([x.shape[0] * x.shape[1], rnn.hiddenSize])) }
    return head(state.h[row: 0])
  }
}
