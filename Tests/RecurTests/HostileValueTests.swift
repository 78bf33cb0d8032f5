import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// The library's root-cause checks for values from outside (issue 18), one by one.
@Suite struct HostileValueTests {
  @Test func elementCountRefusesOverflowEvenBehindAZeroExtent() {
    #expect(checkedElementCount([2, 3, 4]) == 24)
    #expect(checkedElementCount([]) == 1)
    #expect(checkedElementCount([0, 5]) == 0)
    #expect(checkedElementCount([3, -1]) == nil)
    #expect(checkedElementCount([0, 1 << 40, 1 << 40]) == nil, "strides of this shape overflow")
    #expect(checkedElementCount([Int.max / 8 + 1]) == nil, "its byte count would overflow")
  }

  @Test func sizeTallyReportsOverflow() {
    var t = SizeTally()
    t.add(1 << 29, 1 << 29)
    #expect(t.total == 1 << 58)
    t.add(Int.max / 8, 2)
    #expect(t.total == nil)
    #expect(RecurrentLayer.parameterCount(.lstm, inputSize: 4, hiddenSize: 1 << 62).total == nil)
    let lstm = LSTM(inputSize: 5, hiddenSize: 7, numLayers: 3, bidirectional: true, projSize: 3, seed: 1)
    let counted = RecurrentLayer.parameterCount(.lstm, inputSize: 5, hiddenSize: 7, numLayers: 3, bidirectional: true, projSize: 3)
    #expect(counted.total == lstm.parameters.reduce(0) { $0 + $1.value.count })
  }

  @Test func modelsTooLargeForMemoryAreRefusedBeforeAllocation() throws {
    #expect(throws: TrainingError.self) { try CharLM(.init(vocabularySize: 10, hiddenSize: 1 << 31, numLayers: 1), seed: 1) }
    #expect(throws: TrainingError.self) { try CharLM(.init(vocabularySize: 10, hiddenSize: 8, numLayers: 1 << 40), seed: 1) }
  }

  @Test func archiveConfigurationMustFitTheStoredTensors() throws {
    let config = CharLM.Configuration(vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, numLayers: 1, dropout: 0)
    let model = try CharLM(config, seed: 1)
    var archive = ModelArchive(task: "t", configuration: "{}")
    archive.add(model.stateDict())
    try archive.requireStoredParameters(config.parameterCount)
    var bigger = config
    bigger.hiddenSize = 1 << 40
    #expect(throws: IOError.self) { try archive.requireStoredParameters(bigger.parameterCount) }
  }

  @Test func scalingOfValuesNear1e308StaysFinite() throws {
    let values: [Double] = (0..<50).map { (i: Int) -> Double in
      let sign: Double = i % 2 == 0 ? 1 : -1
      return sign * (1.7e308 - Double(i) * 1e306)
    }
    let data = DoubleMatrix(column: values)
    for method in Scaler.Method.allCases {
      let scaler = try Scaler(fitting: data, rows: 0..<50, method: method)
      let scaled = scaler.transform(data)
      #expect(scaled.isFinite, "\(method)")
      let back = scaler.inverseTransform(scaled)
      let worst = zip(back.storage, values).map { abs($0 - $1) / abs($1) }.max()!
      #expect(worst <= 1e-9, "\(method) round trip: relative error \(worst), back \(back.storage.prefix(3)) scaled \(scaled.storage.prefix(3)) \(scaler)")
    }
    #expect(ForecastMetrics.rmse(actual: [1.7e308, -1.7e308], predicted: [1.6e308, -1.6e308]).isFinite)
  }

