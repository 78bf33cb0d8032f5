import Foundation
import Testing
@testable import Recur

/// The tagger, its task and metrics: a toy problem learned fast, padding invariance, exact resume.
@Suite struct TaggingTaskTests {
  /// A toy language: determiners (DET) then adjectives (ADJ) then nouns (NOUN) then verbs (VERB);
  /// "run" is a NOUN after a determiner and a VERB after a noun, so context matters.
  static func sentences(count: Int, seed: UInt64) -> [[(token: String, tag: String)]] {
    var g = RandomGenerator(seed: seed)
    let dets = ["the", "a"], adjs = ["big", "red", "old"], nouns = ["cat", "dog", "run", "fox"], verbs = ["sat", "ran", "run"]
    func pick(_ words: [String]) -> String { words[Int(g.next() % UInt64(words.count))] }
    return (0..<count).map { _ in
      var s: [(token: String, tag: String)] = [(pick(dets), "DET")]
      for _ in 0..<Int(g.next() % 3) { s.append((pick(adjs), "ADJ")) }
      s.append((pick(nouns), "NOUN"))
      if g.next() % 2 == 0 { s.append((pick(verbs), "VERB")) }
      return s
    }
  }

  static func task(crf: Bool, seed: UInt64 = 3) throws -> TaggingTask {
    let train = sentences(count: 64, seed: 1), validation = sentences(count: 16, seed: 2)
    let vocabulary = TaggingVocabulary(sentences: train)
    var c = SequenceTagger.Configuration(wordVocabularySize: vocabulary.words.count, characterVocabularySize: vocabulary.characters.count,
                                         tagCount: vocabulary.tags.count)
    (c.wordEmbeddingSize, c.characterEmbeddingSize, c.characterHiddenSize, c.hiddenSize, c.crf) = (16, 8, 8, 16, crf)
    func encode(_ s: [[(token: String, tag: String)]]) throws -> [TaggingExample] {
      try s.map { try vocabulary.encode($0.map(\.token), tags: $0.map(\.tag)) }
    }
    return try TaggingTask(model: SequenceTagger(c, seed: seed), vocabulary: vocabulary, train: encode(train),
                           validation: encode(validation), batchSize: 8, seed: seed)
  }

