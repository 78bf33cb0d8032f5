import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Writes files so that a crash, a kill or a full disk at any moment leaves either the old file or
/// the complete new one at the destination, never a mixture or a torn file.
///
/// The recipe (the one SQLite, git and LMDB rely on): write a temporary file *in the same
/// directory* (rename is only atomic within one file system), `fsync` it so its blocks are on disk
/// before its name is, `rename(2)` it over the destination (atomic replacement on POSIX), then
/// `fsync` the directory so the rename itself survives a power cut. On any error the temporary
/// file is removed and the destination is untouched. A process killed mid-write leaves a
/// `.NAME.tmp-PID-…` file next to the destination; the next write of that name removes it once
/// process PID is gone.
public enum AtomicFile {
  /// Atomically replaces (or creates) the file at `url` with `bytes`.
  public static func write(_ bytes: [UInt8], to url: URL) throws {
    try write(to: url) { try $0.write(bytes) }
  }

  /// Atomically replaces (or creates) the file at `url` with whatever `body` writes to the output,
  /// which lets large files be written piece by piece without building them in memory. If `body`
  /// throws, the destination is untouched and the error is rethrown.
  public static func write(to url: URL, _ body: (Output) throws -> Void) throws {
    try prepare(url, body).commit()
  }

  /// A file written in full next to its destination and flushed, not yet in place: `commit()`
  /// moves it there, `discard()` removes it. Several of them make a set of outputs that appear
  /// together or not at all (``AtomicFileSet``).
  public final class Pending {
    let temporary: String
    let path: String
    let format: String
    private(set) var isDone = false

    init(temporary: String, path: String, format: String) {
      self.temporary = temporary
      self.path = path
      self.format = format
    }

    /// Moves the file over its destination (atomic replacement) and makes the rename durable.
    public func commit() throws {
      precondition(!isDone, "AtomicFile.Pending committed or discarded twice")
      isDone = true
      if temporary.isEmpty { return }  // written in place (a device or a pipe)
      if rename(temporary, path) != 0 {
        let code = errno
        unlink(temporary)
        throw IOError(.fileSystem, format: format, path: path,
                      problem: "cannot rename the temporary file over the destination: \(String(cString: strerror(code)))",
                      remedy: "Check that the destination is not a directory and is writable")
      }
      // Some file systems refuse fsync on directories; the data is safe regardless.
      let directory = (path as NSString).deletingLastPathComponent
      let dirfd = posixOpen(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
      if dirfd >= 0 {
        _ = fsync(dirfd)
        close(dirfd)
      }
    }

    /// Removes the temporary file; the destination is untouched.
    public func discard() {
      guard !isDone else { return }
      isDone = true
      if !temporary.isEmpty { unlink(temporary) }
    }

    deinit { discard() }
  }

