import Foundation
import Testing
@testable import Recur

/// A small CTC problem with a known answer: each label of "abc" sounds as 2–4 noisy frames of its
/// own pattern, with 0–2 frames of silence around; label strings of 1–4 characters.
enum SyntheticCTC {
  static let featureCount = 4

  static func items(_ count: Int, seed: UInt64, split: DataSplit? = nil, alphabet: String = "abc") -> [TranscribedSequence] {
    var g = RandomGenerator(seed: seed)
    let letters = Array(alphabet)
    return (0..<count).map { i in
      let labels = (0..<(1 + Int(g.next() % 4))).map { _ in letters[Int(g.next() % UInt64(letters.count))] }
      var values: [Float] = []
      func frame(_ hot: Int) { for k in 0..<featureCount { values.append((k == hot ? 2 : 0) + 0.4 * (g.nextUniform() - 0.5)) } }
      for c in labels {
        for _ in 0..<Int(g.next() % 3) { frame(featureCount - 1) }
        for _ in 0..<(2 + Int(g.next() % 3)) { frame(letters.firstIndex(of: c)! % (featureCount - 1)) }
      }
      frame(featureCount - 1)
      return TranscribedSequence(id: "s\(i)", steps: values.count / featureCount, values: values, transcript: String(labels),
                                 split: split, line: i + 2)
    }
  }

  /// The items as the two CSV files `recur ctc` reads: frames (`id, frame, c0…`) and labels (`id, label, split`).
  static func csv(_ items: [TranscribedSequence]) -> (frames: String, labels: String) {
    var frames = "id,frame," + (0..<featureCount).map { "c\($0)" }.joined(separator: ",") + "\n"
    var labels = "id,label,split\n"
    for item in items {
      for t in 0..<item.steps {
        frames += "\(item.id),\(t)," + item.values[(t * featureCount)..<((t + 1) * featureCount)].map { "\($0)" }.joined(separator: ",") + "\n"
      }
      labels += "\(item.id),\(item.transcript),\(item.split?.rawValue ?? "train")\n"
    }
    return (frames, labels)
  }
}

@Suite("CTC task")
struct CTCTaskTests {
  static func datasets(frameStack: Int = 1) throws -> (train: CTCDataset, validation: CTCDataset, metadata: CTCMetadata) {
    let train = SyntheticCTC.items(320, seed: 1, split: .train), validation = SyntheticCTC.items(80, seed: 2, split: .validation)
    let numeric = NumericSequenceSet(items: train.map { NumericSequence(id: $0.id, steps: $0.steps, values: $0.values, label: 0, split: .train, line: $0.line) },
                                     featureCount: SyntheticCTC.featureCount, labels: LabelSet([]))
    let metadata = CTCMetadata(alphabet: CTCAlphabet(transcripts: train.map(\.transcript)),
                               input: try CTCInput(standardizer: FeatureStandardizer(fitting: numeric), frameStack: frameStack))
    func dataset(_ items: [TranscribedSequence]) throws -> CTCDataset {
      try CTCDataset(items, featureCount: SyntheticCTC.featureCount, input: metadata.input, alphabet: metadata.alphabet, source: "synthetic")
    }
    return (try dataset(train), try dataset(validation), metadata)
  }

