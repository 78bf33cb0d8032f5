/// A tensor a module keeps and saves but does not train: running statistics, counters.
///
/// Buffers appear in `Module.stateDict()` and are restored by `loadStateDict(_:strict:)` under
/// PyTorch's names (`bn.running_mean`, `bn.num_batches_tracked`), but never in `parameters`, so
/// optimisers, gradient clipping and `zeroGrad()` leave them alone. The owning module updates them
/// in place (BatchNorm's running statistics in training mode).
public final class Buffer: @unchecked Sendable {
  /// The current values, cut from the tape.
  public private(set) var data: Tensor
  /// Shape of the buffer (fixed at creation).
  public var shape: [Int] { data.shape }
  /// Number of elements.
  public var count: Int { data.count }

  /// A buffer holding a copy of `value`'s elements.
  public init(_ value: Tensor) { data = value.copied() }

  /// Replaces the values (same shape); tensors handed out earlier keep the old values.
  public func assign(_ tensor: Tensor) {
    precondition(tensor.shape == data.shape, "assign: shape \(tensor.shape) does not match buffer shape \(data.shape)")
    data = tensor.copied()
  }
}

/// What a state dict holds: a parameter or a buffer, read and written alike.
protocol StateTensor: AnyObject {
  var shape: [Int] { get }
  var data: Tensor { get }
  func assign(_ tensor: Tensor)
}

extension Parameter: StateTensor {}
extension Buffer: StateTensor {}
