import ArgumentParser
import Foundation
import Recur

/// Where numeric sequences come from: `--data` in a `--layout` (with `--labels`, `--test` and
/// `--features-per-step` where the layout needs them). Shared by `classify series`, `eval` and `predict`.
struct SeriesDataOptions: ParsableArguments {
  @Option(help: ArgumentHelp("wide, long, joined or ts (default wide; series data only).", valueName: "layout")) var layout: String?
  @Option(help: ArgumentHelp("joined: the CSV with one row per sequence (utt, digit, split).", valueName: "file")) var labels: String?
  @Option(help: ArgumentHelp("ts: the test file.", valueName: "file")) var test: String?
  @Option(name: .customLong("features-per-step"), parsing: .unconditional, help: "wide: values per time step (default 1).") var featuresPerStep = 1

  /// Whether any series flag was given (the text commands refuse them for a text model).
  var isGiven: Bool { layout != nil || labels != nil || test != nil }

  /// The sequences of `data`; `labelSet` (a saved model's classes) fixes the label ids.
  func read(_ data: String, labelSet: LabelSet? = nil) throws -> NumericSequenceSet {
    let url = URL(fileURLWithPath: data)
    switch (layout ?? "wide").lowercased() {
    case "wide": return try NumericSequenceSet.readWide(contentsOf: url, featuresPerStep: featuresPerStep, labels: labelSet)
    case "long": return try NumericSequenceSet.readLong(contentsOf: url, labels: labelSet)
    case "joined":
      guard let labels else { throw CLIError("--layout joined needs --labels FILE (one row per sequence: utt, digit, split)") }
      return try NumericSequenceSet.readJoined(features: url, labels: URL(fileURLWithPath: labels), labelSet: labelSet)
    case "ts":
      let train = try NumericSequenceSet.readTS(contentsOf: url, split: test == nil ? nil : .train, labels: labelSet)
      guard let test else { return train }
      return try train.appending(NumericSequenceSet.readTS(contentsOf: URL(fileURLWithPath: test), split: .test, labels: train.labels))
    default: throw CLIError("unknown --layout \"\(layout ?? "")\"; use wide, long, joined or ts")
    }
  }
}

/// The saved series classifier of a checkpoint's archive with its standardiser (`path` names it in messages).
func loadSeriesClassifier(_ archive: ModelArchive, path: String) throws -> (model: SequenceClassifier, saved: ClassificationArchive, standardizer: FeatureStandardizer) {
  let (model, saved) = try ClassificationTask.loadModel(from: archive)
  guard model.configuration.vocabularySize == nil,
        let standardizer = try? JSONDecoder().decode(FeatureStandardizer.self, from: Data(saved.metadata.input.utf8)) else {
    throw CLIError("\(path) holds a text classifier; give it text data (without --layout)")
  }
  guard standardizer.mean.count == model.configuration.featureCount else {
    throw CLIError("\(path) is inconsistent: its standardiser has \(standardizer.mean.count) features, its model \(model.configuration.featureCount)")
  }
  return (model, saved, standardizer)
}

/// The standardised frames of `items` as a dataset for `model`, after checking the feature count.
func seriesDataset(_ items: [NumericSequence], featureCount: Int, standardizer: FeatureStandardizer, source: String) throws -> ClassificationDataset {
  guard featureCount == standardizer.mean.count else {
    throw CLIError("\(source) has \(featureCount) features per step, the model reads \(standardizer.mean.count); check --layout and --features-per-step")
  }
  return try ClassificationDataset(sequences: .frames(items.map { standardizer.transform($0.values) }, featureCount: featureCount),
                                   labels: items.map(\.label))
}