  @Test func learnsASyntheticProblemToALowLabelErrorRate() throws {
    let (train, validation, metadata) = try Self.datasets()
    #expect(metadata.alphabet.characters == ["a", "b", "c"])
    let model = try CTCModel(.init(inputSize: SyntheticCTC.featureCount, cell: .gru, hiddenSize: 24, numLayers: 1, dropout: 0,
                                   classCount: metadata.alphabet.classCount), seed: 3)
    let task = try CTCTask(model: model, train: train, validation: validation, batchSize: 16, metadata: metadata, shuffleSeed: 4)
    let (before, _) = try CTCTask.evaluate(model, on: validation)
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 0.02))
    options.steps = 200
    options.gradClip = 5
    options.evalEvery = 100
    try Trainer(task: task, options: options).run()
    let (loss, metrics) = try CTCTask.evaluate(model, on: validation)
    #expect(loss < before / 5, "loss \(before) → \(loss)")
    #expect(metrics.labelErrorRate <= 0.05, "greedy LER \(metrics.labelErrorRate), sequence accuracy \(metrics.sequenceAccuracy)")
    // Beam search sums every alignment of a prefix; on a well-trained model it is no worse.
    var beam = CTCMetrics()
    for (lp, target) in zip(try model.logProbabilities(validation), validation.targets) {
      beam.add(decoded: CTCDecoder.beamSearch(lp, beamWidth: 8).first!.labels, reference: target)
    }
    #expect(beam.labelErrorRate <= metrics.labelErrorRate + 1e-9, "beam \(beam.labelErrorRate) greedy \(metrics.labelErrorRate)")
  }

  @Test func frameStackingConcatenatesNeighboursAndPadsTheLastStep() throws {
    let input = try CTCInput(standardizer: FeatureStandardizer(mean: [0, 0], std: [1, 2]), frameStack: 2)
    #expect(input.stepWidth == 4 && input.steps(frames: 3) == 2)
    #expect(input.transform([1, 2, 3, 4, 5, 6]) == [1, 1, 3, 2, 5, 3, 0, 0])
    #expect(throws: DataError.self) { try CTCInput(standardizer: FeatureStandardizer(mean: [0], std: [1]), frameStack: 0) }
    // An archived description is checked the same way when it is decoded.
    let stored = try JSONEncoder().encode(input)
    #expect(try JSONDecoder().decode(CTCInput.self, from: stored) == input)
    for frameStack in ["-1", "0", "1025"] {
      let damaged = Data(String(decoding: stored, as: UTF8.self).replacingOccurrences(of: "\"frameStack\":2", with: "\"frameStack\":\(frameStack)").utf8)
      #expect(damaged != stored)
      #expect(throws: (any Error).self) { try JSONDecoder().decode(CTCInput.self, from: damaged) }
    }
  }

  @Test func alphabetEncodesTrainingCharactersAndNamesTheRowOfAnUnknownOne() throws {
    let alphabet = CTCAlphabet(transcripts: ["4071", "19"])
    #expect(alphabet.characters == ["0", "1", "4", "7", "9"] && alphabet.classCount == 6)
    #expect(try alphabet.encode("9104", source: "l.csv", line: 3, column: "label") == [5, 2, 1, 3])
    #expect(alphabet.decode([5, 0, 2]) == "91")
    let error = dataError { _ = try alphabet.encode("19x", source: "l.csv", line: 7, column: "label") }
    #expect(error?.description.contains("l.csv line 7, column 'label'") == true && error?.description.contains("'x'") == true, "\(String(describing: error))")
  }

  @Test func aSequenceTooShortForItsLabelsIsADataError() throws {
    let (_, _, metadata) = try Self.datasets()
    let item = TranscribedSequence(id: "short", steps: 2, values: [Float](repeating: 0, count: 8), transcript: "aa", split: .train, line: 9)
    let data = try CTCDataset([item], featureCount: SyntheticCTC.featureCount, input: metadata.input, alphabet: metadata.alphabet, source: "l.csv")
    #expect(data.firstUnalignable() == 0)   // "aa" needs a blank between the two a's: 3 steps
    let model = try CTCModel(.init(inputSize: SyntheticCTC.featureCount, hiddenSize: 4, numLayers: 1, classCount: 4), seed: 1)
    let error = dataError { _ = try CTCTask(model: model, train: data, validation: data, batchSize: 4, metadata: metadata, shuffleSeed: 1) }
    #expect(error?.description.contains("l.csv line 9") == true && error?.description.contains("'short' has 2 steps") == true, "\(String(describing: error))")
  }

  @Test func aResumedRunIsBitIdentical() throws {
    let (train, validation, metadata) = try Self.datasets(frameStack: 2)
    func task() throws -> CTCTask {
      let model = try CTCModel(.init(inputSize: metadata.input.stepWidth, cell: .lstm, hiddenSize: 8, numLayers: 2, dropout: 0.2,
                                     classCount: metadata.alphabet.classCount), seed: 5)
      return try CTCTask(model: model, train: train, validation: validation, batchSize: 16, metadata: metadata, shuffleSeed: 6)
    }
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("recur-ctc-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    var options = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 0.01))
    options.steps = 30
    options.evalEvery = 15
    let straight = try Trainer(task: task(), options: options)
    try straight.run()
    // Stop after 15 steps (the evaluation at 15 writes last.safetensors), then resume.
    let first = try Trainer(task: task(), options: options, outputDirectory: directory)
    first.stopRequested = { first.step >= 15 }
    #expect(try first.run() == .stopped)
    let archive = try ModelArchive.read(from: directory.appendingPathComponent(TrainingOutputFile.last))
    let resumed = try Trainer(resuming: archive, task: CTCTask(archive: archive, train: train, validation: validation))
    try resumed.run()
    for ((name, a), (_, b)) in zip(straight.task.model.stateDict(), resumed.task.model.stateDict()) {
      #expect(a.scalars == b.scalars, "\(name) differs after resume")
    }
  }
}
