import Foundation

/// The order of the training items in one epoch: a permutation drawn from its own stream, so a
/// task that shuffles each epoch needs only its batch position to resume exactly.
public enum EpochShuffle {
  /// A permutation of `0..<count` for epoch `epoch` of a run seeded with `seed`.
  public static func permutation(_ count: Int, epoch: Int, seed: UInt64) -> [Int] {
    var generator = RandomGenerator(seed: seed &+ UInt64(epoch) &* 0x9E37_79B9_7F4A_7C15)
    var order = Array(0..<count)
    order.shuffle(using: &generator)
    return order
  }

  private struct Position: Codable { var position: Int }

  /// A task's batch position as its data state (each epoch's order follows from it).
  public static func state(position: Int) throws -> TaskDataState {
    TaskDataState(json: try ModelArchive.json(Position(position: position)))
  }

  /// The batch position saved by ``state(position:)``. Throws
  /// `TrainingError.inconsistentCheckpoint` naming `what` for a damaged one.
  public static func position(from state: TaskDataState, what: String) throws -> Int {
    guard let p = try? JSONDecoder().decode(Position.self, from: Data(state.json.utf8)), p.position >= 0 else {
      throw TrainingError.inconsistentCheckpoint("the \(what) position is damaged")
    }
    return p.position
  }
}
