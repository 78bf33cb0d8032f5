import Foundation
import Testing
@testable import Recur

/// The evaluation of every task split over processes: each process evaluates its part of the
/// validation examples, the sums are added, and the result is the single-process evaluation.
@Suite("Data-parallel evaluation", .serialized)
struct DataParallelEvaluationTests {
  // MARK: - Parts add up to the whole, in one process

  /// The evaluation from the sums of parts `0..<k` and `k..<n` (k = n/3: unequal parts) against
  /// the evaluation of everything at once. The loss sums are added in another order (float32 sums
  /// within each batch, and batches of other sizes), so they agree to rounding: 1e-6 relative, a few
  /// float32 ulps of each batch sum. The counts behind the metrics are whole numbers and the
  /// predictions of each example do not depend on its batch, so the metrics agree exactly.
  static func expectPartsAddUp<T: TrainingTask>(_ task: T, _ name: String) throws {
    let whole = try #require(try task.evaluate(), "\(name): no validation data")
    let n = task.validationCount, k = n / 3
    #expect(n >= 3 && whole.examplesPerProcess == [n], "\(name)")
    var sums = try task.evaluationSums(over: 0..<k)
    #expect(sums.examples == k, "\(name)")
    sums.add(try task.evaluationSums(over: k..<n))
    // An empty part (more processes than examples) adds nothing.
    sums.add(try task.evaluationSums(over: n..<n))
    #expect(sums.examples == n)
    let parts = task.evaluation(from: sums)
    #expect(abs(parts.loss - whole.loss) <= 1e-6 * abs(whole.loss), "\(name): loss \(parts.loss) from parts, \(whole.loss) whole")
    #expect(parts.metrics == whole.metrics, "\(name): \(parts.metrics) from parts, \(whole.metrics) whole")
  }

  @Test func everyTasksEvaluationIsTheSumOfItsParts() throws {
    try Self.expectPartsAddUp(try LanguageModelTrainerTests.task(), "language model")
    try Self.expectPartsAddUp(try ClassificationTaskTests.task(), "classification")
    try Self.expectPartsAddUp(try TaggingTaskTests.task(crf: true), "tagging (CRF)")
    try Self.expectPartsAddUp(try TaggingTaskTests.task(crf: false), "tagging")
    try Self.expectPartsAddUp(try Seq2SeqTaskTests.task(attention: .general), "seq2seq")
    let (train, validation, metadata) = try CTCTaskTests.datasets()
    let ctc = try CTCModel(.init(inputSize: SyntheticCTC.featureCount, cell: .gru, hiddenSize: 8, numLayers: 1, dropout: 0,
                                 classCount: metadata.alphabet.classCount), seed: 3)
    try Self.expectPartsAddUp(try CTCTask(model: ctc, train: train, validation: validation, batchSize: 16, metadata: metadata, shuffleSeed: 4), "CTC")
    try Self.expectPartsAddUp(try TrainerStoppingTests.forecastTask().1, "forecasting")
    for problem in [try LongMemoryProblem(kind: "adding", length: 30), try LongMemoryProblem(kind: "copy", length: 30)] {
      let task = try LongMemoryTask(configuration: .init(problem: problem, cell: .gru, hiddenSize: 8, memoryGateBias: nil), batchSize: 8,
                                    validationCount: 300, seed: 2)
      try Self.expectPartsAddUp(task, "long memory \(problem)")
    }
  }

  @Test func sumsAddByNameAndCountTheirExamples() {
    var a = EvaluationSums(examples: 2, ["loss": 1.5, "tokens": 10], vectors: ["confusion": [1, 0, 0, 1]])
    a.add(EvaluationSums(examples: 3, ["tokens": 7, "loss": 0.25], vectors: ["confusion": [0, 2, 1, 0]]))
    #expect(a.examples == 5 && a["loss"] == 1.75 && a["tokens"] == 17)
    #expect(a[vector: "confusion"] == [1, 2, 1, 1])
    #expect(a.layout.map(\.0) == ["confusion", "loss", "tokens"] && a.layout.map(\.1) == [4, 1, 1])

    // A metric that is not a sum (a median): each part puts its examples' values at their
    // indices, and the sum of the parts holds every value.
    let errors = [0.5, 3, 1, 9, 2, 4, 7]
    func part(_ range: Range<Int>) -> EvaluationSums {
      var v = [Double](repeating: 0, count: errors.count)
      for i in range { v[i] = errors[i] }
      return EvaluationSums(examples: range.count, vectors: ["error": v])
    }
    var gathered = part(0..<3)
    gathered.add(part(3..<7))
    #expect(gathered[vector: "error"] == errors && gathered[vector: "error"].sorted()[3] == 3)
  }

  // MARK: - Two processes under mpirun

  /// One small run of a `recur` subcommand: its arguments, with the data it reads written to `scratch`.
  struct Run: Sendable {
    var name: String
    var arguments: @Sendable (CLIScratch) throws -> [String]
  }

