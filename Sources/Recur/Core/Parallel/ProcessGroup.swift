import CRecurMPI
import Foundation

/// The processes of one data-parallel run: this process's `rank` among `size`, and the collective
/// operations the trainer needs (sum all-reduce, broadcast from one rank, barrier).
///
/// A run started by an MPI launcher (`mpirun`, `mpiexec`, `srun`) is recognised from its
/// environment (`OMPI_COMM_WORLD_SIZE`, `PMI_SIZE`, `PMIX_RANK`…); ``world()`` then loads the MPI
/// library at run time (Open MPI's `libmpi.so.40` or an MPICH-ABI `libmpi.so.12`/`libmpich.so.12`;
/// `RECUR_MPI_LIBRARY` names another) and joins `MPI_COMM_WORLD`. Otherwise the group is
/// ``single``: one process, every collective the identity. Recur never needs MPI to build.
///
///     let group = try ProcessGroup.world()
///     var sums: [Double] = [localSum, localCount]
///     try group.allReduceSum(&sums)
public final class ProcessGroup: @unchecked Sendable {
  /// This process's index, 0..<size.
  public let rank: Int
  /// The number of processes.
  public let size: Int
  /// The MPI library in use ("Open MPI libmpi.so.40"), or nil for a single process.
  public let library: String?

  private init(rank: Int, size: Int, library: String?) {
    self.rank = rank
    self.size = size
    self.library = library
  }

  /// One process, no MPI: every collective leaves its buffer as it is.
  public static let single = ProcessGroup(rank: 0, size: 1, library: nil)

  /// Whether this process is rank 0 (the one that prints and writes files).
  public var isRoot: Bool { rank == 0 }

  /// The environment variables MPI launchers set, in the order they are looked at: a value is
  /// the number of processes or, for `PMIX_RANK`/`PMI_RANK`, this process's rank.
  public static let launcherVariables = ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MPI_LOCALNRANKS", "PMIX_RANK", "PMI_RANK"]

  /// The launcher variable (name and value) that says this process was started by an MPI launcher
  /// as one of several, or nil.
  public static func launcher(in environment: [String: String]) -> (name: String, value: String)? {
    for name in launcherVariables {
      guard let value = environment[name] else { continue }
      // A size of 1 is a lone process: nothing to synchronise, no library to load.
      if name.hasSuffix("SIZE") || name == "MPI_LOCALNRANKS", Int(value) == 1 { continue }
      return (name, value)
    }
    return nil
  }

  /// This process's rank as the launcher's environment gives it (`OMPI_COMM_WORLD_RANK`,
  /// `PMI_RANK`, `PMIX_RANK`), or nil outside a launcher: known before MPI starts, e.g. to keep the
  /// other ranks' standard output quiet.
  public static func launcherRank(in environment: [String: String]) -> Int? {
    guard launcher(in: environment) != nil else { return nil }
    return ["OMPI_COMM_WORLD_RANK", "PMI_RANK", "PMIX_RANK"].lazy.compactMap { environment[$0].flatMap { Int($0) } }.first
  }

  /// The group ``world()`` started, or nil when it started none (a single process, or not asked yet).
  public static var started: ProcessGroup? {
    lock.lock()
    defer { lock.unlock() }
    return startedGroup
  }

  private static let lock = NSLock()
  nonisolated(unsafe) private static var startedGroup: ProcessGroup?

  /// The group of this process: MPI's world when an MPI launcher started it (the library is loaded
  /// and initialised once per process), else ``single``. Throws `ProcessGroupError` when the
  /// environment says MPI but no MPI library loads or starts.
  public static func world(environment: [String: String] = ProcessInfo.processInfo.environment) throws -> ProcessGroup {
    lock.lock()
    defer { lock.unlock() }
    if let startedGroup { return startedGroup }
    guard let launcher = launcher(in: environment) else { return single }
    let path = environment["RECUR_MPI_LIBRARY"].flatMap { $0.isEmpty ? nil : $0 }
    var rank: Int32 = 0, size: Int32 = 0
    do {
      try call { recur_mpi_start(path, $0, $1) }
      try call { recur_mpi_rank(&rank, $0, $1) }
      try call { recur_mpi_size(&size, $0, $1) }
    } catch let error as ProcessGroupError {
      throw ProcessGroupError("started by an MPI launcher (\(launcher.name)=\(launcher.value)) but \(error.description); "
        + "install Open MPI or MPICH, or set RECUR_MPI_LIBRARY to the path of libmpi.so")
    }
    let name = String(cString: recur_mpi_flavor()) + " " + String(cString: recur_mpi_library())
    let group = ProcessGroup(rank: Int(rank), size: Int(size), library: name)
    startedGroup = group
    return group
  }

