#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Musl)
@preconcurrency import Musl
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

#if os(Linux)
/// Drops the unwritten contents of a stream's buffer (glibc's `__fpurge`).
@_silgen_name("__fpurge") private func fpurge_compat(_ stream: UnsafeMutablePointer<FILE>) -> Void
#endif

// C declares `stdout` and `stderr` as mutable globals, so Swift 6 rejects every read of them. This
// program never reassigns them and stdio locks each FILE itself, so reading them is safe: the
// `@preconcurrency` import above says so once, here, instead of at every call site.

/// C's standard output and error, the streams `print` writes to (so text written here and printed
/// text stay in order).
enum StandardStream {
  case output, error

  private var file: UnsafeMutablePointer<FILE> {
    switch self {
    case .output: stdout
    case .error: stderr
    }
  }

  /// The file descriptor (for `isatty`).
  var descriptor: Int32 { self == .output ? STDOUT_FILENO : STDERR_FILENO }

  /// Writes `text` as is (no newline added).
  func write(_ text: String) { fputs(text, file) }

  /// Sends what is buffered to the terminal, file or pipe.
  func flush() { fflush(file) }

  /// Whether a write to the stream failed (a full disk, a closed pipe with SIGPIPE ignored).
  var hasFailed: Bool { ferror(file) != 0 }

  /// Forgets a failed write (after the command reported it itself) and drops what is buffered.
  func discardFailure() {
    #if os(Linux)
    fpurge_compat(file)
    #else
    fpurge(file)
    #endif
    clearerr(file)
  }

  /// Makes the process end with status 1 and a one-line message when standard output could not
  /// be written in full (`> /dev/full`, a full disk): the output is lost, so success would lie.
  /// A reader that closes a pipe early (`| head`) still ends the process with SIGPIPE, as usual.
  static func failOnLostOutputAtExit() {
    atexit {
      let flushed = fflush(stdout) == 0
      if !flushed || ferror(stdout) != 0 {
        fputs("error: cannot write to standard output (\(String(cString: strerror(errno)))); the output is incomplete\n", stderr)
        _exit(1)
      }
    }
  }
}
