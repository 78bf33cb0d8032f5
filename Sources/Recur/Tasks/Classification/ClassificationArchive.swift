import Foundation

/// What a classification model needs beside its weights to read new data and name its classes.
public struct ClassificationMetadata: Sendable, Codable, Equatable {
  /// The name of each class index.
  public var labelNames: [String]
  /// JSON text describing how raw input becomes model input — the vocabulary and tokenizer of
  /// text, or the standardiser of numeric frames — written and read by the data readers
  /// (opaque to the task).
  public var input: String

  /// Metadata with the class names and the input description.
  public init(labelNames: [String], input: String = "{}") {
    self.labelNames = labelNames
    self.input = input
  }
}

/// The `recur.configuration` of a classification archive: the model's shape, the data's
/// description and the batch settings of the run.
public typealias ClassificationArchive = BatchedTaskConfiguration<SequenceClassifier.Configuration, ClassificationMetadata>

extension ClassificationTask {
  /// The model saved in `archive` with its configuration. Throws an `IOError` when the archive
  /// is not a classification archive or its weights do not fit the configuration.
  public static func loadModel(from archive: ModelArchive) throws -> (model: SequenceClassifier, saved: ClassificationArchive) {
    guard archive.task == name else {
      throw IOError(.notACheckpoint, format: "archive", problem: "it holds a \(archive.task) model, not a classification model",
                    remedy: "pass a checkpoint written by recur classify train")
    }
    let saved = try archive.decodeConfiguration(ClassificationArchive.self)
    guard saved.metadata.labelNames.count == saved.model.classCount else {
      throw IOError(.invalidMetadata, format: "archive",
                    problem: "it names \(saved.metadata.labelNames.count) classes for a model of \(saved.model.classCount)",
                    remedy: "The configuration is damaged; use a checkpoint written by recur classify train")
    }
    try archive.requireStoredParameters(saved.model.parameterCount)
    let model = try SequenceClassifier(saved.model, seed: 0)
    try model.loadStateDict(try archive.stateDict)
    return (model, saved)
  }

  /// A task that continues the run of `archive` on the same data (the model's weights come
  /// from the archive; the trainer restores the rest).
  public convenience init(archive: ModelArchive, train: ClassificationDataset, validation: ClassificationDataset) throws {
    let (model, saved) = try Self.loadModel(from: archive)
    try self.init(model: model, train: train, validation: validation, batchSize: saved.batchSize, metadata: saved.metadata,
                  shuffleSeed: saved.shuffleSeed)
  }
}
