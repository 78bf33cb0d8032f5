/// What `RNN`, `LSTM` and `GRU` share: PyTorch's `RNNBase` — configuration, parameters named
/// `weight_ih_l{k}[_reverse]` …, input/state validation, batch-first and unbatched inputs.
///
/// `RecurrentLayer.make(_:…)` builds the layer for a cell kind: the one place a kind is mapped to
/// a layer (and so to its kernels).
public class RecurrentLayer: SequenceLayer {
  /// The cell: RNN (tanh or ReLU), LSTM or GRU.
  public let kind: RecurrentCellKind
  /// I, the width of each input step.
  public let inputSize: Int
  /// H, the width of the hidden state (and of the LSTM cell state).
  public let hiddenSize: Int
  /// L, the number of stacked layers.
  public let numLayers: Int
  /// Whether each layer has the biases `bias_ih` and `bias_hh`.
  public let bias: Bool
  /// Whether inputs and outputs are `[B, T, ·]` instead of `[T, B, ·]` (never the state).
  public let batchFirst: Bool
  /// Probability of zeroing each output of every layer but the last, in training mode.
  public let dropout: Float
  /// Whether each layer also reads the sequence backwards (D = 2).
  public let bidirectional: Bool
  /// P, the width h is projected to after every step (LSTM only; 0: no projection).
  public let projSize: Int
  /// Per-time-step gradient norms of the last backward pass.
  public var gradientFlow: GradientFlow { stack.gradientFlow }

  let stack: RecurrentStack

  var numDirections: Int { bidirectional ? 2 : 1 }
  /// Width of h (projSize when projecting, else hiddenSize).
  public var stateSize: Int { projSize > 0 ? projSize : hiddenSize }
  /// Width of each output step: directions × `stateSize`.
  public var outputSize: Int { numDirections * stateSize }

