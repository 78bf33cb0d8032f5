import Foundation

/// How much memory this process may use, so sizes from flags and files are checked before
/// anything is allocated: the smaller of the machine's physical memory and the process's
/// address-space and data-segment limits (`ulimit -v`, `ulimit -d`).
public enum MemoryBudget {
  /// Bytes this process may allocate at most (a bound, not what is free right now).
  public static var bytes: Int {
    var limit = Int(clamping: ProcessInfo.processInfo.physicalMemory)
    for resource in [RLIMIT_AS, RLIMIT_DATA] {
      var r = rlimit()
      #if os(Linux)
      let ok = getrlimit(__rlimit_resource_t(resource.rawValue), &r) == 0
      #else
      let ok = getrlimit(resource, &r) == 0
      #endif
      if ok, r.rlim_cur != rlim_t.max { limit = min(limit, Int(clamping: r.rlim_cur)) }
    }
    return limit
  }

  /// The number of float32 parameters a model may have when training needs `copies` float32
  /// values per parameter (weights, gradients, optimiser moments…): half the budget, the rest
  /// left for activations.
  public static func maximumParameters(copies: Int = 4) -> Int { bytes / 2 / (4 * max(copies, 1)) }

  /// `value` in bytes as "1.5 GB".
  public static func describe(bytes: Int) -> String {
    let units = ["bytes", "kB", "MB", "GB", "TB", "PB", "EB"]
    var v = Double(bytes), i = 0
    while v >= 1000 && i < units.count - 1 { v /= 1000; i += 1 }
    return i == 0 ? "\(bytes) bytes" : String(format: "%.1f %@", v, units[i])
  }
}

/// Sums of products of sizes that report overflow instead of trapping: the number of parameters
/// or elements a configuration implies, computed before anything is allocated.
public struct SizeTally: Sendable, Equatable {
  /// The sum so far, or nil once it overflowed (or a negative factor was added).
  public private(set) var total: Int? = 0

  /// An empty tally (total 0).
  public init() {}

  /// Adds the product of `factors`.
  public mutating func add(_ factors: Int...) { add(product: factors) }

  /// Adds the product of `factors`.
  public mutating func add(product factors: [Int]) {
    guard let t = total, let p = checkedElementCount(factors) else { total = nil; return }
    let (sum, overflow) = t.addingReportingOverflow(p)
    total = overflow ? nil : sum
  }

  /// Adds another tally.
  public mutating func add(_ other: SizeTally) {
    guard let t = total, let o = other.total else { total = nil; return }
    let (sum, overflow) = t.addingReportingOverflow(o)
    total = overflow ? nil : sum
  }
}
