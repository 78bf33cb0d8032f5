import Foundation

/// Several output files that appear together or not at all: every file is written in full and
/// flushed next to its destination first (so a missing directory, a directory in the way, a
/// full disk or a failed computation is found before anything moves), then all are moved into
/// place. A failure before the moves leaves every destination as it was.
public struct AtomicFileSet {
  private var pending: [AtomicFile.Pending] = []

  /// An empty set.
  public init() {}

  /// Whether no file has been added (or all were committed or discarded).
  public var isEmpty: Bool { pending.isEmpty }

  /// Writes `bytes` for `url` (not yet in place). On error, the files already added are discarded.
  public mutating func add(_ bytes: [UInt8], to url: URL) throws {
    try add(url) { try $0.write(bytes) }
  }

  /// Writes what `body` writes for `url` (not yet in place). On error, the files already added
  /// are discarded.
  public mutating func add(_ url: URL, _ body: (AtomicFile.Output) throws -> Void) throws {
    do {
      pending.append(try AtomicFile.prepare(url, body))
    } catch {
      discard()
      throw error
    }
  }

  /// Moves every file into place, in the order they were added.
  public mutating func commit() throws {
    defer { pending = [] }
    for (i, file) in pending.enumerated() {
      do {
        try file.commit()
      } catch {
        for rest in pending[(i + 1)...] { rest.discard() }
        throw error
      }
    }
  }

  /// Removes every file written so far; the destinations are untouched.
  public mutating func discard() {
    for file in pending { file.discard() }
    pending = []
  }
}
