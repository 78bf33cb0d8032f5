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
}
