import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

/// The optimiser configurations of `Tools/Reference/foundation.py` (`OPTIMIZERS`), same names.
let optimizerConfigurations: [String: @Sendable ([Parameter]) -> any Optimizer] = [
  "sgd": { SGD(parameters: $0, learningRate: 0.1) },
  "sgd_momentum": { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9) },
  "sgd_dampening": { SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, dampening: 0.5) },
  "sgd_nesterov_wd": { SGD(parameters: $0, learningRate: 0.05, momentum: 0.8, weightDecay: 0.01, nesterov: true) },
  "sgd_wd": { SGD(parameters: $0, learningRate: 0.1, weightDecay: 0.1) },
  "adam": { Adam(parameters: $0, learningRate: 0.01) },
  "adam_wd": { Adam(parameters: $0, learningRate: 0.01, betas: (0.8, 0.99), eps: 1e-6, weightDecay: 0.1) },
  "adam_amsgrad": { Adam(parameters: $0, learningRate: 0.01, amsgrad: true) },
  "adamw": { AdamW(parameters: $0, learningRate: 0.01) },
  "adamw_amsgrad": { AdamW(parameters: $0, learningRate: 0.01, weightDecay: 0.1, amsgrad: true) },
  "rmsprop": { RMSProp(parameters: $0, learningRate: 0.01) },
  "rmsprop_centered": { RMSProp(parameters: $0, learningRate: 0.01, centered: true) },
  "rmsprop_momentum": { RMSProp(parameters: $0, learningRate: 0.01, momentum: 0.9) },
  "rmsprop_all": {
    RMSProp(parameters: $0, learningRate: 0.01, alpha: 0.9, eps: 1e-6, weightDecay: 0.05, momentum: 0.5, centered: true)
  },
  "adagrad": { Adagrad(parameters: $0, learningRate: 0.1) },
  "adagrad_all": {
    Adagrad(parameters: $0, learningRate: 0.1, lrDecay: 0.01, weightDecay: 0.05, initialAccumulatorValue: 0.1, eps: 1e-6)
  },
]

@Suite struct OptimizerTests {
  static let steps = 6
  static let parameterCount = 2

  /// Fresh parameters at the fixture's initial values.
  func initialParameters(_ f: [String: Tensor]) throws -> [Parameter] {
    try (0..<Self.parameterCount).map { Parameter(try f.tensor("init.p\($0)")) }
  }

  /// Sets the fixture's gradients of step `k`.
  func setGradients(_ parameters: [Parameter], step k: Int, _ f: [String: Tensor]) throws {
    for (i, p) in parameters.enumerated() { p.grad = try f.tensor("grad.s\(k).p\(i)") }
  }

  // MARK: - Update rules against PyTorch

  @Test(arguments: optimizerConfigurations.keys.sorted())
  func matchesPyTorch(_ name: String) throws {
    let f = try loadFixture("foundation/optimizers")
    let parameters = try initialParameters(f)
    let optimizer = optimizerConfigurations[name]!(parameters)
    for k in 0..<Self.steps {
      try setGradients(parameters, step: k, f)
      optimizer.step()
      for (i, p) in parameters.enumerated() {
        expectMaxAbsClose(p.data, try f.tensor("\(name).s\(k).p\(i)"), "\(name) step \(k + 1) parameter \(i)", maxAbs: 1e-6)
      }
    }
  }

