import ArgumentParser
import Foundation
import Recur

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
  } catch let error as TrainingError {
    fputs("error: \(SettingFlags.message(error))\n", stderr)
    throw ExitCode.failure
  } catch {
    let message = describe(error).replacingOccurrences(of: "\n", with: " ")
    fputs("error: \(message)\n", stderr)
    throw ExitCode.failure
  }
}

/// Prints `warning: …` on standard error.
func warn(_ message: String) { fputs("warning: \(message)\n", stderr) }

/// The user-facing text of an error: its description, or Foundation's localized description for
/// system errors (file not found, permission denied…), which describe themselves poorly.
private func describe(_ error: Error) -> String {
  error is CocoaError ? error.localizedDescription : "\(error)"
}