  static func options(steps: Int) -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 2e-2))
    o.steps = steps
    o.evalEvery = 10
    o.seed = 5
    return o
  }

  @Test(arguments: [false, true])
  func learnsAToyProblem(crf: Bool) throws {
    let trainer = try Trainer(task: Self.task(crf: crf), options: Self.options(steps: 80))
    #expect(try trainer.run() == .finished)
    let evaluation = try #require(try trainer.evaluate())
    #expect(evaluation.metrics["accuracy"]! > 0.97, "\(evaluation)")
    let metrics = try TaggingMetrics(model: trainer.task.model, sentences: trainer.task.validation, tagCount: 4)
    #expect(metrics.accuracy == evaluation.metrics["accuracy"])
    #expect(metrics.perTag.allSatisfy { $0.f1 > 0.9 }, "\(metrics.perTag)")
  }

  @Test(arguments: [false, true])
  func paddingChangesNothing(crf: Bool) throws {
    let task = try Self.task(crf: crf)
    let batch = Array(task.validation.prefix(6))
    let together = try task.model.predict(batch)
    var context = ForwardContext.inference
    let (logits, _) = try task.model(batch, context: &context)
    for (b, sentence) in batch.enumerated() {
      #expect(try task.model.predict([sentence]) == [together[b]])
      let (alone, _) = try task.model([sentence], context: &context)
      for t in 0..<sentence.words.count {
        for k in 0..<4 { #expect(abs(alone[t, 0, k] - logits[t, b, k]) < 1e-5, "logit \(t), \(k) of sentence \(b)") }
      }
      var single = ForwardContext.inference, padded = ForwardContext.inference
      let lossAlone = try task.model.loss([sentence], context: &single).loss.item
      let longest = try #require(batch.max { $0.words.count < $1.words.count })
      let lossPadded = try task.model.loss([sentence, longest], context: &padded).loss.item
      let lossLongest = try task.model.loss([longest], context: &single).loss.item
      let tokens = Float(sentence.words.count + longest.words.count)
      let expected = (lossAlone * Float(sentence.words.count) + lossLongest * Float(longest.words.count)) / tokens
      #expect(abs(lossPadded - expected) < 1e-4, "loss of sentence \(b) in a padded batch")
    }
  }

  @Test func parametersAreNamedAsPyTorch() throws {
    let names = try Self.task(crf: true).model.namedParameters().map(\.name)
    for name in ["word_embedding.weight", "char_embedding.weight", "char_rnn.weight_ih_l0_reverse", "rnn.weight_hh_l0",
                 "classifier.weight", "classifier.bias", "crf.transitions", "crf.start_transitions"] {
      #expect(names.contains(name), "\(name)")
    }
  }

  @Test func resumeIsBitIdentical() throws {
    let straight = try Trainer(task: Self.task(crf: true), options: Self.options(steps: 20))
    try straight.run()
    let first = try Trainer(task: Self.task(crf: true), options: Self.options(steps: 20))
    first.stopRequested = { first.step == 11 }
    #expect(try first.run() == .stopped)
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-tag-\(UUID().uuidString).safetensors")
    defer { try? FileManager.default.removeItem(at: url) }
    try first.archive().write(to: url)
    let archive = try ModelArchive.read(from: url)
    let resumed = try Trainer(resuming: archive, task: TaggingTask(archive: archive, train: first.task.train, validation: first.task.validation))
    #expect(resumed.step == 11)
    #expect(try resumed.run() == .finished)
    try LanguageModelTrainerTests.expectSameBits(straight, resumed)
  }

  @Test func singletonsAreReadAsUnknownInTrainingOnly() throws {
    let vocabulary = TaggingVocabulary(sentences: [[("a", "X"), ("b", "Y"), ("a", "X")], [("c", "Y"), ("a", "X")]])
    let encoded = try [["a", "b", "a"], ["c", "a"]].map { try vocabulary.encode($0, tags: []) }
    var c = SequenceTagger.Configuration(wordVocabularySize: vocabulary.words.count, characterVocabularySize: vocabulary.characters.count,
                                         tagCount: 2)
    (c.wordEmbeddingSize, c.characterEmbeddingSize, c.characterHiddenSize, c.hiddenSize, c.dropout, c.unknownWordRate) = (4, 2, 2, 4, 0, 0)
    let tagged = try [["a", "b", "a"], ["c", "a"]].enumerated().map { i, words in
      try vocabulary.encode(words, tags: i == 0 ? ["X", "Y", "X"] : ["Y", "X"])
    }
    let task = try TaggingTask(model: SequenceTagger(c, seed: 1), vocabulary: vocabulary, train: tagged, validation: [], batchSize: 2, seed: 1)
    #expect(task.singletons == [encoded[0].words[1], encoded[1].words[0]], "b and c occur once, a three times")
    // The replacement changes the training loss (b and c become <unk>) and nothing else: without
    // it, the same stream gives the plain loss.
    func loss(rate: Float?) throws -> Float {
      c.singletonUnknownRate = rate
      let t = try TaggingTask(model: SequenceTagger(c, seed: 1), vocabulary: vocabulary, train: tagged, validation: [], batchSize: 2, seed: 1)
      var context = ForwardContext(training: true, generator: RandomGenerator(seed: 9))
      return try t.trainingLoss(context: &context).loss.item
    }
    var plain = ForwardContext.inference
    let unchanged = try SequenceTagger(c, seed: 1).loss(tagged, context: &plain).loss.item
    #expect(try loss(rate: nil) == unchanged)
    let allUnknown = tagged.map { e in var e = e; e.words = e.words.map { task.singletons.contains($0) ? 1 : $0 }; return e }
    let replaced = try SequenceTagger(c, seed: 1).loss(allUnknown, context: &plain).loss.item
    #expect(try loss(rate: 0.999_999) == replaced)
    #expect(replaced != unchanged)
  }

  @Test func metricsCountUnseenWordsAndPerTagScores() {
    let sentences = [TaggingExample(words: [2, 1, 3], characters: [[2], [3], [4]], tags: [0, 1, 1])]
    let m = TaggingMetrics(sentences: sentences, predicted: [[0, 0, 1]], tagCount: 2)
    #expect(m.tokens == 3 && abs(m.accuracy - 2.0 / 3) < 1e-12)
    #expect(m.unseenTokens == 1 && m.unseenAccuracy == 0)
    #expect(m.perTag[0].precision == 0.5 && m.perTag[0].recall == 1)
    #expect(m.perTag[1].precision == 1 && m.perTag[1].recall == 0.5)
  }

  @Test func unknownTagsAreReported() {
    let vocabulary = TaggingVocabulary(sentences: [[("a", "X")]])
    #expect(throws: TaggingDataError.unknownTag("Y", sentence: 4)) { try vocabulary.encode(["a"], tags: ["Y"], sentence: 4) }
    #expect(vocabulary.wordID("zzz") == 1 && vocabulary.wordID("a") == 2)
  }
}
