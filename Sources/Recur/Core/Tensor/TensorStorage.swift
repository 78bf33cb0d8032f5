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
    let raw = LargeBufferCache.shared.allocate(bytes: Self.bytes(for: count))
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

  /// Bytes allocated for `count` floats: whole 64-byte lines, at least one.
  @usableFromInline
  static func bytes(for count: Int) -> Int { max(64, (count * MemoryLayout<Float>.stride + 63) & ~63) }

  deinit { LargeBufferCache.shared.release(UnsafeMutableRawPointer(pointer), bytes: Self.bytes(for: count)) }
}
