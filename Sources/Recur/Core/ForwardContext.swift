/// The mode and the randomness of one forward pass.
///
/// Modules hold no random state of their own: dropout and every other random operation draw
/// from `generator`, so whoever owns the context (a `Trainer`, a test, a sampling loop) owns the
/// whole random stream and can checkpoint it. The same seed gives the same bits on any number of
/// threads.
///
///     var context = ForwardContext(training: true, seed: 42)
///     let (output, state) = try lstm(x, state: nil, lengths: nil, context: &context)
public struct ForwardContext: Sendable {
  /// Training mode: dropout is active. Evaluation mode: every random operation is the identity.
  public var isTraining: Bool
  /// The source of dropout masks and other random draws.
  public var generator: RandomGenerator
  /// The part of the batch this process takes in a data-parallel run (`.whole` otherwise).
  public var shard = DataShard.whole
  /// The processes of a data-parallel run (`.single` otherwise), for a task that must combine
  /// something across them (a carried state, a metric).
  public var processGroup = ProcessGroup.single

  /// A context in training or evaluation mode drawing from `generator`.
  public init(training: Bool, generator: RandomGenerator) {
    isTraining = training
    self.generator = generator
  }

  /// A context in training or evaluation mode drawing from a generator seeded by `seed`.
  public init(training: Bool, seed: UInt64) {
    self.init(training: training, generator: RandomGenerator(seed: seed))
  }

  /// Evaluation mode: no dropout, nothing random is drawn.
  public static var inference: ForwardContext { ForwardContext(training: false, seed: 0) }
}
