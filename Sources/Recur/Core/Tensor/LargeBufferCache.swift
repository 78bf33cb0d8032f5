import Foundation

/// Keeps freed large tensor buffers for reuse by later allocations of a similar size.
///
/// A training step allocates the same large buffers every time (gate activations, states,
/// gradients: megabytes each). The C allocator serves blocks this large with fresh mappings and
/// returns them to the system when freed, so every step would fault in and zero its pages again;
/// reusing them removes that cost. Only buffers of at least `minimumBytes` are kept. Sizes are
/// rounded up to a size class (eight per power of two, so at most 12.5 % is unused), which lets
/// work whose shapes vary a little — batches of different lengths in evaluation or decoding —
/// reuse buffers instead of piling up one idle buffer per exact size. At most `capacityBytes` are
/// idle at once; past that the buffers freed longest ago go back to the system first.
final class LargeBufferCache: @unchecked Sendable {
  static let shared = LargeBufferCache()

  static let minimumBytes = 1 << 20
  static let capacityBytes = 1 << 30

  private let lock = NSLock()
  /// Idle buffers, the one freed longest ago first.
  private var idle: [(bytes: Int, pointer: UnsafeMutableRawPointer)] = []
  private var idleBytes = 0

  /// Bytes held idle for reuse.
  var idleByteCount: Int { lock.withLock { idleBytes } }

  /// The bytes actually allocated for a request of `bytes`: below `minimumBytes` the request
  /// itself; above, the next of eight evenly spaced sizes per power of two (a multiple of 64).
  static func sizeClass(of bytes: Int) -> Int {
    guard bytes >= minimumBytes else { return bytes }
    let step = 1 << (Int.bitWidth - 1 - bytes.leadingZeroBitCount - 3)  // 1/8 of the power of two below
    return (bytes + step - 1) / step * step
  }

  /// A 64-byte aligned buffer of at least `bytes` (a multiple of 64), uninitialised.
  func allocate(bytes: Int) -> UnsafeMutableRawPointer {
    let size = Self.sizeClass(of: bytes)
    if size >= Self.minimumBytes {
      lock.lock()
      if let i = idle.lastIndex(where: { $0.bytes == size }) {
        let p = idle.remove(at: i).pointer
        idleBytes -= size
        lock.unlock()
        return p
      }
      lock.unlock()
    }
    return UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 64)
  }

  /// Takes back a buffer from `allocate(bytes:)` (with the same `bytes`).
  func release(_ p: UnsafeMutableRawPointer, bytes: Int) {
    let size = Self.sizeClass(of: bytes)
    guard size >= Self.minimumBytes, size <= Self.capacityBytes else { return p.deallocate() }
    var evicted: [UnsafeMutableRawPointer] = []
    lock.lock()
    while idleBytes + size > Self.capacityBytes {
      let oldest = idle.removeFirst()
      idleBytes -= oldest.bytes
      evicted.append(oldest.pointer)
    }
    idle.append((size, p))
    idleBytes += size
    lock.unlock()
    for q in evicted { q.deallocate() }
  }
}
