import ArgumentParser
import Foundation
import Recur

/// `recur classify`: sequence classification of texts (train, eval, predict).
struct ClassifyCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "classify",
    abstract: "Train and use recurrent sequence classifiers on labelled text (sentiment, topics…).",
    subcommands: [ClassifyTrainCommand.self, ClassifySeriesCommand.self, ClassifyEvalCommand.self, ClassifyPredictCommand.self]
  )

  /// The flags of every `classify` subcommand for the library's parameter names.
  static let flags = FlagNames.common.merging([
    "patience": "--patience", "testFraction": "--test-fraction", "validationFraction": "--val-fraction",
    "maximumLength": "--max-length", "minimumCount": "--min-count", "headSize": "--head-size", "attentionSize": "--attention-size",
  ])

  /// Defaults sized for short texts on two cores.
  enum Defaults: TrainingOptionDefaults {
    static let hiddenSize = 128
    static let numLayers = 1
    static let dropout: Float = 0.3
    static let batchSize = 32
    static let learningRate: Float = 2e-3
    static let gradClip: Float = 5
    static let dropoutPlacement = "between layers, on the pooled vector and in the head"
    static let batchMeaning = "sequences per step"
    static let learningRateMeaning = "learning rate"
  }
}

/// The pooling a `--pooling` value names (any case); one line naming the choices otherwise.
func parsePooling(_ name: String) throws -> SequencePooling {
  guard let pooling = SequencePooling(rawValue: name.lowercased()) else {
    throw CLIError("unknown --pooling \"\(name)\"; use last, mean, max or attention")
  }
  return pooling
}

/// `--text-column`, `--label-column`: which CSV columns hold the text and the label.
struct ClassifyColumns: ParsableArguments {
  @Option(name: .customLong("text-column"), help: "CSV column with the text (default text).") var textColumn = "text"
  @Option(name: .customLong("label-column"), help: "CSV column with the label (default label).") var labelColumn = "label"
}

/// The saved model of a classify checkpoint with its text input description.
func loadClassifier(_ path: String) throws -> (model: SequenceClassifier, saved: ClassificationArchive, input: TextClassificationInput) {
  try loadClassifier(try loadArchive(path))
}

/// The saved model of a classify archive with its text input description.
func loadClassifier(_ archive: ModelArchive) throws -> (model: SequenceClassifier, saved: ClassificationArchive, input: TextClassificationInput) {
  let (model, saved) = try ClassificationTask.loadModel(from: archive)
  let input = try JSONDecoder().decode(TextClassificationInput.self, from: Data(saved.metadata.input.utf8))
  return (model, saved, input)
}

/// The metrics as JSON: accuracy, macro-F1, per-class precision/recall/F1/support, the confusion matrix.
func metricsJSON(_ m: ClassificationMetrics, labelNames: [String], loss: Double?) throws -> String {
  struct PerClass: Encodable { var label: String, precision: Double, recall: Double, f1: Double, support: Int }
  struct Report: Encodable { var loss: Double?, accuracy: Double, macro_f1: Double, classes: [PerClass], confusion: [[Int]] }
  let classes = (0..<m.classCount).map { PerClass(label: labelNames[$0], precision: m.precision($0), recall: m.recall($0), f1: m.f1($0), support: m.support($0)) }
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
  return String(decoding: try encoder.encode(Report(loss: loss, accuracy: m.accuracy, macro_f1: m.macroF1, classes: classes, confusion: m.confusion)), as: UTF8.self)
}

/// `recur classify eval`: metrics of a saved classifier on a labelled CSV.
struct ClassifyEvalCommand: ParsableCommand {
  static let configuration = CommandConfiguration(commandName: "eval", abstract: "Accuracy, macro-F1, per-class scores and the confusion matrix of a classifier on a labelled CSV.")
  @Option(help: ArgumentHelp("A checkpoint written by recur classify train or series.", valueName: "checkpoint")) var checkpoint: String
  @Option(help: ArgumentHelp("Labelled data (text CSV, or series in --layout); with a split column, only its test rows are scored.", valueName: "file")) var data: String
  @OptionGroup var columns: ClassifyColumns
  @OptionGroup var series: SeriesDataOptions
  @Option(help: ArgumentHelp("Write the confusion matrix as SVG here.", valueName: "file")) var svg: String?
  @Flag(help: "Print the metrics as JSON.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: ClassifyCommand.flags) {
      try threads.apply()
      let archive = try loadArchive(checkpoint)
      let (model, names, dataset) = try isSeriesModel(archive) ? try seriesData(archive) : try textData(archive)
      let (loss, metrics) = try ClassificationTask.evaluate(model, on: dataset)
      if let svg { try ConfusionMatrixSVG(title: "Confusion matrix: \(URL(fileURLWithPath: data).lastPathComponent)", labelNames: names, metrics: metrics).write(to: URL(fileURLWithPath: svg)) }
      print(json ? try metricsJSON(metrics, labelNames: names, loss: loss) : String(format: "%d items, loss %.4f\n", dataset.count, loss) + metrics.table(labelNames: names))
    }
  }

  /// A text model and the rows of a labelled text CSV (its test rows when it has a split column).
  func textData(_ archive: ModelArchive) throws -> (SequenceClassifier, [String], ClassificationDataset) {
    guard !series.isGiven else { throw CLIError("\(checkpoint) holds a text classifier; --layout, --labels and --test are for series") }
    let (model, saved, input) = try loadClassifier(archive)
    let table = try LabeledTextTable.read(contentsOf: URL(fileURLWithPath: data), textColumn: columns.textColumn, labelColumn: columns.labelColumn)
    let rows = table.examples.contains { $0.split == .test } ? table.examples(in: .test) : table.examples
    let names = saved.metadata.labelNames
    return (model, names, try classificationDataset(rows, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn))
  }

  /// A series model and the sequences of `--data` (its test items when they are marked).
  func seriesData(_ archive: ModelArchive) throws -> (SequenceClassifier, [String], ClassificationDataset) {
    let (model, saved, standardizer) = try loadSeriesClassifier(archive, path: checkpoint)
    let names = saved.metadata.labelNames
    let set = try series.read(data, labelSet: LabelSet(names))
    let items = set.items.contains { $0.split == .test } ? set.items(in: .test) : set.items
    return (model, names, try seriesDataset(items, featureCount: set.featureCount, standardizer: standardizer, source: set.source))
  }
}

