import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

/// Conv1d and BatchNorm1d against PyTorch (`Tools/Reference/convolution.py`), finite differences,
/// and state dicts with buffers.
@Suite struct ConvolutionLayerTests {
  /// Scaled max error allowed against the float64 references (float32 arithmetic, short sums).
  static let tolerance: Float = 1e-5

  // MARK: - Conv1d

  static let convCases = ["conv_basic", "conv_stride_pad", "conv_same_dilated", "conv_same_odd", "conv_groups",
                          "conv_depthwise_nobias"]

  /// The layer a fixture's `<name>.config` describes: C_in, C_out, K, stride, padding (−1 = same),
  /// dilation, groups, bias.
  static func conv(_ f: [String: Tensor], _ name: String) throws -> Conv1d {
    let c = try f.indices("\(name).config")
    var rng = RandomGenerator(seed: 0)
    return try Conv1d(inChannels: c[0], outChannels: c[1], kernelSize: c[2], stride: c[3],
                      padding: c[4] < 0 ? .same : .zeros(c[4]), dilation: c[5], groups: c[6], bias: c[7] != 0,
                      generator: &rng)
  }

  @Test(arguments: convCases) func conv1dMatchesPyTorch(name: String) throws {
    let f = try loadFixture("foundation/convolution")
    let layer = try Self.conv(f, name)
    var state = ["weight": try f.tensor("\(name).weight")]
    if layer.bias != nil { state["bias"] = try f.tensor("\(name).bias") }
    try layer.loadStateDict(state)
    let x = try f.tensor("\(name).x").requiringGrad()
    let y = try layer(x)
    expectScaledClose(y, try f.tensor("\(name).y"), "\(name) output", tolerance: Self.tolerance)
    #expect(y.shape[2] == layer.outputLength(forInputLength: x.shape[2]))
    try (y * f.tensor("\(name).upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("\(name).dx"), "\(name) d input", tolerance: Self.tolerance)
    expectScaledClose(layer.weight.grad, try f.tensor("\(name).dweight"), "\(name) d weight", tolerance: Self.tolerance)
    if layer.bias != nil {
      expectScaledClose(layer.bias?.grad, try f.tensor("\(name).dbias"), "\(name) d bias", tolerance: Self.tolerance)
    }
  }

  @Test func conv1dSamePaddingKeepsTheLengthWithTheExtraZeroOnTheRight() throws {
    var rng = RandomGenerator(seed: 1)
    let even = try Conv1d(inChannels: 1, outChannels: 1, kernelSize: 4, padding: .same, dilation: 2, generator: &rng)
    #expect((even.padLeft, even.padRight) == (3, 3))
    let odd = try Conv1d(inChannels: 1, outChannels: 1, kernelSize: 4, padding: .same, generator: &rng)
    #expect((odd.padLeft, odd.padRight) == (1, 2))
    #expect(odd.outputLength(forInputLength: 9) == 9)
  }

  @Test(arguments: [(1, 0, 1, 1, 1), (2, 1, 1, 1, 1), (1, -1, 2, 1, 1), (3, 2, 1, 2, 0), (1, 0, 2, 3, 0)])
  func conv1dGradCheck(stride: Int, padding: Int, dilation: Int, groups: Int, bias: Int) throws {
    var rng = RandomGenerator(seed: 5)
    let cin = 2 * groups, cout = 3 * groups, k = 3
    let x = Tensor.normal([2, cin, 7], generator: &rng)
    let w = Tensor.normal([cout, cin / groups, k], generator: &rng), b = Tensor.normal([cout], generator: &rng)
    let (left, right) = padding < 0 ? (dilation * (k - 1) / 2, dilation * (k - 1) - dilation * (k - 1) / 2) : (padding, padding)
    let result = gradCheck(inputs: bias != 0 ? [x, w, b] : [x, w]) { t in
      t[0].conv1d(weight: t[1], bias: t.count > 2 ? t[2] : nil, stride: stride, padLeft: left, padRight: right,
                  dilation: dilation, groups: groups)
    }
    #expect(result.passed, "\(result)")
  }

  @Test func conv1dInitialisationIsPyTorchsUniformBound() throws {
    var rng = RandomGenerator(seed: 42)
    let layer = try Conv1d(inChannels: 8, outChannels: 64, kernelSize: 8, groups: 2, generator: &rng)
    #expect(layer.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(layer.weight.shape == [64, 4, 8] && layer.bias?.shape == [64])
    let bound: Float = 1 / Float(4 * 8).squareRoot()
    let w = layer.weight.data.scalars, b = layer.bias!.data.scalars
    #expect(w.allSatisfy { Swift.abs($0) <= bound } && b.allSatisfy { Swift.abs($0) <= bound })
    #expect(w.max()! > 0.95 * bound && w.min()! < -0.95 * bound)
    var again = RandomGenerator(seed: 42)
    #expect(try Conv1d(inChannels: 8, outChannels: 64, kernelSize: 8, groups: 2, generator: &again).weight.data == layer.weight.data)
  }

  @Test func conv1dRejectsBadSettingsAndInputs() throws {
    var rng = RandomGenerator(seed: 0)
    #expect(throws: InvalidParameter.self) { try Conv1d(inChannels: 3, outChannels: 4, kernelSize: 3, groups: 2, generator: &rng) }
    #expect(throws: InvalidParameter.self) { try Conv1d(inChannels: 2, outChannels: 2, kernelSize: 3, stride: 2, padding: .same, generator: &rng) }
    #expect(throws: InvalidParameter.self) { try Conv1d(inChannels: 2, outChannels: 2, kernelSize: 0, generator: &rng) }
    #expect(throws: InvalidParameter.self) { try Conv1d(inChannels: 2, outChannels: 2, kernelSize: 2, padding: -1, generator: &rng) }
    let layer = try Conv1d(inChannels: 2, outChannels: 3, kernelSize: 3, dilation: 2, generator: &rng)
    #expect(throws: ConvolutionError.self) { try layer(.zeros([1, 3, 10])) }
    #expect(throws: ConvolutionError.self) { try layer(.zeros([2, 10])) }
    #expect(throws: ConvolutionError.self) { try layer(.zeros([1, 2, 4])) }  // span 5 > 4
    #expect(try layer(.zeros([1, 2, 5])).shape == [1, 3, 1])
  }

  // MARK: - BatchNorm1d

  static let batchNormCases = ["bn_2d", "bn_3d", "bn_cumulative", "bn_momentum_plain", "bn_untracked"]

  @Test(arguments: batchNormCases) func batchNorm1dMatchesPyTorch(name: String) throws {
    let f = try loadFixture("foundation/convolution")
    // C, rank, momentum (−1 = nil), affine, track, training steps, eps
    let c = try f.tensor("\(name).config").scalars
    let steps = Int(c[5])
    let bn = try BatchNorm1d(numFeatures: Int(c[0]), eps: c[6], momentum: c[2] < 0 ? nil : c[2],
                             affine: c[3] != 0, trackRunningStats: c[4] != 0)
    if bn.weight != nil {
      try bn.loadStateDict(["weight": f.tensor("\(name).weight"), "bias": f.tensor("\(name).bias")], strict: false)
    }
    var training = ForwardContext(training: true, seed: 0)
    for step in 0..<steps {
      let x = try f.tensor("\(name).train\(step).x").requiringGrad()
      let y = try bn(x, context: &training)
      if step == steps - 1 { try Self.checkBackward(bn, f, "\(name).train", x, y) }
    }
    if let runningMean = bn.runningMean, let runningVar = bn.runningVar, let tracked = bn.numBatchesTracked {
      expectScaledClose(runningMean.data, try f.tensor("\(name).running_mean"), "\(name) running mean", tolerance: Self.tolerance)
      expectScaledClose(runningVar.data, try f.tensor("\(name).running_var"), "\(name) running var", tolerance: Self.tolerance)
      #expect(tracked.data == (try f.tensor("\(name).num_batches_tracked")))
      #expect(tracked.data.item == Float(steps))
    } else {
      #expect(bn.namedBuffers().isEmpty)
    }
    bn.zeroGrad()
    var evaluation = ForwardContext.inference
    let x = try f.tensor("\(name).eval.x").requiringGrad()
    let before = bn.stateDict()
    let y = try bn(x, context: &evaluation)
    #expect(bn.stateDict().map(\.tensor) == before.map(\.tensor), "evaluation leaves the running statistics alone")
    try Self.checkBackward(bn, f, "\(name).eval", x, y)
  }

  /// Compares `y` with `<prefix>.y`, back-propagates `<prefix>.upstream` and compares the gradients
  /// of `x` and of the affine parameters with `<prefix>.dx`, `.dweight`, `.dbias`.
  static func checkBackward(_ bn: BatchNorm1d, _ f: [String: Tensor], _ prefix: String, _ x: Tensor, _ y: Tensor,
                            sourceLocation: SourceLocation = #_sourceLocation) throws {
    expectScaledClose(y, try f.tensor("\(prefix).y"), "\(prefix) output", tolerance: tolerance, sourceLocation: sourceLocation)
    try (y * f.tensor("\(prefix).upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("\(prefix).dx"), "\(prefix) d input", tolerance: tolerance, sourceLocation: sourceLocation)
    if let weight = bn.weight, let bias = bn.bias {
      expectScaledClose(weight.grad, try f.tensor("\(prefix).dweight"), "\(prefix) d weight", tolerance: tolerance, sourceLocation: sourceLocation)
      expectScaledClose(bias.grad, try f.tensor("\(prefix).dbias"), "\(prefix) d bias", tolerance: tolerance, sourceLocation: sourceLocation)
    }
  }

  @Test(arguments: [[5, 3], [3, 2, 4]]) func batchNormGradCheck(shape: [Int]) {
    var rng = RandomGenerator(seed: 11)
    let c = shape[1]
    let x = Tensor.normal(shape, generator: &rng)
    let w = Tensor.normal([c], generator: &rng), b = Tensor.normal([c], generator: &rng)
    let batch = gradCheck(inputs: [x, w, b]) { t in t[0].batchNorm(eps: 1e-5, weight: t[1], bias: t[2], running: nil).output }
    #expect(batch.passed, "batch statistics: \(batch)")
    let mean = Tensor.normal([c], generator: &rng), variance = Tensor.uniform([c], low: 0.5, high: 2, generator: &rng)
    let running = gradCheck(inputs: [x, w, b]) { t in
      t[0].batchNorm(eps: 1e-5, weight: t[1], bias: t[2], running: (mean, variance)).output
    }
    #expect(running.passed, "running statistics: \(running)")
  }

  @Test func batchNormBuffersAreInTheStateDictButNotInParameters() throws {
    let bn = try BatchNorm1d(numFeatures: 3)
    #expect(bn.namedParameters().map(\.name) == ["weight", "bias"])
    #expect(bn.parameters.count == 2 && bn.parameterCount == 6)
    #expect(bn.stateDict().map(\.name) == ["weight", "bias", "running_mean", "running_var", "num_batches_tracked"])
    #expect(bn.numBatchesTracked?.shape == [])
    let plain = try BatchNorm1d(numFeatures: 3, affine: false, trackRunningStats: false)
    #expect(plain.stateDict().isEmpty)
    // A container: PyTorch's order is each module's parameters, its buffers, then its children.
    let model = Pair(first: try BatchNorm1d(numFeatures: 2), second: try BatchNorm1d(numFeatures: 2))
    #expect(model.stateDict().map(\.name) == [
      "first.weight", "first.bias", "first.running_mean", "first.running_var", "first.num_batches_tracked",
      "second.weight", "second.bias", "second.running_mean", "second.running_var", "second.num_batches_tracked",
    ])
    #expect(model.namedBuffers().map(\.name) == ["first.running_mean", "first.running_var", "first.num_batches_tracked",
                                                 "second.running_mean", "second.running_var", "second.num_batches_tracked"])
    #expect(model.parameters.count == 4)
  }

