import Foundation
import Testing
@testable import Recur

struct ClassificationModelTests {
  static func config(tokens: Bool, pooling: SequencePooling, bidirectional: Bool, cell: RecurrentCellKind = .lstm) -> SequenceClassifier.Configuration {
    SequenceClassifier.Configuration(vocabularySize: tokens ? 12 : nil, featureCount: 3, embeddingSize: 5, cell: cell, hiddenSize: 6,
                                     numLayers: 2, bidirectional: bidirectional, dropout: 0.1, pooling: pooling, attentionSize: 4,
                                     headSize: 7, classCount: 3)
  }

  /// Random sequences: token ids in 1..<12 or 3-wide frames, of the given lengths.
  static func data(tokens: Bool, lengths: [Int], seed: UInt64 = 3) throws -> ClassificationDataset {
    var g = RandomGenerator(seed: seed)
    if tokens {
      return try ClassificationDataset(sequences: .tokens(lengths.map { n in (0..<n).map { _ in 1 + Int(g.next() % 11) } }), labels: [])
    }
    return try ClassificationDataset(sequences: .frames(lengths.map { n in (0..<(n * 3)).map { _ in Float.random(in: -1...1, using: &g) } },
                                                         featureCount: 3), labels: [])
  }

  @Test func parameterNamesAndShapes() throws {
    let m = try SequenceClassifier(Self.config(tokens: true, pooling: .attention, bidirectional: true), seed: 1)
    let names = m.namedParameters().map(\.name)
    #expect(names.first == "embedding.weight")
    #expect(names.contains("rnn.weight_ih_l0") && names.contains("rnn.weight_hh_l1_reverse"))
    #expect(Array(names.suffix(7)) == ["attention.proj.weight", "attention.proj.bias", "attention.v.weight",
                                       "head.0.weight", "head.0.bias", "head.3.weight", "head.3.bias"])
    let p = Dictionary(uniqueKeysWithValues: m.namedParameters().map { ($0.name, $0.parameter.shape) })
    #expect(p["attention.proj.weight"] == [4, 12] && p["head.0.weight"] == [7, 12] && p["head.3.weight"] == [3, 7])
    let frames = try SequenceClassifier(Self.config(tokens: false, pooling: .last, bidirectional: false), seed: 1)
    #expect(!frames.namedParameters().map(\.name).contains { $0.hasPrefix("embedding") || $0.hasPrefix("attention") })
    let data = try Self.data(tokens: true, lengths: [4, 2, 5])
    let (input, lengths, _) = data.batch([0, 1, 2])
    var context = ForwardContext.inference
    #expect(try m(input, lengths: lengths, context: &context).shape == [3, 3])
    let w = try #require(try m.attentionWeights(input, lengths: lengths))
    #expect(w.shape == [3, 5])
    for b in 0..<3 {
      let row = (0..<5).map { w[b, $0] }
      #expect(abs(row.reduce(0, +) - 1) < 1e-5)
      #expect(row[lengths[b]...].allSatisfy { $0 == 0 })
    }
  }

  @Test(arguments: SequencePooling.allCases)
  func paddingNeverChangesLogits(pooling: SequencePooling) throws {
    for tokens in [true, false] {
      for (bidirectional, extra) in [(false, "none"), (true, "none"), (true, "convolution"), (false, "ngrams")] where tokens || extra != "ngrams" {
        var config = Self.config(tokens: tokens, pooling: pooling, bidirectional: bidirectional)
        if extra == "convolution" { config.convolution = ConvolutionalBranch.Configuration(channels: [4, 3], kernelSizes: [3, 2]) }
        if extra == "ngrams" { config.ngrams = NgramBag.Configuration(order: 3, buckets: 16, dimension: 4) }
        let m = try SequenceClassifier(config, seed: 5)
        let data = try Self.data(tokens: tokens, lengths: [3, 7, 1, 5])
        var context = ForwardContext.inference
        let (input, lengths, _) = data.batch([0, 1, 2, 3])
        let batched = try m(input, lengths: lengths, context: &context)
        for i in 0..<4 {
          let (alone, l, _) = data.batch([i])
          let single = try m(alone, lengths: l, context: &context)
          for c in 0..<3 {
            #expect(abs(single[0, c] - batched[i, c]) <= 1e-6,
                    "\(pooling) tokens=\(tokens) bidirectional=\(bidirectional) \(extra) sequence \(i) class \(c): \(single[0, c]) vs \(batched[i, c])")
          }
        }
      }
    }
  }

  @Test func branchesAreNamedAsPyTorchModulesAndRebuiltFromArchives() throws {
    var config = Self.config(tokens: true, pooling: .max, bidirectional: true)
    config.convolution = ConvolutionalBranch.Configuration(channels: [4, 3], kernelSizes: [3, 2])
    config.ngrams = NgramBag.Configuration(order: 2, buckets: 16, dimension: 4)
    let m = try SequenceClassifier(config, seed: 2)
    let shapes = Dictionary(uniqueKeysWithValues: m.stateDict().map { ($0.name, $0.tensor.shape) })
    #expect(shapes["branch.convs.0.weight"] == [4, 5, 3] && shapes["branch.convs.1.weight"] == [3, 4, 2])
    #expect(shapes["branch.norms.1.running_var"] == [3] && shapes["branch.norms.0.num_batches_tracked"] == [])
    #expect(shapes["ngrams.embedding.weight"] == [12 + 16, 4])
    #expect(shapes["head.0.weight"] == [7, 12 + 3 + 4])
    var archive = ModelArchive(task: ClassificationTask.name, configuration: try ModelArchive.json(
      ClassificationArchive(model: config, batchSize: 4, shuffleSeed: 1, metadata: ClassificationMetadata(labelNames: ["a", "b", "c"]))))
    archive.add(m.stateDict())
    let (loaded, saved) = try ClassificationTask.loadModel(from: archive)
    #expect(saved.model == config)
    let (input, lengths, _) = try Self.data(tokens: true, lengths: [3, 6]).batch([0, 1])
    var context = ForwardContext.inference
    #expect(try loaded(input, lengths: lengths, context: &context) == m(input, lengths: lengths, context: &context))
    #expect(throws: TrainingError.self) {
      var c = Self.config(tokens: false, pooling: .max, bidirectional: true)
      c.ngrams = NgramBag.Configuration()
      _ = try SequenceClassifier(c, seed: 1)
    }
  }

  @Test func ngramRowsAreUnigramsThenHashedBuckets() throws {
    var g = RandomGenerator(seed: 1)
    let bag = try NgramBag(vocabularySize: 10, configuration: NgramBag.Configuration(order: 3, buckets: 7, dimension: 2), generator: &g)
    let rows = bag.grams([4, 5, 4, 5])
    #expect(rows.count == 4 + 3 + 2)
    #expect(Array(rows.prefix(4)) == [4, 5, 4, 5])
    #expect(rows.dropFirst(4).allSatisfy { (10..<17).contains($0) })
    #expect(rows[4] == rows[6], "the bigram 4 5 occurs twice and hashes to one row")
    #expect(bag.grams([4]) == [4])
    // The bag is the average of those rows.
    let out = bag([4, 5, 4, 5], steps: 4, batchSize: 1, lengths: [4])
    let table = bag.embedding.weight.value
    for j in 0..<2 {
      let expected = rows.map { table[$0, j] }.reduce(0, +) / Float(rows.count)
      #expect(abs(out[0, j] - expected) <= 1e-6)
    }
  }

  @Test func attentionPoolingGradientMatchesFiniteDifferences() throws {
    var g = RandomGenerator(seed: 9)
    let attention = AdditiveAttentionPooling(inputSize: 4, attentionSize: 3, generator: &g)
    let h = Tensor.uniform([5, 3, 4], low: -1, high: 1, generator: &g)
    let lengths = [5, 2, 3]
    let params = [attention.proj.weight, attention.proj.bias!, attention.v.weight].map(\.data)
    let result = gradCheck(inputs: [h] + params) { t in
      AdditiveAttentionPooling.pool(t[0], lengths: lengths, w: t[1], b: t[2], v: t[3]).pooled
    }
    #expect(result.passed, "\(result)")
    // Steps past a length get no gradient.
    let x = h.detached().requiringGrad()
    attention(x, lengths: lengths).pooled.sum().backward()
    let grad = try #require(x.grad)
    #expect((0..<4).allSatisfy { grad[4, 1, $0] == 0 && grad[3, 2, $0] == 0 })
  }

  @Test func metricsOfAKnownConfusion() {
    let m = ClassificationMetrics(predicted: [0, 0, 1, 1, 2, 0], actual: [0, 1, 1, 1, 2, 2], classCount: 3)
    #expect(m.confusion == [[1, 0, 0], [1, 2, 0], [1, 0, 1]])
    #expect(abs(m.accuracy - 4.0 / 6) < 1e-12)
    #expect(abs(m.precision(0) - 1.0 / 3) < 1e-12 && abs(m.recall(1) - 2.0 / 3) < 1e-12)
    let f1 = [0.5, 0.8, 2.0 / 3]
    #expect(abs(m.macroF1 - f1.reduce(0, +) / 3) < 1e-12)
    #expect(m.table(labelNames: ["neg", "pos", "mixed"]).contains("confusion"))
  }
}

