/// A trainable tensor owned by a module: a leaf of the tape whose gradient accumulates across
/// `backward()` calls until `zeroGrad()`.
///
/// Optimisers update the values in place (`update`), which bumps `version` so layers that cache a
/// derived form (the packed recurrent weight) know to rebuild it once per step.
public final class Parameter: @unchecked Sendable {
  @usableFromInline var storage: TensorStorage
  /// Shape of the parameter.
  public let shape: [Int]
  let node: AutogradNode
  /// Incremented on every change of the values.
  public private(set) var version = 0

  /// A parameter holding a copy of `value`'s elements. The copy matters: optimisers write into the
  /// parameter's storage in place, which must not show through tensors the caller still holds.
  public init(_ value: Tensor) {
    storage = value.storage.copy()
    shape = value.shape
    node = AutogradNode(op: "parameter", inputs: [], backward: nil)
  }

  /// The values as a tensor that records gradients into this parameter.
  public var value: Tensor { Tensor(storage: storage, shape: shape, node: node) }

  /// The values, cut from the tape.
  public var data: Tensor { Tensor(storage: storage, shape: shape) }

  /// The accumulated gradient (nil before the first backward or after `zeroGrad`).
  public var grad: Tensor? {
    get { node.grad }
    set {
      if let newValue { precondition(newValue.shape == shape, "grad shape \(newValue.shape) does not match parameter \(shape)") }
      node.grad = newValue
    }
  }

  /// Number of elements.
  public var count: Int { storage.count }

  /// Forgets the accumulated gradient.
  public func zeroGrad() { node.grad = nil }

  /// Replaces the values (same shape).
  public func assign(_ tensor: Tensor) {
    precondition(tensor.shape == shape, "assign: shape \(tensor.shape) does not match parameter shape \(shape)")
    storage.pointer.update(from: tensor.storage.pointer, count: count)
    version += 1
  }

  /// Mutates the values in place (visible to tensors that share them) and bumps `version`.
  public func update(_ body: (UnsafeMutableBufferPointer<Float>) -> Void) {
    body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
    version += 1
  }
}
