import Foundation

/// What a CTC model needs beside its weights: the alphabet that names its classes and how raw
/// frames become its input.
public struct CTCMetadata: Sendable, Codable, Equatable {
  /// The label characters (class 0 is the blank).
  public var alphabet: CTCAlphabet
  /// Standardisation and frame stacking.
  public var input: CTCInput

  /// Metadata from its parts.
  public init(alphabet: CTCAlphabet, input: CTCInput) {
    self.alphabet = alphabet
    self.input = input
  }
}

/// The `recur.configuration` of a CTC archive: the model's shape, the batch settings of the run
/// and the metadata.
public typealias CTCArchive = BatchedTaskConfiguration<CTCModel.Configuration, CTCMetadata>

extension CTCTask {
  /// The model saved in `archive` with its configuration. Throws an `IOError` when the archive is
  /// not a CTC archive or its weights do not fit the configuration.
  public static func loadModel(from archive: ModelArchive) throws -> (model: CTCModel, saved: CTCArchive) {
    guard archive.task == name else {
      throw IOError(.notACheckpoint, format: "archive", problem: "it holds a \(archive.task) model, not a CTC model",
                    remedy: "pass a checkpoint written by recur ctc train")
    }
    let saved = try archive.decodeConfiguration(CTCArchive.self)
    try archive.requireStoredParameters(saved.model.parameterCount)
    let model = try CTCModel(saved.model, seed: 0)
    try model.loadStateDict(archive.stateDict)
    return (model, saved)
  }

  /// A task that continues the run of `archive` on the same data (the model's weights come from
  /// the archive; the trainer restores the rest).
  public convenience init(archive: ModelArchive, train: CTCDataset, validation: CTCDataset) throws {
    let (model, saved) = try Self.loadModel(from: archive)
    try self.init(model: model, train: train, validation: validation, batchSize: saved.batchSize, metadata: saved.metadata,
                  shuffleSeed: saved.shuffleSeed)
  }
}
