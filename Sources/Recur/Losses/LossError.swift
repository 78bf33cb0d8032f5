/// Problems with loss inputs that come from data (files, user input) rather than from code.
///
/// The losses themselves treat bad targets as programmer errors (`precondition`); call
/// `validateTargets(_:classCount:ignoreIndex:)` on data you did not produce to get a thrown error
/// instead of a crash.
public enum LossError: Error, Equatable, CustomStringConvertible {
  /// `targets[position]` is `target`, outside `0..<classCount` and not the ignore index.
  case targetOutOfRange(position: Int, target: Int, classCount: Int, ignoreIndex: Int)

  /// One line: which target is wrong, the valid range and what to check.
  public var description: String {
    switch self {
    case let .targetOutOfRange(position, target, classCount, ignoreIndex):
      return "Target \(target) at position \(position) is out of bounds: class indices must be in 0..<\(classCount) "
        + "(or equal ignoreIndex \(ignoreIndex)); check that the vocabulary or label set matches the data"
    }
  }
}

/// Checks that every target is a class index in `0..<classCount` or `ignoreIndex`, throwing
/// `LossError.targetOutOfRange` for the first that is not.
public func validateTargets(_ targets: [Int], classCount: Int, ignoreIndex: Int = -100) throws {
  for (i, t) in targets.enumerated() where (t < 0 || t >= classCount) && t != ignoreIndex {
    throw LossError.targetOutOfRange(position: i, target: t, classCount: classCount, ignoreIndex: ignoreIndex)
  }
}