  /// Writes what `body` writes to a flushed temporary file next to `url` and returns it, not yet
  /// in place. An existing destination that is not a regular file (`/dev/stdout`, `/dev/full`, a
  /// named pipe) is written in place instead: renaming over it would replace the device.
  /// Throws `IOError.fileSystem` when the destination is a directory, its directory is missing
  /// or unwritable, or a write fails (a full disk); nothing is left behind then.
  public static func prepare(_ url: URL, _ body: (Output) throws -> Void) throws -> Pending {
    let path = url.path
    let directory = url.deletingLastPathComponent().path
    let name = url.lastPathComponent
    let format = url.pathExtension.isEmpty ? "file" : url.pathExtension

    func failure(_ what: String, _ code: Int32, remedy: String) -> IOError {
      IOError(.fileSystem, format: format, path: path, problem: "\(what): \(String(cString: strerror(code)))", remedy: remedy)
    }
    let spaceRemedy = "Free disk space or choose another directory; the previous file (if any) is untouched"

    var existing = stat()
    let exists = stat(path, &existing) == 0
    if exists && (existing.st_mode & S_IFMT) == S_IFDIR {
      throw IOError(.fileSystem, format: format, path: path, problem: "the destination is a directory",
                    remedy: "Choose a file name, not a directory")
    }
    if exists && (existing.st_mode & S_IFMT) != S_IFREG {
      // A device or a pipe: write in place.
      let fd = open(path, O_WRONLY | O_CLOEXEC)
      guard fd >= 0 else { throw failure("cannot open", errno, remedy: "Check that the destination is writable") }
      defer { close(fd) }
      let output = Output(fd: fd, fail: { failure("write failed", $0, remedy: spaceRemedy) })
      try body(output)
      output.isOpen = false
      return Pending(temporary: "", path: path, format: format)
    }

    removeStaleTemporaries(of: name, in: directory)
    // 1. A fresh temporary file next to the destination (O_EXCL: never reuse another writer's).
    var temporary = ""
    var fd: Int32 = -1
    for _ in 0..<16 {
      let tag = String(UInt64.random(in: 0...UInt64.max), radix: 16)
      temporary = (directory.isEmpty ? "" : directory + "/") + ".\(name).tmp-\(getpid())-\(tag)"
      fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
      if fd >= 0 || errno != EEXIST { break }
    }
    guard fd >= 0 else {
      throw failure("cannot create a temporary file in \(directory)", errno, remedy: "Check that the directory exists and is writable")
    }
    var fdOpen = true
    do {
      // Keep the permissions of the file being replaced (a private checkpoint stays private).
      if exists { _ = fchmod(fd, existing.st_mode & 0o7777) }
      // 2. Write everything.
      let output = Output(fd: fd, fail: { failure("write failed", $0, remedy: spaceRemedy) })
      try body(output)
      output.isOpen = false
      // 3. Data on disk before the name points at it.
      while fsync(fd) != 0 {
        if errno == EINTR { continue }
        throw failure("fsync failed", errno, remedy: spaceRemedy)
      }
      fdOpen = false
      if close(fd) != 0 && errno != EINTR { throw failure("close failed", errno, remedy: spaceRemedy) }
    } catch {
      if fdOpen { close(fd) }
      unlink(temporary)
      throw error
    }
    return Pending(temporary: temporary, path: path, format: format)
  }

  /// Removes `.NAME.tmp-PID-…` files left next to `name` by processes that no longer exist
  /// (killed mid-write); temporaries of live processes are left alone.
  static func removeStaleTemporaries(of name: String, in directory: String) {
    let prefix = ".\(name).tmp-"
    guard let entries = try? FileManager.default.contentsOfDirectory(atPath: directory.isEmpty ? "." : directory) else { return }
    for entry in entries where entry.hasPrefix(prefix) {
      let rest = entry.dropFirst(prefix.count)
      guard let pidText = rest.split(separator: "-").first, let pid = Int32(pidText), pid > 0 else { continue }
      if kill(pid, 0) != 0 && errno == ESRCH {
        unlink((directory.isEmpty ? "" : directory + "/") + entry)
      }
    }
  }

  /// The destination of an atomic write: bytes written here go to the temporary file.
  public final class Output {
    private let fd: Int32
    private let fail: (Int32) -> IOError
    fileprivate var isOpen = true
    /// Bytes written so far.
    public private(set) var byteCount = 0

    fileprivate init(fd: Int32, fail: @escaping (Int32) -> IOError) {
      self.fd = fd
      self.fail = fail
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: UnsafeRawBufferPointer) throws {
      precondition(isOpen, "AtomicFile.Output used after its write(to:) body returned")
      var done = 0
      while done < bytes.count {
        let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
        if n < 0 {
          if errno == EINTR { continue }
          throw fail(errno)
        }
        done += n
      }
      byteCount += done
    }

    /// Appends `bytes` to the file.
    public func write(_ bytes: [UInt8]) throws {
      try bytes.withUnsafeBytes { try write($0) }
    }
  }
}

// `write` is shadowed inside `Output` by its own method; these name the C functions unambiguously.
@inline(__always) private func posixOpen(_ path: String, _ flags: Int32) -> Int32 { open(path, flags) }
@inline(__always) private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int { write(fd, buffer, count) }