  @Test func storedScalersAreChecked() {
    for (shift, factor) in [([Double.nan], [1.0]), ([0.0], [0.0]), ([0.0], [Double.infinity]), ([0.0, 1.0], [1.0])] {
      let json = "{\"method\":\"zscore\",\"shift\":\(shift.map { $0.isNaN ? "0" : "\($0)" }),\"factor\":\(factor.map { $0.isFinite ? "\($0)" : "1e999" }),\"base\":[0]}"
      let bad = shift.contains(where: \.isNaN)
      if bad {
        #expect(throws: TimeSeriesError.self) { try Scaler(method: .zScore, shift: shift, factor: factor, base: [0]) }
      } else {
        #expect(throws: (any Error).self) { try JSONDecoder().decode(Scaler.self, from: Data(json.utf8)) }
      }
    }
  }

  @Test func nonFiniteWeightsAreRefusedOnLoadAndArchivesOnWrite() throws {
    let layer = GRU(inputSize: 2, hiddenSize: 3, seed: 1)
    var weights = Dictionary(uniqueKeysWithValues: layer.stateDict().map { ($0.name, $0.tensor) })
    weights["weight_hh_l0"]![0, 0] = .nan
    #expect(throws: StateDictError.self) { try layer.loadStateDict(weights) }
    var archive = ModelArchive(task: "t", configuration: "{}")
    archive.add([("w", Tensor([1, .infinity]))])
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    #expect(throws: IOError.self) { try archive.write(to: dir.appendingPathComponent("a.safetensors")) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
    #expect(throws: IOError.self) { try ModelArchive(file: archive.safeTensorsFile()) }
  }

  @Test func canonicallyEquivalentNamesAreNeverMergedIntoOneStateDictEntry() throws {
    var file = SafeTensorsFile()
    file["w\u{E9}"] = SafeTensorsFile.Entry(Tensor([1]))
    file["we\u{301}"] = SafeTensorsFile.Entry(Tensor([2]))
    let read = try SafeTensorsFile(bytes: file.serialized())
    #expect(read.count == 2)
    #expect(throws: IOError.self) { try read.stateDict }
    var archive = ModelArchive(task: "t", configuration: "{}")
    archive.file = read
    #expect(throws: IOError.self) { try archive.stateDict }
  }

  @Test func aSetOfOutputsAppearsTogetherOrNotAtAll() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    try FileManager.default.createDirectory(at: dir.appendingPathComponent("b.txt"), withIntermediateDirectories: false)
    var set = AtomicFileSet()
    try set.add([1, 2], to: dir.appendingPathComponent("a.txt"))
    #expect(throws: IOError.self) { try set.add([3], to: dir.appendingPathComponent("b.txt")) }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path) == ["b.txt"], "no file and no temporary left")
    var good = AtomicFileSet()
    try good.add([1], to: dir.appendingPathComponent("a.txt"))
    try good.add([2], to: dir.appendingPathComponent("c.txt"))
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("a.txt").path), "nothing in place before commit")
    try good.commit()
    #expect(try Data(contentsOf: dir.appendingPathComponent("c.txt")) == Data([2]))
  }

  @Test func staleTemporariesOfDeadProcessesAreRemoved() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    // PID 2^22 + 1 is above Linux's pid_max: no such process.
    let stale = dir.appendingPathComponent(".x.bin.tmp-4194305-abc"), live = dir.appendingPathComponent(".x.bin.tmp-\(getpid())-abc")
    try Data([0]).write(to: stale)
    try Data([0]).write(to: live)
    try AtomicFile.write([1], to: dir.appendingPathComponent("x.bin"))
    #expect(!FileManager.default.fileExists(atPath: stale.path))
    #expect(FileManager.default.fileExists(atPath: live.path), "a live writer's temporary is left alone")
  }

  @Test func trainingBudgetsHaveUpperBounds() {
    var options = TrainerOptions(optimizer: OptimizerSettings(learningRate: 1e-3))
    options.steps = 1 << 62
    #expect(throws: TrainingError.self) { try options.validate() }
    options.steps = nil
    options.epochs = 1e300
    #expect(throws: TrainingError.self) { try options.validate() }
    options.epochs = nil
    options.timeLimit = Double(1 << 62)
    #expect(throws: TrainingError.self) { try options.validate() }
  }
}
