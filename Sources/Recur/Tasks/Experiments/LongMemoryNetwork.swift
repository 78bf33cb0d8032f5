/// The network of the long-memory experiments: one recurrent layer (tanh RNN, LSTM, GRU, or the
/// parallel-scan minGRU / minLSTM) and a linear read-out, applied to the final state (adding
/// problem) or to every step (copy task). Parameters: `rnn.*` (PyTorch's names), `head.weight`, `head.bias`.
public final class LongMemoryNetwork: Module {
  /// The recurrent layer.
  public let rnn: any SequenceLayer
  /// The read-out.
  public let head: Linear
  /// Whether the read-out is applied to every step.
  public let readsEveryStep: Bool

  /// A fresh network for `problem` with weights drawn from `seed`. The gates that keep the state
  /// start as `MemoryGateInitialization` says: every unit's keep bias `memoryGateBias`, or chrono
  /// initialisation over `chronoMaximum` steps (precedence), or (both nil) PyTorch's initialisation.
  /// At ln T the LSTM's forget gate starts at σ(ln T) = T/(T + 1), which keeps about 1/e of the state
  /// over T steps: the largest value of chrono initialisation.
  public init(cell: SequenceLayerKind, hiddenSize: Int, problem: LongMemoryProblem, memoryGateBias: Float?,
              chronoMaximum: Int? = nil, seed: UInt64) {
    var generator = RandomGenerator(seed: seed)
    rnn = cell.make(inputSize: problem.inputSize, hiddenSize: hiddenSize, numLayers: 1, seed: generator.next())
    head = Linear(inputSize: hiddenSize, outputSize: problem.outputSize, generator: &generator)
    readsEveryStep = problem.readsEveryStep
    let gates = MemoryGateInitialization.biases(cell: cell, hiddenSize: hiddenSize, constant: memoryGateBias,
                                                chronoMaximum: chronoMaximum, generator: &generator)
    guard !gates.isEmpty else { return }
    let h = hiddenSize
    let (biasIH, biasHH): (Parameter?, Parameter?) = switch rnn {
    case let layer as RecurrentLayer: (layer.stack.weights[0].biasIH, layer.stack.weights[0].biasHH)
    case let layer as MinimalRecurrentLayer: (layer.biases[0], nil)
    default: (nil, nil)
    }
    for (block, values) in gates {
      biasIH?.update { for j in 0..<h { $0[block * h + j] = values[j] } }
      biasHH?.update { for j in 0..<h { $0[block * h + j] = 0 } }
    }
  }

  /// The per-step gradient norms of the recurrent layer's last backward pass (nil for the
  /// parallel-scan layers, which do not record them).
  public var gradientFlow: GradientFlow? { (rnn as? RecurrentLayer)?.gradientFlow }

  /// The recurrent layer `rnn` and the read-out `head`.
  public var children: [(name: String, module: any Module)] { [("rnn", rnn), ("head", head)] }

  /// `x` `[steps, B, inputSize]` → `[B, outputSize]` (last valid step) or `[steps·B, outputSize]`
  /// (every step, time-major).
  public func callAsFunction(_ x: Tensor, lengths: [Int]?, context: inout ForwardContext) throws -> Tensor {
    let (output, state) = try rnn(x, state: nil, lengths: lengths, context: &context)
    if readsEveryStep { return head(output.reshaped([x.shape[0] * x.shape[1], rnn.outputSize])) }
    return head(state.h[row: 0])
  }
}
