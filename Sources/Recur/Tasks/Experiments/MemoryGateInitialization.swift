import Foundation

/// How the gates that keep a layer's state start, for the long-memory experiments: the biases of
/// the gate blocks of `bias_ih` (the matching blocks of `bias_hh`, where the layer has one, are set to
/// 0, so the sum is the value given).
///
/// The keep bias k of each unit is either one constant for all units or drawn by Tallec &
/// Ollivier's (2018) chrono initialisation, k = ln u with u ~ U(1, T_max − 1), so the units keep
/// their state over time scales spread up to T_max steps; chrono also closes the write gate with
/// the opposite bias −k, so the long-lived state is not filled with noise from the start. Per cell
/// (gate blocks in PyTorch's order):
/// ```
/// LSTM  i|f|g|o   forget f: k          input i: −k (chrono only)
/// GRU   r|z|n     update z (keeps): k
/// minGRU  z|h     z (writes, keep = 1 − z): −k
/// minLSTM f|i|h   f: k                 i: −k (chrono only)
/// ```
/// The tanh and ReLU RNNs have no gate and keep PyTorch's initialisation.
public enum MemoryGateInitialization {
  /// The `bias_ih` values to set: gate block index → H values. `constant` is the keep bias of every
  /// unit; `chronoMaximum` (T_max ≥ 3, takes precedence) draws them from `generator`.
  public static func biases(cell: SequenceLayerKind, hiddenSize: Int, constant: Float?, chronoMaximum: Int?,
                            generator: inout RandomGenerator) -> [Int: [Float]] {
    let keep: [Float]
    if let chronoMaximum {
      precondition(chronoMaximum >= 3, "MemoryGateInitialization: chronoMaximum must be at least 3, got \(chronoMaximum)")
      let span = Float(chronoMaximum - 2)
      keep = (0..<hiddenSize).map { _ in Float(log(Double(1 + span * generator.nextUniform()))) }
    } else if let constant {
      keep = [Float](repeating: constant, count: hiddenSize)
    } else {
      return [:]
    }
    let write = chronoMaximum == nil ? nil : keep.map { -$0 }
    switch cell {
    case .recurrent(.lstm): return [1: keep].merging(write.map { [0: $0] } ?? [:]) { a, _ in a }
    case .recurrent(.gru): return [1: keep]
    case .recurrent: return [:]
    case .minimal(.minGRU): return [0: keep.map { -$0 }]
    case .minimal(.minLSTM): return [0: keep].merging(write.map { [1: $0] } ?? [:]) { a, _ in a }
    }
  }
}