  @Test func batchNormLoadsAPyTorchStateDictWithItsInt64Counter() throws {
    guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw FixtureError(description: "the test bundle has no Fixtures directory")
    }
    // Read with the library's own reader: num_batches_tracked is an int64 0-d tensor there.
    let file = try SafeTensorsFile.read(from: root.appendingPathComponent("foundation/batchnorm_state.safetensors"))
    #expect(file["num_batches_tracked"]?.dtype == .i64 && file["num_batches_tracked"]?.shape == [])
    var state = (try file.stateDict)
    let x = try state.tensor("check.x"), expected = try state.tensor("check.y")
    state["check.x"] = nil
    state["check.y"] = nil
    let bn = try BatchNorm1d(numFeatures: 3)
    try bn.loadStateDict(state)  // strict: every key, buffers included
    #expect(bn.numBatchesTracked?.data.item == 2)
    var evaluation = ForwardContext.inference
    expectScaledClose(try bn(x, context: &evaluation), expected, "evaluation with PyTorch's running statistics", tolerance: Self.tolerance)

    // Round trip through safetensors bytes, then a strict load elsewhere gives the same evaluation.
    let copy = try BatchNorm1d(numFeatures: 3)
    try copy.loadStateDict(try SafeTensorsFile(bytes: SafeTensorsFile(tensors: bn.stateDict()).serialized()).stateDict)
    #expect(copy.stateDict().map(\.tensor) == bn.stateDict().map(\.tensor))
    #expect(try copy(x, context: &evaluation) == bn(x, context: &evaluation))
    // Training moves the copy's statistics, not the original's, and counts on from 2.
    var training = ForwardContext(training: true, seed: 0)
    _ = try copy(x, context: &training)
    #expect(copy.numBatchesTracked?.data.item == 3 && bn.numBatchesTracked?.data.item == 2)
    #expect(copy.runningMean?.data != bn.runningMean?.data)
    // A missing buffer is a missing key under a strict load.
    state["running_var"] = nil
    #expect(throws: StateDictError.self) { try copy.loadStateDict(state) }
  }

  @Test func batchNormRejectsBadSettingsAndInputs() throws {
    #expect(throws: InvalidParameter.self) { try BatchNorm1d(numFeatures: 0) }
    #expect(throws: InvalidParameter.self) { try BatchNorm1d(numFeatures: 2, momentum: 1.5) }
    #expect(throws: InvalidParameter.self) { try BatchNorm1d(numFeatures: 2, eps: -1) }
    let bn = try BatchNorm1d(numFeatures: 2)
    var training = ForwardContext(training: true, seed: 0), evaluation = ForwardContext.inference
    #expect(throws: ConvolutionError.self) { try bn(.zeros([1, 2]), context: &training) }  // one value per channel
    #expect(throws: ConvolutionError.self) { try bn(.zeros([4, 3]), context: &training) }
    #expect(throws: ConvolutionError.self) { try bn(.zeros([4]), context: &training) }
    #expect(try bn(.ones([1, 2]), context: &evaluation).shape == [1, 2], "evaluation takes a single sample")
    #expect(bn.numBatchesTracked?.data.item == 0, "failed calls leave the buffers alone")
  }
}

