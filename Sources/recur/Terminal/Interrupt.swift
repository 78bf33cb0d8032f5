import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns Ctrl-C (SIGINT) into a request the training loop polls between steps, so the step in
/// flight finishes and its checkpoint is written whole. A second Ctrl-C exits at once (status
/// 130); files being replaced atomically are then left as they were.
enum Interrupt {
  /// Set by the signal handler (a plain word store is async-signal-safe).
  nonisolated(unsafe) private static var count: Int32 = 0

  /// Installs the handler, and unblocks SIGINT on this thread (a parent such as a test runner
  /// may have started us with it blocked, which would leave Ctrl-C pending forever).
  static func install() {
    var set = sigset_t()
    sigemptyset(&set)
    sigaddset(&set, SIGINT)
    pthread_sigmask(SIG_UNBLOCK, &set, nil)
    signal(SIGINT) { _ in
      Interrupt.count += 1
      if Interrupt.count >= 2 { _exit(130) }
    }
  }

  /// Whether Ctrl-C was pressed since `install()`.
  static var requested: Bool {
    // An opaque read per poll: the handler may change the value at any time.
    withUnsafeMutablePointer(to: &count) { p in UnsafeMutableRawPointer(p).load(as: Int32.self) } > 0
  }

  /// Restores the default action (a later Ctrl-C kills the process).
  static func uninstall() { signal(SIGINT, SIG_DFL) }
}
