import Foundation

/// 64-byte aligned, heap-allocated float32 buffer shared by tensors (copy-on-write is handled by `Tensor`).
@usableFromInline
final class TensorStorage: @unchecked Sendable {
  @usableFromInline let pointer: UnsafeMutablePointer<Float>
  @usableFromInline let count: Int

  /// Allocates `count` floats, uninitialised.
  @usableFromInline
  init(uninitializedCount count: Int) {
    self.count = count
    let bytes = max(64, (count * MemoryLayout<Float>.stride + 63) & ~63)
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
    pointer = raw.bindMemory(to: Float.self, capacity: max(count, 1))
  }

  /// Allocates `count` floats set to `value`.
  @usableFromInline
  convenience init(count: Int, repeating value: Float) {
    self.init(uninitializedCount: count)
    pointer.initialize(repeating: value, count: count)
  }

  @usableFromInline
  func copy() -> TensorStorage {
    let new = TensorStorage(uninitializedCount: count)
    new.pointer.update(from: pointer, count: count)
    return new
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }
}