  /// Every subcommand that trains through the `Trainer` and writes `metrics.jsonl`. One step at a
  /// learning rate of 1e-30 leaves the initial weights as they are (an update of 1e-30 is far below
  /// a float32 ulp of these weights), so the one-process and two-process runs evaluate the same
  /// weights and the comparison is of the evaluations alone.
  static let runs: [Run] = [
    Run(name: "train (char LM)") { _ in
      ["train", "--hidden-size", "16", "--num-layers", "1", "--embedding-size", "8", "--seq-length", "25", "--batch-size", "8",
       "--sample-every", "0", "--sample-length", "1"]
    },
    Run(name: "classify train") { scratch in
      try scratch.write("toy.csv", Array(ClassifyCLITests.toyCSV().utf8))
      return ["classify", "train", "--data", scratch.path("toy.csv"), "--hidden-size", "8", "--embedding-size", "8", "--batch-size", "16"]
    },
    Run(name: "tag train") { scratch in
      try scratch.write("train.tsv", Array(TagCLITests.tsv(count: 60, seed: 1).utf8))
      return ["tag", "train", "--train", scratch.path("train.tsv"), "--val-fraction", "0.25", "--crf", "--hidden-size", "8",
              "--embedding-size", "8", "--char-embedding-size", "4", "--char-hidden-size", "4", "--batch-size", "8"]
    },
    Run(name: "seq2seq train") { scratch in
      try scratch.write("train.tsv", Array(Seq2SeqCLITests.tsv(count: 64, seed: 1).utf8))
      // One source with two references: its pairs stay together on one process.
      try scratch.write("dev.tsv", Array((Seq2SeqCLITests.tsv(count: 40, seed: 2) + "123\t3 2 1\n123\t9\n").utf8))
      return ["seq2seq", "train", "--train", scratch.path("train.tsv"), "--validation", scratch.path("dev.tsv"), "--target-tokens", "words",
              "--hidden-size", "8", "--embedding-size", "8", "--dropout", "0", "--batch-size", "16"]
    },
    Run(name: "ctc train") { scratch in
      try CTCCLITests.write(scratch)
      return ["ctc", "train", "--data", scratch.path("frames.csv"), "--labels", scratch.path("labels.csv"), "--model", "gru",
              "--hidden-size", "8", "--num-layers", "1", "--batch-size", "16"]
    },
    Run(name: "experiment (long memory)") { _ in
      ["experiment", "adding", "--cells", "gru", "--lengths", "30", "--hidden-size", "8", "--batch-size", "8", "--eval-every", "1",
       "--validation-count", "101", "--test-count", "8"]
    },
  ]

  /// The one `metrics.jsonl` under `directory`.
  static func metrics(under directory: String) throws -> MetricsRecord {
    let files = (FileManager.default.enumerator(atPath: directory)?.allObjects as? [String] ?? []).filter { $0.hasSuffix("metrics.jsonl") }
    #expect(files.count == 1, "metrics.jsonl files under \(directory): \(files)")
    let path = directory + "/" + (try #require(files.first))
    return try #require(MetricsLog.read(from: URL(fileURLWithPath: path)).records.last, "\(path) is empty")
  }

  @Test(.enabled(if: MPILauncher.path != nil, MPILauncher.skipReason))
  func twoProcessesEvaluateHalfTheExamplesEachAndGetTheSingleProcessEvaluation() throws {
    for run in Self.runs {
      let scratch = try CLIScratch()
      let common = try run.arguments(scratch) + ["--steps", "1", "--learning-rate", "1e-30", "--threads", "1"]
      let single = scratch.path("single"), parallel = scratch.path("parallel")
      let one = try RecurExecutable.run(common + ["--out", single])
      try #require(one.status == 0, "\(run.name): \(one.stderr)")
      let two = try MPILauncher.run(processes: 2, common + ["--out", parallel])
      try #require(two.status == 0, "\(run.name) under mpirun: \(two.stderr)")
      let a = try Self.metrics(under: single), b = try Self.metrics(under: parallel)
      let n = try #require(a.validationExamples?.first, "\(run.name): no val_examples")
      #expect(a.validationExamples == [n], "\(run.name)")
      // Each process evaluated its half (the first the smaller when the count is odd).
      #expect(b.validationExamples == [n / 2, n - n / 2], "\(run.name): \(b.validationExamples ?? [])")
      let (v, w) = (try #require(a.validationLoss), try #require(b.validationLoss))
      #expect(abs(v - w) <= 1e-6 * abs(v), "\(run.name): validation loss \(v) by one process, \(w) by two")
      #expect(!a.metrics.isEmpty || run.name.hasPrefix("train"), "\(run.name): no metrics")
      #expect(a.metrics == b.metrics, "\(run.name): \(a.metrics) by one process, \(b.metrics) by two")
    }
  }
}