  init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int, bias: Bool, batchFirst: Bool,
       dropout: Float, bidirectional: Bool, projSize: Int, seed: UInt64) {
    precondition(inputSize > 0 && hiddenSize > 0 && numLayers > 0,
                 "inputSize, hiddenSize and numLayers must be positive, got \(inputSize), \(hiddenSize), \(numLayers)")
    precondition(dropout >= 0 && dropout <= 1,
                 "dropout should be a number in range [0, 1] representing the probability of an element being zeroed, got \(dropout)")
    precondition(projSize >= 0, "projSize should be a positive integer or zero to disable projections, got \(projSize)")
    precondition(projSize < hiddenSize, "projSize has to be smaller than hiddenSize (\(projSize) >= \(hiddenSize))")
    precondition(projSize == 0 || kind == .lstm, "projSize argument is only supported for LSTM, not RNN or GRU")
    if dropout > 0 && numLayers == 1 {
      Diagnostics.warn("dropout adds dropout after all but the last recurrent layer, so non-zero dropout expects numLayers "
        + "greater than 1, but got dropout=\(dropout) and numLayers=\(numLayers)", source: "RecurrentLayer")
    }
    self.kind = kind
    self.inputSize = inputSize
    self.hiddenSize = hiddenSize
    self.numLayers = numLayers
    self.bias = bias
    self.batchFirst = batchFirst
    self.dropout = dropout
    self.bidirectional = bidirectional
    self.projSize = projSize
    var initGenerator = RandomGenerator(seed: seed)
    let directions = bidirectional ? 2 : 1
    let hOut = projSize > 0 ? projSize : hiddenSize
    var weights: [RecurrentWeights] = []
    for l in 0..<numLayers {
      for d in 0..<directions {
        weights.append(RecurrentWeights(
          kind: kind, inputSize: l == 0 ? inputSize : directions * hOut, hiddenSize: hiddenSize, projSize: projSize,
          bias: bias, suffix: "_l\(l)" + (d == 1 ? "_reverse" : ""), generator: &initGenerator))
      }
    }
    stack = RecurrentStack(kind: kind, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                           numDirections: directions, projSize: projSize, dropout: dropout, weights: weights)
  }

  /// A layer of `kind`: `LSTM`, `GRU`, or `RNN` with tanh or ReLU (`projSize` is LSTM-only).
  public static func make(_ kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1, bias: Bool = true,
                          batchFirst: Bool = false, dropout: Float = 0, bidirectional: Bool = false, projSize: Int = 0,
                          seed: UInt64 = 0) -> RecurrentLayer {
    switch kind {
    case .lstm:
      return LSTM(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                  dropout: dropout, bidirectional: bidirectional, projSize: projSize, seed: seed)
    case .gru:
      return GRU(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, bias: bias, batchFirst: batchFirst,
                 dropout: dropout, bidirectional: bidirectional, seed: seed)
    case .rnnTanh, .rnnRelu:
      return RNN(inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, nonlinearity: kind == .rnnRelu ? .relu : .tanh,
                 bias: bias, batchFirst: batchFirst, dropout: dropout, bidirectional: bidirectional, seed: seed)
    }
  }

  /// Every layer's and direction's weights under PyTorch's names (`weight_ih_l0`, …,
  /// `bias_hh_l1_reverse`), in `state_dict` order.
  public var ownParameters: [(name: String, parameter: Parameter)] { stack.weights.flatMap(\.namedParameters) }

  /// W_ih of a layer and direction ([gates·H, input]).
  public func weightIH(layer: Int, reverse: Bool = false) -> Parameter { weights(layer, reverse).weightIH }
  /// W_hh of a layer and direction ([gates·H, H_out]).
  public func weightHH(layer: Int, reverse: Bool = false) -> Parameter { weights(layer, reverse).weightHH }
  /// b_ih of a layer and direction (nil without bias).
  public func biasIH(layer: Int, reverse: Bool = false) -> Parameter? { weights(layer, reverse).biasIH }
  /// b_hh of a layer and direction (nil without bias).
  public func biasHH(layer: Int, reverse: Bool = false) -> Parameter? { weights(layer, reverse).biasHH }
  /// W_hr of a layer and direction (LSTM with projSize > 0).
  public func weightHR(layer: Int, reverse: Bool = false) -> Parameter? { weights(layer, reverse).weightHR }

  private func weights(_ layer: Int, _ reverse: Bool) -> RecurrentWeights {
    precondition(layer >= 0 && layer < numLayers && (!reverse || bidirectional), "no layer \(layer)\(reverse ? " reverse" : "")")
    return stack.weights[layer * numDirections + (reverse ? 1 : 0)]
  }

  /// Runs the layer on `input` [T, B, I] ([B, T, I] if batchFirst; unbatched [T, I]) from
  /// `state` (zeros when nil), drawing between-layer dropout masks from `context` in training.
  public func callAsFunction(_ input: Tensor, state: RecurrentState?, lengths: [Int]?,
                             context: inout ForwardContext) throws -> (output: Tensor, state: RecurrentState) {
    if kind != .lstm, state?.c != nil { throw RecurrentError("\(typeName): a cell state was given, but only LSTM has one") }
    let r = try runLayer(input, h0: state?.h, c0: state?.c, lengths: lengths, context: &context)
    return (r.output, RecurrentState(h: r.h, c: r.c))
  }

  /// Runs the layer in evaluation mode (no dropout): `layer(x)`, `layer(x, state)`.
  public func callAsFunction(_ input: Tensor, _ state: RecurrentState? = nil, lengths: [Int]? = nil) throws
    -> (output: Tensor, state: RecurrentState) {
    var context = ForwardContext.inference
    return try self(input, state: state, lengths: lengths, context: &context)
  }

  /// A zero state for `batchSize` sequences (`c` for the LSTM only).
  public func zeroState(batchSize: Int) -> RecurrentState {
    let rows = numLayers * numDirections
    return RecurrentState(h: .zeros([rows, batchSize, stateSize]), c: kind == .lstm ? .zeros([rows, batchSize, hiddenSize]) : nil)
  }

  /// Validates and runs the stack. `input` is [T, B, I] ([B, T, I] if batchFirst) or unbatched [T, I].
  func runLayer(_ input: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?, context: inout ForwardContext) throws
    -> (output: Tensor, h: Tensor, c: Tensor?) {
    let D = numDirections, L = numLayers
    guard input.rank == 2 || input.rank == 3 else {
      throw RecurrentError("\(typeName): Expected input to be 2D or 3D, got \(input.rank)D tensor of shape \(input.shape)")
    }
    guard input.shape.last == inputSize else {
      throw RecurrentError("input.size(-1) must be equal to input_size. Expected \(inputSize), got \(input.shape.last!)")
    }
    let unbatched = input.rank == 2
    var x = unbatched ? input.unsqueezed(1) : (batchFirst ? input.transposed(0, 1) : input)
    let T = x.shape[0], B = x.shape[1]
    guard T > 0, B > 0 else { throw RecurrentError("\(typeName): input has an empty sequence or batch (shape \(input.shape))") }
    func checkState(_ s: Tensor?, _ what: String, width: Int) throws -> Tensor? {
      guard var s else { return nil }
      if unbatched {
        guard s.rank == 2 else {
          throw RecurrentError("For unbatched 2-D input, \(what) should also be 2-D but got \(s.rank)-D tensor of shape \(s.shape)")
        }
        s = s.unsqueezed(1)
      }
      let expected = [L * D, B, width]
      guard s.shape == expected else {
        throw RecurrentError.shape(what == "hx" ? "hidden size" : "cell size", expected: unbatched ? [L * D, width] : expected,
                                   got: unbatched ? Array(s.shape.enumerated().filter { $0.offset != 1 }.map(\.element)) : s.shape)
      }
      return s
    }
    let h = try checkState(h0, "hx", width: stateSize)
    let c = try checkState(c0, "cx", width: hiddenSize)
    if let lengths {
      guard lengths.count == B else {
        throw RecurrentError("Expected \(B) sequence lengths (one per batch element), got \(lengths.count)")
      }
      if let bad = lengths.first(where: { $0 < 1 || $0 > T }) {
        throw RecurrentError("Sequence length \(bad) is out of range: lengths must be between 1 and the padded length \(T)")
      }
    }
    for t in [x] + [h, c].compactMap({ $0 }) where !t.isFinite {
      throw RecurrentError("\(typeName): input or state contains NaN or infinity")
    }
    let r = stack.run(x: x, h0: h, c0: c, lengths: lengths, training: context.isTraining, generator: &context.generator)
    x = r.output
    if unbatched { return (x.squeezed(1), r.h.squeezed(1), r.c?.squeezed(1)) }
    return (batchFirst ? x.transposed(0, 1) : x, r.h, r.c)
  }

  var typeName: String { kind.torchName }
}

