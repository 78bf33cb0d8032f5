import ArgumentParser
import Foundation

/// A user error: printed as one line on standard error, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs `body`, turning every error into one line `error: …` on standard error and exit status 1.
func reportingErrors(_ body: () throws -> Void) throws {
  do {
    try body()
  } catch let exit as ExitCode {
    throw exit
  } catch {
    let message = describe(error).replacingOccurrences(of: "\n", with: " ")
    StandardStream.error.write("error: \(message)\n")
    throw ExitCode.failure
  }
}

/// Prints `warning: …` on standard error.
func warn(_ message: String) { StandardStream.error.write("warning: \(message)\n") }

/// The user-facing text of an error: its description, or Foundation's localized description for
/// system errors (file not found, permission denied…), which describe themselves poorly.
private func describe(_ error: Error) -> String {
  error is CocoaError ? error.localizedDescription : "\(error)"
}
