import Foundation

/// The `recur.configuration` of an archive of a task that trains on shuffled mini-batches of
/// labelled sequences (classification, CTC…): the model's shape, the batch settings of the run
/// and the task's metadata (class names, alphabet, input description). The JSON keys are
/// `model`, `batchSize`, `shuffleSeed` and `metadata`.
public struct BatchedTaskConfiguration<ModelConfiguration: Sendable & Codable & Equatable, Metadata: Sendable & Codable & Equatable>:
  Sendable, Codable, Equatable {
  /// The model's shape.
  public var model: ModelConfiguration
  /// Sequences per training step.
  public var batchSize: Int
  /// The seed of the per-epoch shuffles.
  public var shuffleSeed: UInt64
  /// What the model needs beside its weights to read new data and name its outputs.
  public var metadata: Metadata

  /// A configuration from its parts.
  public init(model: ModelConfiguration, batchSize: Int, shuffleSeed: UInt64, metadata: Metadata) {
    self.model = model
    self.batchSize = batchSize
    self.shuffleSeed = shuffleSeed
    self.metadata = metadata
  }
}
