import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

@Suite struct LossTests {
  // MARK: - Cross-entropy against PyTorch

  @Test(arguments: [("ce", Float(0)), ("ce_smooth", Float(0.1))], Reduction.allCases)
  func crossEntropyMatchesPyTorch(_ variant: (tag: String, smoothing: Float), _ reduction: Reduction) throws {
    let f = try loadFixture("foundation/losses")
    let logits = try f.tensor("ce.logits").requiringGrad()
    let targets = try f.indices("ce.targets")
    #expect(targets.contains(-100), "the fixture should exercise ignoreIndex")
    let loss = crossEntropy(logits: logits, targets: targets, reduction: reduction, labelSmoothing: variant.smoothing)
    let key = "\(variant.tag).\(reduction.rawValue)"
    expectScaledClose(loss, try f.tensor("\(key).loss"), "\(key) loss")
    if reduction == .none {
      try (loss * f.tensor("ce.upstream_none")).sum().backward()
    } else {
      loss.backward()
    }
    expectScaledClose(logits.grad, try f.tensor("\(key).dlogits"), "\(key) dlogits")
  }

  @Test func crossEntropyTakesClassesOnTheLastAxis() throws {
    let f = try loadFixture("foundation/losses")
    let logits = try f.tensor("ce3.logits").requiringGrad()  // [T=3, B=2, C=6]
    let loss = crossEntropy(logits: logits, targets: try f.indices("ce3.targets"))
    expectScaledClose(loss, try f.tensor("ce3.loss"), "[T, B, C] loss")
    loss.backward()
    expectScaledClose(logits.grad, try f.tensor("ce3.dlogits"), "[T, B, C] dlogits")
    let perToken = crossEntropy(logits: logits, targets: try f.indices("ce3.targets"), reduction: .none)
    #expect(perToken.shape == [3, 2])
  }

  @Test func crossEntropyAtLanguageModelScale() throws {
    let f = try loadFixture("foundation/losses")
    let logits = try f.tensor("ce_big.logits").requiringGrad()  // [64, 67]
    let loss = crossEntropy(logits: logits, targets: try f.indices("ce_big.targets"))
    expectScaledClose(loss, try f.tensor("ce_big.loss"), "loss")
    loss.backward()
    expectScaledClose(logits.grad, try f.tensor("ce_big.dlogits"), "dlogits")
  }

  @Test func crossEntropyAgreesWithComposedLogSoftmax() {
    var rng = RandomGenerator(seed: 3)
    let logits = Tensor.normal([9, 11], std: 3, generator: &rng)
    let targets = (0..<9).map { ($0 * 5) % 11 }
    let fused = crossEntropy(logits: logits, targets: targets, reduction: .none)
    let logp = logits.logSoftmax()
    let composed = Tensor(shape: [9], scalars: targets.enumerated().map { -logp[$0.offset, $0.element] })
    #expect(closeness(fused, composed, rtol: 1e-5, atol: 2e-6).ok, "\(closeness(fused, composed).message)")
  }

  @Test(arguments: Reduction.allCases, [Float(0), 0.2])
  func crossEntropyGradCheck(_ reduction: Reduction, _ smoothing: Float) {
    var rng = RandomGenerator(seed: 11)
    let logits = Tensor.normal([6, 5], std: 2, generator: &rng)
    let targets = [1, 4, 7, 0, 2, 7]  // 7 is the ignore index here
    let result = gradCheck(inputs: [logits]) { x in
      crossEntropy(logits: x[0], targets: targets, ignoreIndex: 7, reduction: reduction, labelSmoothing: smoothing)
    }
    #expect(result.passed, "\(result)")
  }

  @Test func crossEntropyIgnoredRows() {
    let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, 0, 0, 5]).requiringGrad()
    let all = crossEntropy(logits: logits, targets: [-100, -100])
    #expect(all.item.isNaN, "mean over zero targets is NaN, as in PyTorch")
    #expect(crossEntropy(logits: logits, targets: [-100, -100], reduction: .sum).item == 0)
    let none = crossEntropy(logits: logits, targets: [-100, 2], reduction: .none)
    #expect(none[0] == 0)
    let one = crossEntropy(logits: logits, targets: [-100, 2])
    #expect(Swift.abs(one.item - none[1]) < 1e-7, "mean over the one valid row is that row's loss")
    one.backward()
    #expect(logits.grad!.scalars[0..<3].allSatisfy { $0 == 0 }, "ignored rows get no gradient")
  }

  @Test func crossEntropyIsStableForLargeLogits() {
    let logits = Tensor(shape: [2, 3], scalars: [1000, 0, -1000, -1e30, 1e30, 0])
    let loss = crossEntropy(logits: logits, targets: [0, 0], reduction: .none)
    #expect(loss[0] == 0)
    #expect(loss[1] == 2e30)
    #expect(loss.isFinite)
  }

  @Test func validateTargetsReportsTheFirstBadIndex() throws {
    try validateTargets([0, 2, -100, 1], classCount: 3)
    #expect(throws: LossError.targetOutOfRange(position: 1, target: 3, classCount: 3, ignoreIndex: -100)) {
      try validateTargets([0, 3, -1], classCount: 3)
    }
    #expect(throws: LossError.self) { try validateTargets([-100], classCount: 3, ignoreIndex: 0) }
    let message = LossError.targetOutOfRange(position: 4, target: 70, classCount: 65, ignoreIndex: -100).description
    #expect(message.contains("70") && message.contains("0..<65") && message.contains("position 4"))
  }

  // MARK: - Mean squared error

  @Test(arguments: Reduction.allCases)
  func mseMatchesPyTorch(_ reduction: Reduction) throws {
    let f = try loadFixture("foundation/losses")
    let a = try f.tensor("mse.a").requiringGrad(), b = try f.tensor("mse.b").requiringGrad()
    let loss = mseLoss(a, b, reduction: reduction)
    expectScaledClose(loss, try f.tensor("mse.\(reduction.rawValue).loss"), "mse \(reduction) loss")
    if reduction == .none {
      try (loss * f.tensor("mse.upstream_none")).sum().backward()
    } else {
      loss.backward()
    }
    expectScaledClose(a.grad, try f.tensor("mse.\(reduction.rawValue).da"), "mse \(reduction) d input")
    expectScaledClose(b.grad, try f.tensor("mse.\(reduction.rawValue).db"), "mse \(reduction) d target")
  }

  @Test(arguments: Reduction.allCases)
  func mseGradCheck(_ reduction: Reduction) {
    var rng = RandomGenerator(seed: 5)
    let a = Tensor.normal([3, 4], generator: &rng), b = Tensor.normal([3, 4], generator: &rng)
    let result = gradCheck(inputs: [a, b]) { x in mseLoss(x[0], x[1], reduction: reduction) }
    #expect(result.passed, "\(result)")
  }

  @Test func mseValues() {
    let a = Tensor([1, 2, 3]), b = Tensor([1, 0, 6])
    #expect(mseLoss(a, b).item == 13.0 / 3)
    #expect(mseLoss(a, b, reduction: .sum).item == 13)
    #expect(mseLoss(a, b, reduction: .none) == Tensor([0, 4, 9]))
  }
}
