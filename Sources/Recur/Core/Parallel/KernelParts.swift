import CRecurKernels

extension Kernels {
  /// Runs `body(part)` for every part in `0..<parts` on the kernel thread pool, each part on one
  /// thread, and returns when all are done. Kernels called inside a part run on that part's
  /// thread alone (the pool runs one job at a time), so parts must be independent work of
  /// similar size: for example the batch rows of a recurrence, which never mix.
  static func forEachPart(_ parts: Int, _ body: (Int) -> Void) {
    guard parts > 1 else {
      if parts == 1 { body(0) }
      return
    }
    withoutActuallyEscaping(body) { body in
      var context = body
      withUnsafeMutablePointer(to: &context) { pointer in
        recur_parallel_for_grain(Int32(parts), 1, { raw, begin, end in
          let body = raw!.assumingMemoryBound(to: ((Int) -> Void).self).pointee
          for part in begin..<end { body(Int(part)) }
        }, pointer)
      }
    }
  }
}