  /// Runs a shim call that fills a message buffer; throws its message when it fails.
  private static func call(_ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
    var message = [CChar](repeating: 0, count: 600)
    let code = message.withUnsafeMutableBufferPointer { body($0.baseAddress!, $0.count) }
    if code != 0 { throw ProcessGroupError(message.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }) }
  }

  private func collective(_ what: String, _ body: (UnsafeMutablePointer<CChar>, Int) -> Int32) throws {
    do {
      try Self.call(body)
    } catch let error as ProcessGroupError {
      throw ProcessGroupError("process \(rank) of \(size): \(what) failed (did another process stop?): \(error.description)")
    }
  }

  // MARK: - Collectives

  /// Replaces `buffer` on every process by the element-wise sum over all processes.
  public func allReduceSum(_ buffer: inout [Float]) throws {
    guard size > 1, !buffer.isEmpty else { return }
    try buffer.withUnsafeMutableBufferPointer { b in
      try collective("the sum over processes") { recur_mpi_allreduce_sum_float(b.baseAddress!, b.count, $0, $1) }
    }
  }

  /// The sum of `buffer` over all processes, as consecutive all-reduces of `bucketSize` floats.
  public func allReduceSum(_ buffer: inout [Float], bucketSize: Int) throws {
    precondition(bucketSize > 0, "allReduceSum: bucketSize must be positive")
    guard size > 1, !buffer.isEmpty else { return }
    try buffer.withUnsafeMutableBufferPointer { b in
      for start in stride(from: 0, to: b.count, by: bucketSize) {
        try allReduceSum(b.baseAddress! + start, count: Swift.min(bucketSize, b.count - start))
      }
    }
  }

  /// Replaces `buffer` on every process by the element-wise sum over all processes.
  public func allReduceSum(_ buffer: inout [Double]) throws {
    guard size > 1, !buffer.isEmpty else { return }
    try buffer.withUnsafeMutableBufferPointer { b in
      try collective("the sum over processes") { recur_mpi_allreduce_sum_double(b.baseAddress!, b.count, $0, $1) }
    }
  }

  /// Sums `count` floats at `pointer` over all processes, in place.
  func allReduceSum(_ pointer: UnsafeMutablePointer<Float>, count: Int) throws {
    guard size > 1, count > 0 else { return }
    try collective("the sum over processes") { recur_mpi_allreduce_sum_float(pointer, count, $0, $1) }
  }

  /// Replaces `buffer` on every process by rank `root`'s (same count everywhere).
  public func broadcast(_ buffer: inout [Float], from root: Int = 0) throws {
    guard size > 1, !buffer.isEmpty else { return }
    try buffer.withUnsafeMutableBytes { b in
      try collective("the broadcast from process \(root)") { recur_mpi_broadcast(b.baseAddress!, b.count, Int32(root), $0, $1) }
    }
  }

  /// Rank `root`'s 64-bit words on every process (same count everywhere).
  public func broadcast(_ words: inout [UInt64], from root: Int = 0) throws {
    guard size > 1, !words.isEmpty else { return }
    try words.withUnsafeMutableBytes { b in
      try collective("the broadcast from process \(root)") { recur_mpi_broadcast(b.baseAddress!, b.count, Int32(root), $0, $1) }
    }
  }

  /// Whether `flag` is true on any process (a decision every process must take alike).
  public func any(_ flag: Bool) throws -> Bool {
    guard size > 1 else { return flag }
    var votes: [Float] = [flag ? 1 : 0]
    try allReduceSum(&votes)
    return votes[0] > 0
  }

  /// Returns when every process has called it.
  public func barrier() throws {
    guard size > 1 else { return }
    try collective("the barrier") { recur_mpi_barrier($0, $1) }
  }

  /// Ends every process of the run with exit status `code` (MPI_Abort): what a process that
  /// cannot go on does, so that the others do not wait for it.
  public func abort(code: Int32) {
    guard size > 1 else { return }
    recur_mpi_abort(code)
  }

  /// Leaves MPI (call once, at the end of a run; nothing for a single process).
  public func finalize() throws {
    guard size > 1 else { return }
    try Self.call { recur_mpi_finalize($0, $1) }
  }
}

extension ProcessGroup {
  /// The whole tensor on every process, from each process's part along `axis`: process k holds
  /// the slice `DataShard(index: k, count: size).range(of: total)` of a tensor whose `axis` has
  /// `total` entries. One sum all-reduce (each process adds its part into zeros, so the sum is exact).
  public func allGather(_ part: Tensor, axis: Int, total: Int) throws -> Tensor {
    guard size > 1 else { return part }
    precondition(axis >= 0 && axis < part.shape.count, "allGather: axis \(axis) of a \(part.shape.count)-d tensor")
    let shard = DataShard(index: rank, count: size)
    let range = shard.range(of: total)
    precondition(part.shape[axis] == range.count, "allGather: part of \(part.shape[axis]) entries along axis \(axis), expected \(range.count)")
    var shape = part.shape
    shape[axis] = total
    let outer = shape[..<axis].reduce(1, *), inner = shape[(axis + 1)...].reduce(1, *)
    var full = [Float](repeating: 0, count: outer * total * inner)
    part.withUnsafeBufferPointer { p in
      for o in 0..<outer {
        for a in 0..<range.count {
          let from = (o * range.count + a) * inner, to = (o * total + range.lowerBound + a) * inner
          for i in 0..<inner { full[to + i] = p[from + i] }
        }
      }
    }
    try allReduceSum(&full)
    return Tensor(shape: shape, scalars: full)
  }
}