  @Test(arguments: optimizerConfigurations.keys.sorted())
  func resumesBitIdenticallyFromItsState(_ name: String) throws {
    let f = try loadFixture("foundation/optimizers")
    let make = optimizerConfigurations[name]!
    let straight = try initialParameters(f)
    let optimizer = make(straight)
    for k in 0..<3 {
      try setGradients(straight, step: k, f)
      optimizer.step()
    }
    // Checkpoint: parameter values and optimiser state, restored into fresh objects.
    let saved = optimizer.stateDict()
    let resumed = straight.map { Parameter($0.data.copied()) }
    let restored = make(resumed)
    try restored.loadStateDict(saved)
    for k in 3..<Self.steps {
      try setGradients(straight, step: k, f)
      try setGradients(resumed, step: k, f)
      optimizer.step()
      restored.step()
    }
    for (a, b) in zip(straight, resumed) { #expect(a.data == b.data, "\(name): resumed run differs") }
    let names = Set(optimizer.stateDict().tensors.map(\.name) + optimizer.stateDict().scalars.map(\.name))
    #expect(names == Set(restored.stateDict().tensors.map(\.name) + restored.stateDict().scalars.map(\.name)))
  }

  @Test func stateNamesFollowPyTorch() {
    let p = [Parameter(.ones([2])), Parameter(.ones([3]))]
    let adam = Adam(parameters: p, amsgrad: true)
    p[0].grad = .ones([2])  // p[1] has no gradient: it gets no state, like PyTorch's lazy state
    adam.step()
    let state = adam.stateDict()
    #expect(state.tensors.map(\.name) == ["state.0.exp_avg", "state.0.exp_avg_sq", "state.0.max_exp_avg_sq"])
    #expect(state.scalar("state.0.step") == 1)
    #expect(state.scalar("param_groups.0.lr") == Double(Float(1e-3)))
    #expect(p[1].data == .ones([3]), "a parameter without a gradient is not updated")
    let sgd = SGD(parameters: p, learningRate: 0.1, momentum: 0.9)
    p[1].grad = .ones([3])
    sgd.step()
    #expect(sgd.stateDict().tensors.map(\.name) == ["state.0.momentum_buffer", "state.1.momentum_buffer"])
    let rms = RMSProp(parameters: p, momentum: 0.5, centered: true)
    rms.step()
    #expect(rms.stateDict().tensors.map(\.name).prefix(3) == ["state.0.square_avg", "state.0.momentum_buffer", "state.0.grad_avg"])
    #expect(Adagrad(parameters: p, initialAccumulatorValue: 0.5).stateDict().tensor("state.1.sum") == Tensor(repeating: 0.5, shape: [3]))
  }

  @Test func loadingAMismatchedStateThrows() throws {
    let p = [Parameter(.ones([2, 2]))]
    p[0].grad = .ones([2, 2])
    let adam = Adam(parameters: p)
    adam.step()
    let sgd = SGD(parameters: p, momentum: 0.9)
    #expect(throws: OptimizerStateError.self) { try sgd.loadStateDict(adam.stateDict()) }
    let other = Adam(parameters: [Parameter(.ones([4]))])
    #expect(throws: OptimizerStateError.self) { try other.loadStateDict(adam.stateDict()) }
    let ams = Adam(parameters: [Parameter(.ones([2, 2]))], amsgrad: true)
    #expect(throws: OptimizerStateError.self) { try ams.loadStateDict(adam.stateDict()) }
    #expect(throws: OptimizerStateError.self) { try adam.loadStateDict(OptimizerState()) }
    // A failed load leaves the optimiser as it was.
    let before = adam.stateDict()
    #expect(throws: OptimizerStateError.self) {
      var broken = before
      broken.tensors[0].tensor = .zeros([3])
      try adam.loadStateDict(broken)
    }
    #expect(adam.stateDict().tensors.map(\.tensor) == before.tensors.map(\.tensor))
  }

  @Test func learningRateCanChangeBetweenSteps() {
    let p = Parameter(Tensor([1, 2]))
    let sgd = SGD(parameters: [p], learningRate: 0.5)
    p.grad = Tensor([1, 1])
    let version = p.version
    sgd.step()
    #expect(p.data == Tensor([0.5, 1.5]))
    #expect(p.version == version + 1, "updates bump the parameter version")
    sgd.learningRate = 0.25
    sgd.step()
    #expect(p.data == Tensor([0.25, 1.25]))
    sgd.zeroGrad()
    #expect(p.grad == nil)
    sgd.step()
    #expect(p.data == Tensor([0.25, 1.25]), "no gradient, no update")
  }

  @Test func optimizerDoesNotWriteIntoTheTensorAParameterWasMadeFrom() {
    let source = Tensor([1, 2, 3])
    let p = Parameter(source)
    p.grad = Tensor([1, 1, 1])
    SGD(parameters: [p], learningRate: 1).step()
    #expect(source == Tensor([1, 2, 3]))
    #expect(p.data == Tensor([0, 1, 2]))
  }

  @Test func trainsALinearModel() {
    // Fit y = 2x − 1 with Adam: the whole loop (forward, loss, backward, clip, step) converges.
    var rng = RandomGenerator(seed: 1)
    let model = Linear(inputSize: 1, outputSize: 1, generator: &rng)
    let x = Tensor(shape: [8, 1], scalars: (0..<8).map { Float($0) / 4 - 1 })
    let y = x * 2 - 1
    let adam = Adam(parameters: model.parameters, learningRate: 0.1)
    var last: Float = .infinity
    for _ in 0..<200 {
      adam.zeroGrad()
      let loss = mseLoss(model(x), y)
      loss.backward()
      clipGradNorm(model.parameters, maxNorm: 10)
      adam.step()
      last = loss.item
    }
    #expect(last < 1e-4)
    #expect(Swift.abs(model.weight.data.item - 2) < 1e-2 && Swift.abs(model.bias!.data.item + 1) < 1e-2)
  }

