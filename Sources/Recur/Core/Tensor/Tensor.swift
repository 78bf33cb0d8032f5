/// An n-dimensional array of `Float`, contiguous and row-major, with value semantics (copy-on-write)
/// and optional participation in automatic differentiation.
///
/// Storage is 64-byte aligned so the C kernels can use aligned vector loads. A tensor that
/// `requiresGrad` (or was computed from one while gradient recording is on) carries a node of the
/// define-by-run tape; `backward()` on a scalar result fills the gradients of the leaves.
public struct Tensor: @unchecked Sendable {
  @usableFromInline var storage: TensorStorage
  /// The extent of each axis; `[]` is a scalar.
  public let shape: [Int]
  /// The tape node that produced this tensor (nil for constants).
  @usableFromInline var node: AutogradNode?

  /// Number of elements.
  @inlinable public var count: Int { storage.count }
  /// Number of axes.
  @inlinable public var rank: Int { shape.count }

  @usableFromInline
  init(storage: TensorStorage, shape: [Int], node: AutogradNode? = nil) {
    precondition(storage.count == Tensor.elementCount(shape), "Storage of \(storage.count) floats does not fit shape \(shape)")
    self.storage = storage
    self.shape = shape
    self.node = node
  }

  /// A tensor of the given shape, uninitialised (callers must write every element).
  @usableFromInline
  init(uninitializedShape shape: [Int]) {
    self.init(storage: TensorStorage(uninitializedCount: Tensor.elementCount(shape)), shape: shape)
  }

  /// A tensor holding `scalars` in row-major order.
  public init(shape: [Int], scalars: [Float]) {
    precondition(scalars.count == Tensor.elementCount(shape), "\(scalars.count) scalars do not fill shape \(shape)")
    self.init(uninitializedShape: shape)
    scalars.withUnsafeBufferPointer { storage.pointer.update(from: $0.baseAddress!, count: scalars.count) }
  }

  /// A 1-D tensor.
  public init(_ scalars: [Float]) { self.init(shape: [scalars.count], scalars: scalars) }

  /// A scalar (rank-0) tensor.
  public init(scalar: Float) { self.init(shape: [], scalars: [scalar]) }

  /// A tensor of `shape` filled with `value`.
  public init(repeating value: Float, shape: [Int]) {
    self.init(storage: TensorStorage(count: Tensor.elementCount(shape), repeating: value), shape: shape)
  }

  /// A tensor of `shape` filled with zeros.
  public static func zeros(_ shape: [Int]) -> Tensor { Tensor(repeating: 0, shape: shape) }
  /// A tensor of `shape` filled with ones.
  public static func ones(_ shape: [Int]) -> Tensor { Tensor(repeating: 1, shape: shape) }

  /// The elements in row-major order.
  public var scalars: [Float] { Array(UnsafeBufferPointer(start: storage.pointer, count: count)) }

  /// The single element of a one-element tensor.
  public var item: Float {
    precondition(count == 1, "item needs a one-element tensor, got shape \(shape)")
    return storage.pointer[0]
  }

  /// Reads the elements.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try body(UnsafeBufferPointer(start: storage.pointer, count: count))
  }

  /// Writes the elements, copying the storage first if it is shared.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(_ body: (UnsafeMutableBufferPointer<Float>) throws -> R) rethrows -> R {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return try body(UnsafeMutableBufferPointer(start: storage.pointer, count: count))
  }

  /// Element access by multi-index (slow; for tests and small tensors).
  public subscript(index: Int...) -> Float {
    get { storage.pointer[flatIndex(index)] }
    set {
      let i = flatIndex(index)
      withUnsafeMutableBufferPointer { $0[i] = newValue }
    }
  }

  func flatIndex(_ index: [Int]) -> Int {
    precondition(index.count == shape.count, "Index \(index) has \(index.count) axes, tensor has shape \(shape)")
    var flat = 0
    for (i, n) in zip(index, shape) {
      precondition(i >= 0 && i < n, "Index \(index) out of range for shape \(shape)")
      flat = flat * n + i
    }
    return flat
  }

  /// Row-major strides of `shape`.
  static func strides(of shape: [Int]) -> [Int] {
    _ = elementCount(shape)  // checked: every suffix product below is then bounded too
    var strides = [Int](repeating: 1, count: shape.count)
    var s = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { strides[i] = s; s *= shape[i] }
    return strides
  }
}

extension Tensor: CustomStringConvertible {
  /// The shape and the first 16 elements, for debugging.
  public var description: String {
    let shown = scalars.prefix(16).map { String($0) }.joined(separator: ", ")
    return "Tensor(shape: \(shape), [\(shown)\(count > 16 ? ", …" : "")])"
  }
}

extension Tensor: Equatable {
  /// Same shape and bitwise-equal elements (gradient state is ignored).
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape && lhs.scalars == rhs.scalars
  }
}
