import Foundation
import Recur

/// The parts of a transcribed set: the labels file's split column (validation, when it has
/// none, a seeded share of the training sequences); without a split column every sequence trains
/// (minus the validation share) and there is no test part.
struct CTCSplits {
  var train: [TranscribedSequence]
  var validation: [TranscribedSequence]
  var test: [TranscribedSequence]

  static func make(_ set: TranscribedSequenceSet, validationFraction: Double, seed: UInt64) -> CTCSplits {
    var s = CTCSplits(train: set.items(in: .train), validation: set.items(in: .validation), test: set.items(in: .test))
    if s.validation.isEmpty && validationFraction > 0 {
      let order = EpochShuffle.permutation(s.train.count, epoch: 0, seed: seed)
      let held = Set(order.prefix(Int((Double(s.train.count) * validationFraction).rounded())))
      s.validation = s.train.indices.filter { held.contains($0) }.map { s.train[$0] }
      s.train = s.train.indices.filter { !held.contains($0) }.map { s.train[$0] }
    }
    return s
  }
}
