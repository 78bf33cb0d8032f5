/// The network of a `RecurrentForecaster`: a recurrent stack reads a window `[lookback, B, F]`
/// and a `Linear` head maps its last output (dropout in training) to all `horizon × F` values.
/// Parameters: `rnn.*` (PyTorch's `nn.LSTM`/`nn.GRU` names), `head.weight`, `head.bias`.
public final class RecurrentForecastNetwork: Module {
  /// The recurrent stack.
  public let rnn: any SequenceLayer
  /// The output layer.
  public let head: Linear
  let drop: Dropout
  /// Columns of the series (inputs and outputs per step).
  public let features: Int

  /// A fresh network with weights drawn from `seed`.
  public init(cell: RecurrentCellKind, hiddenSize: Int, numLayers: Int, dropout: Float, features: Int, horizon: Int, seed: UInt64) {
    var generator = RandomGenerator(seed: seed)
    rnn = RecurrentLayer.make(cell, inputSize: features, hiddenSize: hiddenSize, numLayers: numLayers,
                              dropout: numLayers > 1 ? dropout : 0, seed: generator.next())
    head = Linear(inputSize: hiddenSize, outputSize: horizon * features, generator: &generator)
    drop = Dropout(p: dropout)
    self.features = features
  }

  /// The number of parameters of a network of these sizes, computed without building it.
  public static func parameterCount(cell: RecurrentCellKind, hiddenSize: Int, numLayers: Int, features: Int, horizon: Int) -> SizeTally {
    var tally = RecurrentLayer.parameterCount(cell, inputSize: features, hiddenSize: hiddenSize, numLayers: numLayers)
    tally.add(hiddenSize, horizon, features)
    tally.add(horizon, features)
    return tally
  }

  /// The recurrent stack `rnn` and the head `head`.
  public var children: [(name: String, module: any Module)] { [("rnn", rnn), ("head", head)] }

  /// `x` `[lookback, B, F]` → `[B, horizon·F]`.
  public func callAsFunction(_ x: Tensor, context: inout ForwardContext) throws -> Tensor {
    let output = try rnn(x, state: nil, lengths: nil, context: &context).output
    return head(drop(output[row: x.shape[0] - 1], context: &context))
  }
}
