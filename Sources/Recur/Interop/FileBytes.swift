import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A file opened for reading with POSIX calls, so failures carry `errno` and never trap.
struct ReadableFile: ~Copyable {
  let path: String
  let format: String
  private let fd: Int32
  /// Size in bytes at the time of opening.
  let size: Int

  init(path: String, format: String) throws {
    self.path = path
    self.format = format
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else {
      let code = errno
      throw IOError(.fileSystem, format: format, path: path, problem: "cannot open: \(String(cString: strerror(code)))",
                    remedy: code == ENOENT ? "Check the path" : "Check the path and its permissions")
    }
    var info = stat()
    guard fstat(fd, &info) == 0 else {
      let code = errno
      close(fd)
      throw IOError(.fileSystem, format: format, path: path, problem: "cannot stat: \(String(cString: strerror(code)))", remedy: "Check the path and its permissions")
    }
    guard (info.st_mode & S_IFMT) == S_IFREG else {
      close(fd)
      let what = (info.st_mode & S_IFMT) == S_IFDIR ? "a directory" : "not a regular file"
      throw IOError(.fileSystem, format: format, path: path, problem: "is \(what)", remedy: "Pass the path of a .\(format) file")
    }
    self.fd = fd
    self.size = Int(info.st_size)
  }

  deinit { close(fd) }

  /// Reads `count` bytes starting at `offset`; throws `.truncated` if the file is shorter.
  func read(count: Int, at offset: Int) throws -> [UInt8] {
    guard count > 0 else { return [] }
    return try [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
      var done = 0
      while done < count {
        let n = pread(fd, buffer.baseAddress! + done, count - done, off_t(offset + done))
        if n < 0 {
          if errno == EINTR { continue }
          let code = errno
          throw IOError(.fileSystem, format: format, path: path, problem: "read failed: \(String(cString: strerror(code)))", remedy: "Check the disk and retry")
        }
        if n == 0 {
          throw IOError(.truncated, format: format, path: path,
                        problem: "file ended after \(offset + done) bytes while reading (it shrank while being read?)",
                        remedy: "Make sure no other process is writing the file, then retry")
        }
        done += n
      }
      initialized = count
    }
  }

  /// The whole file.
  func readAll() throws -> [UInt8] { try read(count: size, at: 0) }
}
