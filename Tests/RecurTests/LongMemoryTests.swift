import Foundation
import Testing
@testable import Recur
import _RecurTestSupport

/// The adding and copy-memory generators, the long-memory task on the trainer, and the gradient
/// flow it records.
struct LongMemoryTests {
  // MARK: - Generators

  @Test func addingSequencesFollowHochreiterAndSchmidhuber() throws {
    let p = try AddingProblem(length: 40)
    var g = RandomGenerator(seed: 3)
    let count = 500
    let (x, lengths, targets) = p.sample(count: count, generator: &g)
    #expect(x.shape == [lengths.max()!, count, 2])
    #expect(Set(lengths).isSubset(of: Set(40...44)) && Set(lengths).count > 1)
    for b in 0..<count {
      let n = lengths[b]
      let value = { (t: Int) in x[t, b, 0] }, marker = { (t: Int) in x[t, b, 1] }
      let marked = (0..<n).filter { marker($0) == 1 }
      #expect(marked.count == 2)
      #expect(marked[0] < 10 && marked[1] < 40 / 2 - 1)
      #expect((1..<(n - 1)).allSatisfy { marker($0) == 1 || marker($0) == 0 })
      #expect(marker(n - 1) == -1)
      #expect(marker(0) == (marked[0] == 0 ? 1 : -1))
      #expect((0..<n).allSatisfy { abs(value($0)) <= 1 })
      #expect((n..<x.shape[0]).allSatisfy { value($0) == 0 && marker($0) == 0 })
      #expect(abs(targets[b] - (0.5 + (value(marked[0]) + value(marked[1])) / 4)) < 1e-6)
    }
    // X₁ — the mark among the first ten — is 0 when it falls on the first pair: one time in ten
    // (4 standard deviations of a fraction of 500 allowed).
    let zeroed = (0..<count).filter { x[0, $0, 1] == 1 && x[0, $0, 0] == 0 }.count
    #expect(abs(Double(zeroed) / Double(count) - 0.1) < 0.054, "\(zeroed)")
    var again = RandomGenerator(seed: 3)
    #expect(p.sample(count: count, generator: &again).inputs.scalars == x.scalars)
  }

  /// Predicting 0.5 scores the documented baseline: mean squared error 19/480, about 16 % right
  /// (sampling error of a mean over 40,000 sequences: ≈ 0.0003 and 0.002).
  @Test func addingBaselineIsTheVarianceOfTheTarget() throws {
    var g = RandomGenerator(seed: 5)
    let targets = try AddingProblem(length: 22).sample(count: 40_000, generator: &g).targets
    let mse = targets.reduce(0.0) { $0 + Double(($1 - 0.5) * ($1 - 0.5)) } / Double(targets.count)
    let right = Double(targets.filter { abs($0 - 0.5) < AddingProblem.tolerance }.count) / Double(targets.count)
    #expect(abs(mse - AddingProblem.baselineLoss) < 0.0012, "\(mse)")
    #expect(abs(right - 0.1567) < 0.01, "\(right)")
    #expect(throws: TrainingError.self) { try AddingProblem(length: 21) }
  }

  @Test func copySequencesShowTenSymbolsAndAskForThemAfterTheDelimiter() throws {
    let p = try CopyMemory(delay: 7)
    #expect(p.sequenceLength == 27)
    #expect(abs(try CopyMemory(delay: 100).baselineLoss - 10 * log(8.0) / 120) < 1e-15)
    var g = RandomGenerator(seed: 1)
    let (x, y) = p.sample(count: 3, generator: &g)
    #expect(x.shape == [27, 3, 10])
    for b in 0..<3 {
      let input = (0..<27).map { t in (0..<10).first { x[t, b, $0] == 1 }! }
      #expect((0..<27).allSatisfy { t in (0..<10).reduce(Float(0)) { $0 + x[t, b, $1] } == 1 })
      let target = (0..<27).map { y[$0 * 3 + b] }
      #expect(input[0..<10].allSatisfy { $0 < 8 })
      #expect(input[10..<16].allSatisfy { $0 == CopyMemory.blank })
      #expect(input[16] == CopyMemory.delimiter)
      #expect(input[17...].allSatisfy { $0 == CopyMemory.blank })
      #expect(target[0..<17].allSatisfy { $0 == CopyMemory.blank })
      #expect(Array(target[17...]) == Array(input[0..<10]))
    }
  }

