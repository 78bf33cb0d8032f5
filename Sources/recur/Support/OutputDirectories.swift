import Foundation

/// Creates output directories (with their parents) and remembers the ones this process created,
/// so that a command that fails removes those still empty: a failed run leaves nothing new.
enum OutputDirectories {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var created: [String] = []

  /// Creates `url` and any missing parent; throws a one-line `CLIError` when that is impossible.
  static func create(_ url: URL) throws {
    var missing: [URL] = []
    var dir = url.standardizedFileURL
    while !FileManager.default.fileExists(atPath: dir.path), dir.path != "/" {
      missing.append(dir)
      dir = dir.deletingLastPathComponent()
    }
    do {
      try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    } catch {
      throw CLIError("cannot create output directory \(url.path): \(error.localizedDescription)")
    }
    lock.lock()
    created += missing.map(\.path)
    lock.unlock()
  }

  /// Removes the directories created by `create(_:)` that are empty, deepest first.
  static func removeEmptyCreated() {
    lock.lock()
    defer { lock.unlock() }
    for path in created.sorted(by: { $0.count > $1.count }) { rmdir(path) }
    created = []
  }
}