struct ClassificationTaskTests {
  /// Token sequences (ids 1…9, lengths 3…10) labelled 1 when they contain token 7.
  static func containsSeven(count: Int, seed: UInt64) throws -> ClassificationDataset {
    var g = RandomGenerator(seed: seed)
    var sequences: [[Int]] = [], labels: [Int] = []
    for i in 0..<count {
      let n = 3 + Int(g.next() % 8)
      var s = (0..<n).map { _ in 1 + Int(g.next() % 8) }.map { $0 >= 7 ? $0 + 1 : $0 }   // no 7 yet
      if i % 2 == 0 { s[Int(g.next() % UInt64(n))] = 7 }
      sequences.append(s)
      labels.append(i % 2 == 0 ? 1 : 0)
    }
    return try ClassificationDataset(sequences: .tokens(sequences), labels: labels)
  }

  static func task(pooling: SequencePooling = .max, seed: UInt64 = 1) throws -> ClassificationTask {
    let config = SequenceClassifier.Configuration(vocabularySize: 10, embeddingSize: 8, cell: .gru, hiddenSize: 16, numLayers: 1,
                                                  bidirectional: true, dropout: 0.1, pooling: pooling, attentionSize: 8, headSize: 16,
                                                  classCount: 2)
    return try ClassificationTask(model: SequenceClassifier(config, seed: seed), train: containsSeven(count: 400, seed: 11),
                                  validation: containsSeven(count: 200, seed: 12), batchSize: 32,
                                  metadata: ClassificationMetadata(labelNames: ["no", "yes"]), shuffleSeed: seed)
  }

