import Foundation

/// What one use of Recur (a language model, a forecaster, a classifier…) supplies to the
/// `Trainer`: its model, its batches, its loss, and its evaluation as sums over validation
/// examples. The trainer does everything else: optimiser and schedule, clipping, precision,
/// evaluation cadence (split over the processes of a data-parallel run), checkpoints, resume,
/// stopping rules and reporting.
///
/// To add a task: a folder under `Tasks/` with the data readers, the model (built from
/// `any SequenceLayer`), a type adopting this protocol, and its metrics.
public protocol TrainingTask: AnyObject {
  associatedtype Model: Module

  /// The name stored in archives ("language-model", "forecasting", …).
  static var name: String { get }
  /// The model being trained.
  var model: Model { get }
  /// Optimiser steps in one pass over the training data (at least 1).
  var stepsPerEpoch: Int { get }

  /// The mean loss over the next training batch (running on past the end of the data into the
  /// next pass), computed in the mode and with the random generator of `context`. The task
  /// advances its data position (and carries any state it keeps between batches).
  func trainingLoss(context: inout ForwardContext) throws -> BatchLoss

  /// The validation examples (sequences, windows, text streams…) the evaluation is split over;
  /// 0 when the task has no validation data.
  var validationCount: Int { get }

  /// The sums over the validation examples `examples` (a part of `0..<validationCount`, possibly
  /// empty) in evaluation mode: the loss summed over them and the counts behind the metrics, with
  /// `examples.count` as their ``EvaluationSums/examples``. Must leave the data position and any
  /// carried state as they were.
  func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums

  /// The validation result from the sums over all the validation examples.
  func evaluation(from sums: EvaluationSums) -> Evaluation

  /// Where the task is in its data (and what it carries between batches), for an exact resume.
  func dataState() throws -> TaskDataState
  /// Returns to a position saved by `dataState()`.
  func restoreDataState(_ state: TaskDataState) throws

  /// What an archive needs to rebuild the model and its data description (architecture,
  /// vocabulary, scaler…), as JSON text: the archive's `configuration`.
  func archiveConfiguration() throws -> String
}

extension TrainingTask {
  /// The loss and metrics on all the validation data, in evaluation mode, or nil when the task
  /// has none.
  public func evaluate() throws -> Evaluation? { try evaluate(across: .single) }

  /// The validation result of a data-parallel run, the same on every process of `group`: each
  /// process evaluates its part of the validation examples (`DataShard(index: rank, count: size)`),
  /// one sum all-reduce adds the parts' ``EvaluationSums``, and the task turns the total into the
  /// evaluation. ``Evaluation/examplesPerProcess`` says how the examples were split.
  public func evaluate(across group: ProcessGroup) throws -> Evaluation? {
    let total = validationCount
    guard total > 0 else { return nil }
    let part = DataShard(index: group.rank, count: group.size).range(of: total)
    let sums = try evaluationSums(over: part)
    precondition(sums.examples == part.count, "\(Self.self).evaluationSums(over: \(part)) covered \(sums.examples) examples")
    let (all, perProcess) = try sums.reduced(across: group)
    var result = evaluation(from: all)
    result.examplesPerProcess = perProcess
    return result
  }
}

/// The loss of one batch: the scalar mean `loss` over `count` items (tokens, windows…).
public struct BatchLoss {
  /// A scalar tensor on the tape.
  public var loss: Tensor
  /// How many items the mean is over (for rates and weighted averages).
  public var count: Int

  /// The loss of a batch of `count` items.
  public init(loss: Tensor, count: Int) {
    self.loss = loss
    self.count = count
  }
}

/// A task's result on its validation data: the loss that selects the best checkpoint and drives
/// early stopping, plus any other metrics (accuracy, RMSE…), in a fixed order.
public struct Evaluation: Sendable, Equatable {
  /// The validation loss (lower is better).
  public var loss: Double
  /// Further metrics by name.
  public var metrics: [String: Double]
  /// The validation examples each process evaluated (one entry on a single process); set by
  /// ``TrainingTask/evaluate(across:)``.
  public var examplesPerProcess: [Int] = []

  /// An evaluation with `loss` and optional `metrics`.
  public init(loss: Double, metrics: [String: Double] = [:]) {
    self.loss = loss
    self.metrics = metrics
  }
}

/// A task's position in its data: small scalars as JSON text and tensors (e.g. a carried
/// recurrent state), saved in checkpoints so a resumed run reads the same batches.
public struct TaskDataState {
  /// Scalars (position, epoch, generator words…) as JSON text.
  public var json: String
  /// Named tensors, names without a prefix.
  public var tensors: [(name: String, tensor: Tensor)]

  /// A state from its parts.
  public init(json: String, tensors: [(name: String, tensor: Tensor)] = []) {
    self.json = json
    self.tensors = tensors
  }
}

extension TaskDataState {
  private struct Position: Codable { var position: Int }

  /// A state holding a count of batches taken (`{"position": N}`) and `tensors`: enough for a task
  /// whose batch order follows from that count (a stream read in order, or `EpochShuffle`).
  public init(position: Int, tensors: [(name: String, tensor: Tensor)] = []) throws {
    self.init(json: try ModelArchive.json(Position(position: position)), tensors: tensors)
  }

  /// The count saved by ``init(position:tensors:)``. Throws `TrainingError.inconsistentCheckpoint`
  /// ("the `what` position is damaged") when the state holds none.
  public func position(what: String) throws -> Int {
    guard let p = try? JSONDecoder().decode(Position.self, from: Data(json.utf8)), p.position >= 0 else {
      throw TrainingError.inconsistentCheckpoint("the \(what) position is damaged")
    }
    return p.position
  }
}
