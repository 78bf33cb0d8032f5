import Foundation
import Testing
@testable import Recur

/// The reuse cache behind large tensor buffers: size classes, reuse across nearby sizes, and a
/// bounded idle pool however varied the shapes.
struct LargeBufferCacheTests {
  @Test func sizeClassesRoundUpByAtMostAnEighth() {
    #expect(LargeBufferCache.sizeClass(of: 4096) == 4096)  // small requests are not rounded
    var previous = 0
    for bytes in stride(from: LargeBufferCache.minimumBytes, through: 64 << 20, by: 192_064) {
      let size = LargeBufferCache.sizeClass(of: bytes)
      #expect(size >= bytes && Double(size) <= Double(bytes) * 1.125, "\(bytes) → \(size)")
      #expect(size % 64 == 0 && size >= previous, "\(bytes) → \(size)")
      previous = size
    }
    #expect(LargeBufferCache.sizeClass(of: 1 << 24) == 1 << 24)
    #expect(LargeBufferCache.sizeClass(of: (1 << 24) + 64) == (1 << 24) + (1 << 21))
  }

  @Test func nearbySizesReuseOneBuffer() {
    let cache = LargeBufferCache()
    let a = cache.allocate(bytes: 10_000_000)
    cache.release(a, bytes: 10_000_000)
    let b = cache.allocate(bytes: 10_000_064)  // the same class
    #expect(a == b)
    #expect(cache.idleByteCount == 0)
    cache.release(b, bytes: 10_000_064)
  }

  /// Shapes that change from batch to batch (decoding sources of different lengths) must not
  /// pile up idle buffers: the pool stays within its capacity and, with size classes, small.
  @Test func variedShapesKeepTheIdlePoolBounded() {
    let cache = LargeBufferCache()
    let sizes = (0..<37).map { (1 << 20) + $0 * 64 * 1000 }  // 1.0–3.4 MB
    for round in 0..<200 {
      let bytes = sizes[round % sizes.count]
      let live = (0..<4).map { _ in cache.allocate(bytes: bytes) }
      for p in live { cache.release(p, bytes: bytes) }
    }
    // Four idle buffers per size class used, not per size: 37 sizes share 14 classes.
    let classes = Set(sizes.map(LargeBufferCache.sizeClass(of:)))
    #expect(classes.count == 14)
    #expect(cache.idleByteCount == 4 * classes.reduce(0, +))
    let huge = 300 << 20
    for _ in 0..<5 {  // 1.5 GB freed: the oldest go back to the system
      let p = cache.allocate(bytes: huge)
      let q = cache.allocate(bytes: huge)
      cache.release(p, bytes: huge)
      cache.release(q, bytes: huge)
    }
    #expect(cache.idleByteCount <= LargeBufferCache.capacityBytes)
  }
}