extension RecurrentLayer {
  /// The number of parameters `make(kind, inputSize:…)` would create, computed without
  /// allocating (nil when it overflows): for each layer and direction `W_ih` (G·H × input),
  /// `W_hh` (G·H × H_out), two biases of G·H and, with a projection, `W_hr` (P × H).
  public static func parameterCount(_ kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, numLayers: Int = 1,
                                    bias: Bool = true, bidirectional: Bool = false, projSize: Int = 0) -> SizeTally {
    var tally = SizeTally()
    let directions = bidirectional ? 2 : 1
    let hOut = projSize > 0 ? projSize : hiddenSize
    let gates = kind.gateCount
    var perDirection = SizeTally()
    perDirection.add(gates, hiddenSize, hOut)
    if bias { perDirection.add(2, gates, hiddenSize) }
    if projSize > 0 { perDirection.add(projSize, hiddenSize) }
    for layer in 0..<min(max(numLayers, 0), 2) {
      // Layers after the second repeat the second's shapes.
      var one = perDirection
      one.add(gates, hiddenSize, layer == 0 ? inputSize : directions * hOut)
      var all = SizeTally()
      for _ in 0..<directions { all.add(one) }
      if layer == 0 { tally.add(all) } else {
        var rest = SizeTally()
        rest.add(product: [all.total ?? -1, numLayers - 1])
        tally.add(rest)
      }
    }
    return tally
  }
}