/// Two batch norms under attribute names, for state-dict ordering.
private final class Pair: Module {
  let first: BatchNorm1d, second: BatchNorm1d
  init(first: BatchNorm1d, second: BatchNorm1d) { (self.first, self.second) = (first, second) }
  var children: [(name: String, module: any Module)] { [("first", first), ("second", second)] }
}

/// LSTM-FCN's convolutional branch against `Tools/Reference/fcn_branch.py` (torch.nn.Conv1d with
/// padding='same', BatchNorm1d, ReLU, masked and averaged over the valid steps).
@Suite("ConvolutionalBranch against PyTorch")
struct ConvolutionalBranchFixtureTests {
  @Test func trainingAndEvaluationMatchPyTorch() throws {
    let f = try loadFixture("foundation/fcn_branch")
    var g = RandomGenerator(seed: 1)
    let branch = try ConvolutionalBranch(inputSize: 3, configuration: .init(channels: [4, 5], kernelSizes: [3, 2]), generator: &g)
    var state = Dictionary(uniqueKeysWithValues: try f.keys.filter { $0.hasPrefix("state.") }.map { (String($0.dropFirst(6)), try f.tensor($0)) })
    for (name, buffer) in branch.namedBuffers() { state[name] = buffer.data }   // fresh running statistics, as PyTorch's
    try branch.loadStateDict(state)
    let x = try f.tensor("x").requiringGrad()
    let lengths = try f.indices("lengths")
    var training = ForwardContext(training: true, generator: RandomGenerator(seed: 2))
    let y = try branch(x, lengths: lengths, context: &training)
    expectScaledClose(y, try f.tensor("train.y"), "training output")
    try (y * f.tensor("train.upstream")).sum().backward()
    expectScaledClose(x.grad, try f.tensor("train.dx"), "d input (zero past each length)")
    for (name, p) in branch.namedParameters() {
      expectScaledClose(p.grad, try f.tensor("train.d.\(name)"), "d \(name)")
    }
    for (name, buffer) in branch.namedBuffers() where name.contains("running") {
      expectScaledClose(buffer.data, try f.tensor("after.\(name)"), name)
    }
    var inference = ForwardContext.inference
    expectScaledClose(try branch(x, lengths: lengths, context: &inference), try f.tensor("eval.y"), "evaluation output")
  }
}
