/// The number of elements of an array of extents `shape`, or nil when an extent is negative or
/// the elements would not be addressable in bytes.
///
/// The product is taken over the non-zero extents as well, so a zero extent cannot hide an
/// overflow of the others: `[0, 2^40, 2^40]` is refused, because the strides of such a shape
/// (products of trailing extents) would overflow. The bound is `Int.max / 8` elements, so the
/// byte count of any element type up to 8 bytes fits `Int` too. Every place that turns outside
/// extents into a count or strides — the safetensors and .npy readers, `Tensor`, readers of
/// data files — goes through this one function.
public func checkedElementCount(_ shape: [Int]) -> Int? {
  let limit = Int.max / 8
  var nonZero = 1
  var hasZero = false
  for extent in shape {
    guard extent >= 0 else { return nil }
    if extent == 0 { hasZero = true; continue }
    let (product, overflow) = nonZero.multipliedReportingOverflow(by: extent)
    guard !overflow, product <= limit else { return nil }
    nonZero = product
  }
  return hasZero ? 0 : nonZero
}

extension Tensor {
  /// The element count of `shape`; a shape whose count does not fit is a programmer error here
  /// (outside extents are checked with `checkedElementCount(_:)` where they are read).
  @usableFromInline
  static func elementCount(_ shape: [Int]) -> Int {
    guard let count = checkedElementCount(shape) else {
      preconditionFailure("Tensor shape \(shape) has a negative extent or more elements than memory can address")
    }
    return count
  }
}