/// Whether a classify archive's model reads numeric frames (a series model) rather than tokens.
func isSeriesModel(_ archive: ModelArchive) throws -> Bool {
  guard archive.task == ClassificationTask.name else { return false }   // loading reports the wrong kind
  return try archive.decodeConfiguration(ClassificationArchive.self).model.vocabularySize == nil
}

/// `recur classify predict`: the label and class probabilities of new texts.
struct ClassifyPredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict", abstract: "Label new texts (one per line of a file or standard input, or a CSV column) or new series.",
    discussion: "A series model reads --input in --layout; the layout's label column must be there, but its values (e.g. ?) are not used.")
  @Option(help: ArgumentHelp("A checkpoint written by recur classify train or series.", valueName: "checkpoint")) var checkpoint: String
  @Option(help: ArgumentHelp("Text file, one text per line; - or absent: standard input.", valueName: "file")) var input: String?
  @Option(help: ArgumentHelp("A CSV whose --text-column is labelled instead.", valueName: "file")) var csv: String?
  @Option(name: .customLong("text-column"), help: "CSV column with the text (default text).") var textColumn = "text"
  @OptionGroup var series: SeriesDataOptions
  @Flag(help: "Print one JSON object per text.") var json = false
  @OptionGroup var threads: ThreadOptions

  func run() throws {
    try reportingErrors(flags: ClassifyCommand.flags) {
      try threads.apply()
      let archive = try loadArchive(checkpoint)
      if try isSeriesModel(archive) { return try predictSeries(archive) }
      guard !series.isGiven else { throw CLIError("\(checkpoint) holds a text classifier; --layout, --labels and --test are for series") }
      let (model, saved, textInput) = try loadClassifier(archive)
      let texts: [String]
      if let csv {
        texts = try TextClassificationInput.readTexts(contentsOf: URL(fileURLWithPath: csv), column: textColumn)
      } else {
        let content: String
        if let input, input != "-" {
          try checkReadableFile(input, what: "input")
          content = try String(contentsOfFile: input, encoding: .utf8)
        } else {
          content = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        }
        texts = content.split(separator: "\n", omittingEmptySubsequences: false).map(String.init).filter { !$0.trimmingCharacters(in: .whitespaces).isEmpty }
      }
      guard !texts.isEmpty else { throw CLIError("no text to label: the input is empty") }
      let probabilities = try model.probabilities(try textInput.dataset(texts, labels: []))
      let names = saved.metadata.labelNames
      for (text, p) in zip(texts, probabilities) {
        let best = p.indices.max { p[$0] < p[$1] }!
        if json {
          let object: [String: Any] = ["text": text, "label": names[best], "probabilities": Dictionary(uniqueKeysWithValues: zip(names, p.map { Double($0) }))]
          print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
        } else {
          print("\(names[best])\t" + zip(names, p).map { String(format: "%@=%.3f", $0, Double($1)) }.joined(separator: " ") + "\t\(text)")
        }
      }
    }
  }

  /// Labels every series of `--input` (read in `--layout`): id, label and probabilities.
  func predictSeries(_ archive: ModelArchive) throws {
    guard let input, input != "-", csv == nil else { throw CLIError("a series model reads --input FILE in --layout (not standard input or --csv)") }
    let (model, saved, standardizer) = try loadSeriesClassifier(archive, path: checkpoint)
    let set = try series.read(input)
    let probabilities = try model.probabilities(try seriesDataset(set.items, featureCount: set.featureCount, standardizer: standardizer, source: set.source))
    let names = saved.metadata.labelNames
    for (item, p) in zip(set.items, probabilities) {
      let best = p.indices.max { p[$0] < p[$1] }!
      if json {
        let object: [String: Any] = ["id": item.id, "label": names[best], "probabilities": Dictionary(uniqueKeysWithValues: zip(names, p.map { Double($0) }))]
        print(String(decoding: try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]), as: UTF8.self))
      } else {
        print("\(item.id)\t\(names[best])\t" + zip(names, p).map { String(format: "%@=%.3f", $0, Double($1)) }.joined(separator: " "))
      }
    }
  }
}
