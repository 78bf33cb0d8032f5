import Foundation
import Testing
@testable import Recur

/// The Trainer's moving average of the weights: its arithmetic, evaluation on the averaged
/// weights, checkpoints that hold both, and bit-identical resume.
@Suite("Trainer: weight average")
struct ParameterAverageTests {
  @Test func averageFollowsTheWeightsWithTheWarmedUpDecay() throws {
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01))
    options.steps = 40
    options.averageDecay = 0.9
    let task = OpposedTask()
    let trainer = try Trainer(task: task, options: options)
    let average = try #require(trainer.average)
    #expect(average.decay(ofUpdate: 1) == 2 / Float(11) && average.decay(ofUpdate: 80) == 0.9)
    var expected = task.model.weight.data.scalars[0]
    for n in 1...40 {
      try trainer.trainStep()
      let w = task.model.weight.data.scalars[0]
      let d = min(Float(0.9), Float(1 + n) / Float(10 + n))
      expected += (1 - d) * (w - expected)
      #expect(average.values[0].scalars[0] == expected, "update \(n)")
    }
    #expect(average.updates == 40)
    // The weight climbs towards 2, so the average trails it; evaluation sees the average and
    // leaves the trained weight in the model.
    let trained = task.model.weight.data.scalars[0]
    #expect(expected < trained && expected > 0)
    let evaluation = try #require(try trainer.evaluate())
    #expect(evaluation.metrics["weight"] == Double(expected))
    #expect(task.model.weight.data.scalars[0] == trained)
    // The archive's model is the average; the trained weight rides along for resuming.
    let archive = try trainer.archive()
    #expect(try archive.stateDict["weight"]?.scalars == [expected])
    #expect(archive.tensors(prefix: ModelArchive.trainingWeightsPrefix).map(\.tensor.scalars) == [[trained]])
  }

  @Test func restoreBestLoadsTheAveragedWeights() throws {
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .sgd, learningRate: 0.01))
    options.steps = 5
    options.evalEvery = 5
    options.averageDecay = 0.5
    options.restoreBest = true
    let task = OpposedTask(validationSlope: 2)
    let trainer = try Trainer(task: task, options: options)
    try trainer.run()
    let average = try #require(trainer.average)
    #expect(task.model.weight.data.scalars == average.values[0].scalars)
  }

  @Test func resumeKeepsTheAverageBitForBit() throws {
    var options = LanguageModelTrainerTests.options(steps: 30)
    options.averageDecay = 0.95
    let straight = try Trainer(task: LanguageModelTrainerTests.task(), options: options)
    try straight.run()

    let first = try Trainer(task: LanguageModelTrainerTests.task(), options: options)
    first.stopRequested = { first.step == 15 }
    #expect(try first.run() == .stopped)
    let resumed = try LanguageModelTrainerTests.savedAndReloaded(first)
    #expect(resumed.average?.updates == 15 && resumed.average?.decay == 0.95)
    try resumed.run()
    try LanguageModelTrainerTests.expectSameBits(straight, resumed)
    let a = try #require(straight.average), b = try #require(resumed.average)
    #expect(a.updates == 30 && b.updates == 30)
    #expect(a.values.map { $0.scalars.map(\.bitPattern) } == b.values.map { $0.scalars.map(\.bitPattern) })
    // and the average is not the trained weights
    #expect(a.values.map(\.scalars) != straight.task.model.parameters.map(\.data.scalars))
  }

  @Test func aCheckpointWithoutTheTrainedWeightsIsRefused() throws {
    var options = LanguageModelTrainerTests.options(steps: 4)
    options.averageDecay = 0.9
    let trainer = try Trainer(task: LanguageModelTrainerTests.task(), options: options)
    try trainer.run()
    var archive = try trainer.archive()
    for entry in archive.file.orderedEntries where entry.name.hasPrefix(ModelArchive.trainingWeightsPrefix) { archive.file[entry.name] = nil }
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-ema-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try archive.write(to: url)
    let read = try ModelArchive.read(from: url)
    #expect(throws: TrainingError.self) {
      try Trainer(resuming: read, task: LanguageModelTask(archive: read, corpus: LanguageModelTrainerTests.corpus))
    }
  }

  @Test func decayOutsideTheOpenUnitIntervalIsRefused() throws {
    for decay: Float in [0, 1, -0.5, .nan] {
      var options = LanguageModelTrainerTests.options(steps: 4)
      options.averageDecay = decay
      #expect(throws: TrainingError.self) { try Trainer(task: LanguageModelTrainerTests.task(), options: options) }
    }
  }
}
