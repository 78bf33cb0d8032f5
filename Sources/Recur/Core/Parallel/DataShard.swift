/// The part of every global batch one process of a data-parallel run takes: part `index` of
/// `count` equal (±1) contiguous parts. A single process is part 0 of 1: the whole batch.
///
/// The trainer puts it in `ForwardContext.shard`; a task slices its batch with ``range(of:)``
/// (or ``part(of:)``) so the global batch size stays what the user asked for, whatever the
/// number of processes.
public struct DataShard: Sendable, Equatable {
  /// This part, 0..<count.
  public var index: Int
  /// The number of parts.
  public var count: Int

  /// Part `index` of `count`.
  public init(index: Int, count: Int) {
    precondition(count >= 1 && index >= 0 && index < count, "DataShard: part \(index) of \(count)")
    self.index = index
    self.count = count
  }

  /// The whole batch.
  public static let whole = DataShard(index: 0, count: 1)

  /// This part's range of `0..<total` items: part k is `k·total/count ..< (k+1)·total/count`
  /// (empty when there are fewer items than parts).
  public func range(of total: Int) -> Range<Int> { range(of: total, part: index) }

  /// Part `part`'s range of `0..<total` items.
  public func range(of total: Int, part: Int) -> Range<Int> { (part * total / count)..<((part + 1) * total / count) }

  /// This part of the batch `items`; all of them when there are fewer items than parts (every
  /// process then computes the same gradient, and their average is it).
  public func part<C: RandomAccessCollection>(of items: C) -> C.SubSequence where C.Index == Int {
    guard items.count >= count else { return items[...] }
    let r = range(of: items.count)
    return items[(items.startIndex + r.lowerBound)..<(items.startIndex + r.upperBound)]
  }
}
