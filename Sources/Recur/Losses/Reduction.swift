/// How a loss combines its per-element values (`reduction=` in `torch.nn.functional`).
public enum Reduction: String, Sendable, CaseIterable {
  /// The per-element losses, unreduced.
  case none
  /// Their mean (for cross-entropy: over the targets that are not ignored).
  case mean
  /// Their sum.
  case sum
}
