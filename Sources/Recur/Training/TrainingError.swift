/// Why training could not start, go on, or resume — in the library's terms (setting names,
/// steps, paths), never command-line flags.
public enum TrainingError: Error, Equatable, CustomStringConvertible, InvalidParameterReporting {
  /// A setting outside its valid range: its name, the value given, what it must be.
  case invalidSetting(InvalidParameter)
  /// No budget: give steps, epochs or a time limit.
  case noBudget
  /// The `what` (training loss, gradient norm, validation loss, weights) became NaN or infinite
  /// at optimiser step `step` (1-based); the weights of the last good evaluation are kept.
  case nonFinite(what: String, step: Int, value: Float)
  /// An archive that does not hold the expected task (`found` is what it holds).
  case wrongTask(expected: String, found: String)
  /// An archive whose parts do not fit together or do not fit the task.
  case inconsistentCheckpoint(String)

  /// One line saying what went wrong, naming settings by their Swift names.
  public var description: String {
    switch self {
    case let .invalidSetting(parameter):
      return parameter.description
    case .noBudget:
      return "no training budget: give a number of steps, epochs or a time limit"
    case let .nonFinite(what, step, value):
      let became = what == "weights" ? "became NaN or infinite" : "became \(value)"
      return "the \(what) \(became) at step \(step) (training diverged); the weights were not updated"
    case let .wrongTask(expected, found):
      return "the archive holds a \(found) model, not a \(expected) model"
    case let .inconsistentCheckpoint(detail):
      return "the checkpoint is inconsistent: \(detail)"
    }
  }

  /// The setting this error is about, if any.
  public var invalidParameter: InvalidParameter? {
    if case .invalidSetting(let parameter) = self { return parameter }
    return nil
  }

  /// Throws `.invalidSetting` for the first of `settings` (name, value) that is not a positive integer.
  static func requirePositive(_ settings: KeyValuePairs<String, Int>) throws {
    for (name, value) in settings { try require(value >= 1, name, value, "a positive integer") }
  }

  /// Throws `.invalidSetting` unless the `parameters` a configuration implies fit in memory for
  /// training (``MemoryBudget/maximumParameters(copies:)``); the error names the largest of `sizes`.
  static func requireFitsMemory(_ parameters: SizeTally, sizes: KeyValuePairs<String, Int>) throws {
    let limit = MemoryBudget.maximumParameters()
    if let total = parameters.total, total <= limit { return }
    let largest = sizes.max { $0.value < $1.value }!
    let count = parameters.total.map { "\($0)" } ?? "more than \(Int.max)"
    throw TrainingError.invalidSetting(InvalidParameter(
      largest.key, largest.value,
      expected: "small enough for memory: the model would have \(count) parameters, at most \(limit) fit in "
        + "\(MemoryBudget.describe(bytes: MemoryBudget.bytes)) (weights, gradients and optimiser state)"))
  }

  /// Throws `.invalidSetting` unless `condition` holds.
  static func require<V>(_ condition: Bool, _ name: String, _ value: V, _ expected: String) throws {
    if !condition { throw TrainingError.invalidSetting(InvalidParameter(name, value, expected: expected)) }
  }
}
