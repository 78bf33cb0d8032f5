import Foundation
import Recur

/// Checkpoints (model archives of every task) and time-series CSV for the fuzzer: seeds built in
/// process, configuration-aware mutations, and the task loaders as the parsers under test.
extension _IOFuzzer {
  /// Small valid archives: a language-model checkpoint with its training state, ESN and LSTM
  /// forecasters, a classifier.
  public static func checkpointSeeds() -> [Seed] {
    var seeds: [Seed] = []
    func add(_ name: String, _ archive: () throws -> ModelArchive) {
      guard let a = try? archive() else { preconditionFailure("fuzz seed \(name) could not be built") }
      seeds.append(Seed(name: name, format: .checkpoint, bytes: a.safeTensorsFile().serialized()))
    }
    add("lm.ckpt") {
      var settings = LanguageModelTask.DataSettings()
      settings.seqLength = 8
      settings.batchSize = 2
      let corpus = TextCorpus(text: String(repeating: "a small text for a small model. ", count: 8))
      let task = try LanguageModelTask(corpus: corpus, model: .init(cell: .lstm, vocabularySize: 0, embeddingSize: 4, hiddenSize: 6, numLayers: 1,
                                                                    dropout: 0), settings: settings, seed: 1)
      var options = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: 1e-2))
      options.steps = 2
      return try Trainer(task: task, options: options).archive()
    }
    let series = DoubleMatrix(column: (0..<80).map { sin(Double($0) / 4) })
    func forecaster<M: Forecaster>(_ model: M) throws -> ModelArchive {
      var m = model
      let split = try ForecastSplit(count: series.rows, lookback: m.lookback, horizon: m.horizon, testFraction: 0.2)
      let evaluation = try ForecastEvaluation.run(model: &m, series: series, columnNames: ["x"], split: split, scaling: .zScore, season: nil)
      return try ForecastCheckpoint(model: m, columns: ["x"], scaler: evaluation.scaler).archive()
    }
    add("esn.ckpt") {
      var c = ESNForecaster.Configuration()
      c.units = 12
      return try forecaster(ESNForecaster(configuration: c, lookback: 6, horizon: 2))
    }
    add("lstm-forecast.ckpt") {
      var c = RecurrentForecaster.Configuration(cell: .lstm)
      c.hiddenSize = 4
      c.epochs = 1
      return try forecaster(RecurrentForecaster(configuration: c, lookback: 6, horizon: 1))
    }
    add("classifier.ckpt") {
      let config = SequenceClassifier.Configuration(vocabularySize: 5, embeddingSize: 3, hiddenSize: 4, pooling: .attention, attentionSize: 3,
                                                    headSize: 3, classCount: 2)
      let model = try SequenceClassifier(config, seed: 1)
      var archive = ModelArchive(task: ClassificationTask.name, configuration: try ModelArchive.json(
        ClassificationArchive(model: config, batchSize: 2, shuffleSeed: 1, metadata: ClassificationMetadata(labelNames: ["neg", "pos"]))))
      archive.add(model.stateDict())
      return archive
    }
    return seeds
  }

  /// Valid time-series CSV files (column `x`, and a second column).
  public static func seriesSeeds() -> [Seed] {
    let rows = (0..<60).map { i in "\(i),\(sin(Double(i) / 3)),\(Double(i % 7) - 3.5)" }.joined(separator: "\n")
    return [Seed(name: "series.csv", format: .seriesCSV, bytes: Array(("t,x,y\n" + rows + "\n").utf8))]
  }

  /// Values a configuration number is replaced with.
  static let hostileNumbers = ["0", "-1", "1", "4611686018427387904", "9223372036854775807", "1e300", "-1e300", "NaN", "\"x\"", "null",
                               "[]", "{}", "2147483648", "0.5", "1e-320"]

  /// Replaces one number in one JSON metadata value of a checkpoint with a hostile one.
  static func mutateCheckpointMetadata(_ bytes: inout [UInt8], rng: inout RandomGenerator) -> String? {
    guard var file = try? SafeTensorsFile(bytes: bytes) else { return nil }
    let keys = file.metadata.keys.sorted().filter { file.metadata[$0]!.contains(where: \.isNumber) }
    guard !keys.isEmpty else { return nil }
    let key = keys[Int(rng.next() % UInt64(keys.count))]
    var text = Array(file.metadata[key]!.utf8)
    // The spans of number tokens.
    var spans: [Range<Int>] = []
    var i = 0
    while i < text.count {
      if (text[i] >= 0x30 && text[i] <= 0x39) || text[i] == UInt8(ascii: "-") {
        let start = i
        while i < text.count, "0123456789.eE+-".utf8.contains(text[i]) { i += 1 }
        spans.append(start..<i)
      } else {
        i += 1
      }
    }
    guard !spans.isEmpty else { return nil }
    let span = spans[Int(rng.next() % UInt64(spans.count))]
    let value = hostileNumbers[Int(rng.next() % UInt64(hostileNumbers.count))]
    text.replaceSubrange(span, with: Array(value.utf8))
    file.metadata[key] = String(decoding: text, as: UTF8.self)
    bytes = file.serialized()
    return "\(key) number → \(value)"
  }

  /// Loads a (damaged) checkpoint the way the commands do and uses the model once; returns a
  /// broken invariant, or nil. Errors propagate: every one must be one of the library's typed errors.
  static func checkpointProblem(_ bytes: [UInt8]) throws -> String? {
    let archive = try ModelArchive(file: SafeTensorsFile(bytes: bytes))
    switch archive.task {
    case LanguageModelTask.name:
      let (model, vocabulary, _) = try LanguageModelTask.loadModel(from: archive)
      var sampler = Sampler(temperature: 1, seed: 1)
      let ids = try model.generate(prompt: [0], length: 3, sampler: &sampler)
      if ids.contains(where: { $0 < 0 || $0 >= vocabulary.count }) { return "sampled an id outside the vocabulary" }
    case ForecastCheckpoint.task:
      let checkpoint = try ForecastCheckpoint(archive: archive)
      // As `recur forecast --predict`: a series at least `lookback` rows long (a small one here).
      guard checkpoint.lookback <= 4_096, checkpoint.columns.count <= 64 else { return nil }
      let series = DoubleMatrix(rows: checkpoint.lookback + 2, columns: checkpoint.columns.count, repeating: 0.5)
      let forecast: DoubleMatrix
      switch checkpoint.kind {
      case ESNForecaster.kind: forecast = try checkpoint.model(as: ESNForecaster.self).forecastBeyondEnd(series: series, steps: 2)
      default: forecast = try checkpoint.model(as: RecurrentForecaster.self).forecastBeyondEnd(series: series, steps: 2)
      }
      if !forecast.isFinite { return "a loaded forecaster forecasts non-finite values" }
    case ClassificationTask.name:
      let (model, saved) = try ClassificationTask.loadModel(from: archive)
      if saved.metadata.labelNames.count != model.configuration.classCount { return "class names and class count differ" }
    default:
      break
    }
    return nil
  }

  /// Parses a time-series CSV and scales it as `recur forecast` does; returns a broken invariant, or nil.
  static func seriesProblem(_ bytes: [UInt8]) throws -> String? {
    let table = try TimeSeriesCSV.parse(String(decoding: bytes, as: UTF8.self), columns: ["x"], missing: .interpolate)
    guard table.values.rows >= 2 else { return nil }
    if !table.values.isFinite { return "a parsed series holds a non-finite value" }
    for method in Scaler.Method.allCases {
      guard let scaler = try? Scaler(fitting: table.values, rows: 0..<table.values.rows, method: method) else { continue }
      if !scaler.transform(table.values).isFinite { return "\(method) scaling of finite values is not finite" }
    }
    return nil
  }
}