  /// The memory-gate bias lands on the LSTM's forget gate and the GRU's update gate (block 1 of
  /// `bias_ih`, with block 1 of `bias_hh` zero), and nowhere else.
  @Test func memoryGateBiasSetsForgetAndUpdateGates() throws {
    let problem = try LongMemoryProblem(kind: "adding", length: 100)
    for cell in [SequenceLayerKind.lstm, .gru] {
      let plain = LongMemoryNetwork(cell: cell, hiddenSize: 5, problem: problem, memoryGateBias: nil, seed: 4)
      let biased = LongMemoryNetwork(cell: cell, hiddenSize: 5, problem: problem, memoryGateBias: 4.6, seed: 4)
      let p = Dictionary(plain.stateDict().map { ($0.name, $0.tensor.scalars) }, uniquingKeysWith: { a, _ in a })
      let b = Dictionary(biased.stateDict().map { ($0.name, $0.tensor.scalars) }, uniquingKeysWith: { a, _ in a })
      for (name, values) in b {
        let original = p[name]!
        for (j, v) in values.enumerated() {
          let inBlock1 = (5..<10).contains(j)
          switch name {
          case "rnn.bias_ih_l0" where inBlock1: #expect(v == 4.6)
          case "rnn.bias_hh_l0" where inBlock1: #expect(v == 0)
          default: #expect(v == original[j], "\(cell) \(name)[\(j)]")
          }
        }
      }
    }
    #expect(throws: TrainingError.self) {
      try LongMemoryTask(configuration: .init(problem: problem, cell: .lstm, hiddenSize: 4, memoryGateBias: .nan), batchSize: 2,
                         validationCount: 2, seed: 1)
    }
  }

  /// Chrono initialisation (Tallec & Ollivier 2018) in PyTorch's gate order: every unit's keep bias
  /// is ln u with u in [1, T_max − 1] (LSTM forget block 1, GRU update block 1, minLSTM f block 0),
  /// the write gate gets its opposite (LSTM input block 0, minLSTM i block 1, minGRU z block 0),
  /// `bias_hh` is 0 on those blocks, and every other parameter is PyTorch's initialisation.
  @Test func chronoInitialisationSetsKeepAndWriteGates() throws {
    let problem = try LongMemoryProblem(kind: "adding", length: 100)
    let h = 64, tMax = 110
    // cell → (keep block, sign of the keep bias there; write block with −keep, or nil)
    let layout: [(SequenceLayerKind, keep: Int, sign: Float, write: Int?)] = [
      (.lstm, 1, 1, 0), (.gru, 1, 1, nil), (.minGRU, 0, -1, nil), (.minLSTM, 0, 1, 1),
    ]
    for (cell, keepBlock, sign, writeBlock) in layout {
      let plain = LongMemoryNetwork(cell: cell, hiddenSize: h, problem: problem, memoryGateBias: nil, seed: 4)
      let chrono = LongMemoryNetwork(cell: cell, hiddenSize: h, problem: problem, memoryGateBias: nil, chronoMaximum: tMax, seed: 4)
      let p = Dictionary(plain.stateDict().map { ($0.name, $0.tensor.scalars) }, uniquingKeysWith: { a, _ in a })
      let c = Dictionary(chrono.stateDict().map { ($0.name, $0.tensor.scalars) }, uniquingKeysWith: { a, _ in a })
      #expect(Set(p.keys) == Set(c.keys))
      let keep = (0..<h).map { sign * c["rnn.bias_ih_l0"]![keepBlock * h + $0] }
      #expect(keep.allSatisfy { $0 >= 0 && $0 <= Float(log(Double(tMax - 1))) }, "\(cell)")
      // Spread over the time scales, not one value: the largest above ln(T_max/2), the smallest below ln 10.
      #expect(keep.max()! > Float(log(Double(tMax) / 2)) && keep.min()! < Float(log(10.0)), "\(cell) \(keep.min()!)…\(keep.max()!)")
      for (name, values) in c {
        for (j, v) in values.enumerated() {
          let block = j / h
          switch name {
          case "rnn.bias_ih_l0" where block == keepBlock: continue
          case "rnn.bias_ih_l0" where block == writeBlock: #expect(v == -keep[j % h], "\(cell) \(name)[\(j)]")
          case "rnn.bias_hh_l0" where block == keepBlock || block == writeBlock: #expect(v == 0, "\(cell) \(name)[\(j)]")
          default: #expect(v == p[name]![j], "\(cell) \(name)[\(j)]")
          }
        }
      }
    }
    // The tanh RNN has no gate: chrono leaves it as PyTorch draws it.
    let rnn = LongMemoryNetwork(cell: .rnnTanh, hiddenSize: 8, problem: problem, memoryGateBias: nil, chronoMaximum: tMax, seed: 4)
    let rnnPlain = LongMemoryNetwork(cell: .rnnTanh, hiddenSize: 8, problem: problem, memoryGateBias: nil, seed: 4)
    #expect(rnn.stateDict().map(\.tensor.scalars) == rnnPlain.stateDict().map(\.tensor.scalars))
    for bad in [LongMemoryTask.Configuration(problem: problem, cell: .lstm, hiddenSize: 4, memoryGateBias: nil, chronoMaximum: 2),
                LongMemoryTask.Configuration(problem: problem, cell: .lstm, hiddenSize: 4, memoryGateBias: 4, chronoMaximum: 110)] {
      #expect(throws: TrainingError.self) { try LongMemoryTask(configuration: bad, batchSize: 2, validationCount: 2, seed: 1) }
    }
  }

  // MARK: - The task on the trainer

  static func settings(_ kind: String, length: Int, cell: SequenceLayerKind, steps: Int) throws -> LongMemoryRunSettings {
    var s = LongMemoryRunSettings(configuration: .init(problem: try LongMemoryProblem(kind: kind, length: length), cell: cell,
                                                       hiddenSize: 24, memoryGateBias: 1))
    s.steps = steps
    s.batchSize = 16
    s.evalEvery = 20
    s.validationCount = 64
    s.testCount = 300
    s.gradientSnapshots = 4
    s.gradientTimePoints = 10
    s.learningRate = 1e-2
    return s
  }

  /// An LSTM learns the adding problem at T = 22: well above the 16 % a memoryless network gets
  /// right, and the run stops as soon as the validation accuracy reaches the target.
  @Test func lstmLearnsShortAddingAndStopsWhenSolved() throws {
    var s = try Self.settings("adding", length: 22, cell: .lstm, steps: 600)
    s.configuration.hiddenSize = 32
    s.batchSize = 50
    s.learningRate = 3e-3
    s.evalEvery = 50
    s.validationCount = 256
    s.solvedAccuracy = 0.6
    let r = try LongMemoryExperiment.run(s)
    #expect(r.outcome == "solved" && r.steps == r.solvedAtStep && r.steps < 600)
    #expect(r.curve.last!.validationAccuracy >= 0.6 && r.curve.dropLast().allSatisfy { $0.validationAccuracy < 0.6 })
    #expect(r.sequencesToSolve == r.steps * 50 && r.sequencesSeen == r.steps * 50)
    #expect(r.test.accuracy > 0.4, "test accuracy \(r.test.accuracy)")
    #expect(r.test.loss < 0.25 * AddingProblem.baselineLoss)
  }

  /// A copy run's record: the curve at every evaluation, the test count, gradient snapshots over
  /// the T + 20 steps of its sequences; in 300 steps the LSTM learns at least the memoryless
  /// answer (blanks, then a guess), from ln 10 per step at the start.
  @Test func copyRunIsRecorded() throws {
    let s = try Self.settings("copy", length: 3, cell: .lstm, steps: 300)
    let r = try LongMemoryExperiment.run(s)
    #expect(r.steps == 300 && r.sequencesSeen == 300 * 16 && r.outcome == "budget")
    #expect(r.curve.map(\.step) == Array(stride(from: 20, through: 300, by: 20)))
    #expect(r.test.sequences == 300 && r.test.symbolAccuracy != nil)
    #expect(r.test.loss < 1.05 * r.baselineLoss, "test loss \(r.test.loss), baseline \(r.baselineLoss)")
    #expect(r.gradientFlow.timeSteps == [0, 2, 5, 7, 10, 12, 15, 17, 20, 22])
    #expect(r.gradientFlow.snapshots.map(\.step) == [1, 75, 150, 225, 300])
    #expect(r.gradientFlow.snapshots.allSatisfy { $0.norms.count == 10 && $0.norms.allSatisfy { $0 > 0 } })
    #expect(r.cpuSeconds > 0 && r.wallSeconds > 0)
  }

  /// The parallel-scan minGRU and minLSTM train on the adding problem through the same runner
  /// (the loss falls below 60 % of the memoryless one at T = 22), with no gradient record.
  @Test func minimalLayersLearnShortAdding() throws {
    for cell in [SequenceLayerKind.minGRU, .minLSTM] {
      var s = try Self.settings("adding", length: 22, cell: cell, steps: 400)
      s.configuration.memoryGateBias = nil
      s.configuration.chronoMaximum = 24
      s.batchSize = 50
      s.learningRate = 3e-3
      s.evalEvery = 100
      let r = try LongMemoryExperiment.run(s)
      #expect(r.steps == 400 && r.gradientFlow.snapshots.isEmpty && r.gradientFlow.timeSteps.count == 10)
      #expect(r.test.loss < 0.6 * AddingProblem.baselineLoss, "\(cell): test loss \(r.test.loss)")
    }
  }

  /// The run stops at the first evaluation that reaches the solved accuracy.
  @Test func runStopsWhenSolved() throws {
    var s = try Self.settings("adding", length: 30, cell: .gru, steps: 200)
    s.solvedAccuracy = 0.01
    let r = try LongMemoryExperiment.run(s)
    #expect(r.outcome == "solved" && r.solvedAtStep == 20 && r.sequencesToSolve == 20 * 16 && r.steps == 20)
    #expect(r.curve.count == 1 && r.curve[0].validationAccuracy >= 0.01)
  }

  /// The snapshots are the layer's gradient flow: the last one equals the norms of the last backward
  /// pass (rounded to three digits), and a tanh RNN's norm at t = 0 is far below its norm at the end,
  /// the vanishing gradient.
  @Test func recordedNormsAreTheLayersGradientFlow() throws {
    let s = try Self.settings("adding", length: 60, cell: .rnnTanh, steps: 8)
    let task = try LongMemoryTask(configuration: s.configuration, batchSize: 16, validationCount: 16, seed: 1)
    var options = TrainerOptions(optimizer: OptimizerSettings(learningRate: 1e-3))
    options.steps = 8
    let trainer = try Trainer(task: task, options: options)
    let flow = try #require(task.model.gradientFlow)
    let recorder = GradientFlowRecorder(flow: flow, length: 60, timePoints: 60, snapshotCount: 4)
    trainer.observers = [recorder]
    try trainer.run()
    #expect(recorder.record.snapshots.map(\.step) == [1, 2, 4, 6, 8])
    let norms = flow.norms(layer: 0)
    #expect(recorder.record.snapshots.last!.norms == (0..<60).map { GradientFlowRecorder.rounded(norms[$0]) })
    #expect(norms[0] < 1e-3 * norms[59], "\(norms[0]) vs \(norms[59])")
  }

  // MARK: - Results file

  @Test func resultsRoundTripAndBadFilesAreNamed() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let r = try LongMemoryExperiment.run(try Self.settings("adding", length: 22, cell: .lstm, steps: 20))
    let url = dir.appendingPathComponent("results.json")
    let results = LongMemoryResults(producer: "test", problem: "adding", runs: [r])
    try results.write(to: url)
    #expect(try LongMemoryResults.read(from: url) == results)

    let bad = dir.appendingPathComponent("bad.json")
    try Data("{\"formatVersion\": 1, \"producer\": \"x\", \"problem\": \"adding\"}".utf8).write(to: bad)
    #expect { try LongMemoryResults.read(from: bad) } throws: { "\($0)".contains("bad.json") && "\($0)".contains("runs is missing") }
    try Data("{\"formatVersion\": 2, \"producer\": \"x\", \"problem\": \"adding\", \"runs\": []}".utf8).write(to: bad)
    #expect { try LongMemoryResults.read(from: bad) } throws: { "\($0)".contains("format 2") }
    try Data("not json".utf8).write(to: bad)
    #expect { try LongMemoryResults.read(from: bad) } throws: { "\($0)".contains("not JSON") }
  }
}
