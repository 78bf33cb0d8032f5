import Foundation

/// Keeps freed large tensor buffers for reuse by the next allocation of the same size.
///
/// A training step allocates the same large buffers every time (gate activations, states,
/// gradients: megabytes each). The C allocator serves blocks this large with fresh mappings and
/// returns them to the system when freed, so every step would fault in and zero its pages again;
/// reusing them removes that cost. Only buffers of at least `minimumBytes` are kept, matched by
/// exact size, at most `capacityBytes` of them idle at once (beyond that they are freed).
final class LargeBufferCache: @unchecked Sendable {
  static let shared = LargeBufferCache()

  static let minimumBytes = 1 << 20
  static let capacityBytes = 1 << 30

  private let lock = NSLock()
  private var idle: [Int: [UnsafeMutableRawPointer]] = [:]
  private var idleBytes = 0

  /// A 64-byte aligned buffer of `bytes` (a multiple of 64), uninitialised.
  func allocate(bytes: Int) -> UnsafeMutableRawPointer {
    if bytes >= Self.minimumBytes {
      lock.lock()
      if let p = idle[bytes]?.popLast() {
        idleBytes -= bytes
        lock.unlock()
        return p
      }
      lock.unlock()
    }
    return UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
  }

  /// Takes back a buffer from `allocate(bytes:)`.
  func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
    if bytes >= Self.minimumBytes {
      lock.lock()
      if idleBytes + bytes <= Self.capacityBytes {
        idle[bytes, default: []].append(p)
        idleBytes += bytes
        lock.unlock()
        return
      }
      lock.unlock()
    }
    p.deallocate()
  }
}