  // MARK: - Gradient clipping

  @Test(arguments: [("norm2", Float(2), Float(1)), ("norm2_big", 2, 100), ("norminf", .infinity, 2.5),
                    ("norm1", 1, 5), ("norm3", 3, 2)])
  func clipGradNormMatchesPyTorch(_ name: String, _ normType: Float, _ maxNorm: Float) throws {
    let f = try loadFixture("foundation/clipping")
    let parameters = try (0..<3).map { i in
      let g = try f.tensor("grad.p\(i)")
      let p = Parameter(.zeros(g.shape))
      p.grad = g
      return p
    }
    let unused = Parameter(.zeros([4]))  // no gradient: ignored
    let total = clipGradNorm(parameters + [unused], maxNorm: maxNorm, normType: normType)
    expectScaledClose(Tensor(scalar: total), try f.tensor("\(name).total"), "\(name) total norm", tolerance: 1e-6)
    for (i, p) in parameters.enumerated() {
      expectMaxAbsClose(p.grad, try f.tensor("\(name).p\(i)"), "\(name) clipped gradient \(i)", maxAbs: 1e-6)
    }
    #expect(unused.grad == nil)
  }

  @Test func clipGradNormLeavesSmallGradientsAndOthersAlone() {
    let p = Parameter(.zeros([2]))
    let g = Tensor([3, 4])
    p.grad = g
    #expect(clipGradNorm([p], maxNorm: 10) == 5)
    #expect(p.grad == Tensor([3, 4]))
    #expect(clipGradNorm([p], maxNorm: 1) == 5)
    #expect(closeness(p.grad!, Tensor([0.6, 0.8]), rtol: 1e-6).ok)
    #expect(g == Tensor([3, 4]), "clipping must not write into tensors that shared the gradient's storage")
    #expect(clipGradNorm([Parameter(.zeros([1]))], maxNorm: 1) == 0)
  }

  @Test func clipGradValueMatchesPyTorch() throws {
    let f = try loadFixture("foundation/clipping")
    let parameters = try (0..<3).map { i in
      let p = Parameter(.zeros(try f.tensor("grad.p\(i)").shape))
      p.grad = try f.tensor("grad.p\(i)")
      return p
    }
    clipGradValue(parameters, 0.75)
    for (i, p) in parameters.enumerated() {
      #expect(p.grad == (try f.tensor("value.p\(i)")), "clipped values of gradient \(i)")
    }
  }

  // MARK: - Learning-rate schedules

  func expectSchedule(_ schedule: some LearningRateSchedule, _ key: String, base: Float = 0.1) throws {
    let expected = try loadFixture("foundation/schedules").tensor(key)
    let actual = Tensor((0..<expected.count).map { schedule.learningRate(at: $0, base: base) })
    #expect(closeness(actual, expected, rtol: 1e-6, atol: 1e-9).ok, "\(key): \(closeness(actual, expected).message)")
  }

  @Test func stepLRMatchesPyTorch() throws {
    try expectSchedule(StepLR(stepSize: 3, gamma: 0.5), "step")
  }

  @Test func cosineAnnealingMatchesPyTorch() throws {
    try expectSchedule(CosineAnnealingLR(tMax: 10, etaMin: 0.001), "cosine")
  }

  @Test func linearWarmupMatchesPyTorch() throws {
    try expectSchedule(LinearWarmup(warmupSteps: 4, startFactor: 0.25), "warmup")
    try expectSchedule(LinearWarmup(warmupSteps: 5, startFactor: 0.2, then: CosineAnnealingLR(tMax: 10)), "warmup_cosine")
  }

  @Test func scheduleDrivesTheOptimizer() {
    let p = Parameter(.zeros([1]))
    let sgd = SGD(parameters: [p], learningRate: 0.1)
    let schedule = LinearWarmup(warmupSteps: 2, then: StepLR(stepSize: 1, gamma: 0.5))
    var rates: [Float] = []
    for step in 0..<5 {
      schedule.apply(to: sgd, step: step, base: 0.1)
      rates.append(sgd.learningRate)
    }
    let expected = Tensor([0.05, 0.075, 0.1, 0.05, 0.025])
    #expect(closeness(Tensor(rates), expected, rtol: 1e-6).ok, "\(rates)")
  }
}