  static func options(steps: Int) -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-2))
    o.steps = steps
    o.gradClip = 5
    o.evalEvery = 50
    o.seed = 4
    return o
  }

  @Test(arguments: [SequencePooling.max, .attention])
  func learnsWhetherASequenceContainsAToken(pooling: SequencePooling) throws {
    let trainer = try Trainer(task: Self.task(pooling: pooling), options: Self.options(steps: 150))
    try trainer.run()
    let evaluation = try #require(try trainer.task.evaluate())
    #expect(try #require(evaluation.metrics["accuracy"]) >= 0.95, "\(evaluation)")
    #expect(try #require(evaluation.metrics["macro_f1"]) >= 0.95)
  }

  @Test func learnsTheSignOfAFrameSum() throws {
    var g = RandomGenerator(seed: 2)
    func data(_ count: Int) throws -> ClassificationDataset {
      let rows = (0..<count).map { _ in (0..<(2 * (2 + Int(g.next() % 6)))).map { _ in Float.random(in: -1...1, using: &g) } }
      return try ClassificationDataset(sequences: .frames(rows, featureCount: 2), labels: rows.map { $0.reduce(0, +) > 0 ? 1 : 0 })
    }
    let config = SequenceClassifier.Configuration(featureCount: 2, cell: .gru, hiddenSize: 16, bidirectional: false, dropout: 0,
                                                  pooling: .mean, headSize: 16, classCount: 2)
    let task = try ClassificationTask(model: SequenceClassifier(config, seed: 3), train: data(600), validation: data(200), batchSize: 32,
                                      metadata: ClassificationMetadata(labelNames: ["-", "+"]), shuffleSeed: 3)
    let trainer = try Trainer(task: task, options: Self.options(steps: 250))
    try trainer.run()
    #expect(try #require(try task.evaluate()?.metrics["accuracy"]) >= 0.95)
  }

  @Test func resumeIsBitIdentical() throws {
    let straight = try Trainer(task: Self.task(), options: Self.options(steps: 30))
    try straight.run()
    let first = try Trainer(task: Self.task(), options: Self.options(steps: 30))
    first.stopRequested = { first.step == 17 }
    #expect(try first.run() == .stopped)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-cls-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try first.archive().write(to: url)
    let archive = try ModelArchive.read(from: url)
    let fresh = try Self.task(seed: 99)   // other weights and shuffle: both must come from the archive
    let resumed = try Trainer(resuming: archive, task: ClassificationTask(archive: archive, train: fresh.train, validation: fresh.validation))
    #expect(resumed.step == 17)
    #expect(try resumed.run() == .finished)
    try LanguageModelTrainerTests.expectSameBits(straight, resumed)
    let (model, saved) = try ClassificationTask.loadModel(from: archive)
    #expect(saved.metadata.labelNames == ["no", "yes"] && model.configuration.pooling == .max)
  }
}
