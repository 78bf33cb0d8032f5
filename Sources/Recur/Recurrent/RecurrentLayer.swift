/// What `RNN`, `LSTM` and `GRU` share: PyTorch's `RNNBase` — configuration, parameters named
/// `weight_ih_l{k}[_reverse]` …, input/state validation, batch-first and unbatched inputs.
public class RecurrentLayer: Module {
  public let kind: RecurrentCellKind
  public let inputSize: Int
  public let hiddenSize: Int
  public let numLayers: Int
  public let bias: Bool
  public let batchFirst: Bool
  public let dropout: Float
  public let bidirectional: Bool
  public let projSize: Int
  public var isTraining = true
  /// The generator that draws the between-layer dropout masks (save and restore it to resume runs exactly).
  public var generator: RandomGenerator
  /// Per-time-step gradient norms of the last backward pass.
  public var gradientFlow: GradientFlow { stack.gradientFlow }

  let stack: RecurrentStack

  var numDirections: Int { bidirectional ? 2 : 1 }
  /// Width of h (projSize when projecting, else hiddenSize).
  public var outputSize: Int { projSize > 0 ? projSize : hiddenSize }

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
      print("warning: dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects numLayers greater than 1, but got dropout=\(dropout) and numLayers=\(numLayers)")
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
    generator = RandomGenerator(seed: seed ^ 0x5DEE_CE66_D1CE_D00D)
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

  /// Validates and runs the stack. `input` is [T, B, I] ([B, T, I] if batchFirst) or unbatched [T, I].
  func runLayer(_ input: Tensor, h0: Tensor?, c0: Tensor?, lengths: [Int]?) throws -> (output: Tensor, h: Tensor, c: Tensor?) {
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
    let h = try checkState(h0, "hx", width: outputSize)
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
    let r = stack.run(x: x, h0: h, c0: c, lengths: lengths, training: isTraining, generator: &generator)
    x = r.output
    if unbatched { return (x.squeezed(1), r.h.squeezed(1), r.c?.squeezed(1)) }
    return (batchFirst ? x.transposed(0, 1) : x, r.h, r.c)
  }

  var typeName: String { kind == .lstm ? "LSTM" : (kind == .gru ? "GRU" : "RNN") }
}
