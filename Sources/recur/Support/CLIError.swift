import ArgumentParser
import Foundation
import Recur

/// A user error: printed as one line on standard error, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  let description: String
  init(_ description: String) { self.description = description }
}

/// Runs `body`, turning every error into one line `error: …` on standard error and exit status 1.
/// Library errors about a parameter are told in terms of the flag that sets it (`flags`).
func reportingErrors(flags: FlagNames = .common, _ body: () throws -> Void) throws {
  do {
    try body()
  } catch let exit as ExitCode {
    OutputDirectories.removeEmptyCreated()
    throw exit
  } catch {
    OutputDirectories.removeEmptyCreated()
    let message = cliMessage(for: error, flags: flags).replacingOccurrences(of: "\n", with: " ")
    StandardStream.error.write("error: \(message)\n")
    ParallelRun.abortOthers()
    throw ExitCode.failure
  }
}

/// Prints `warning: …` on standard error.
func warn(_ message: String) { StandardStream.error.write("warning: \(message)\n") }

/// The one-line message for `error` on the command line: library errors that name a parameter
/// (or carry typed facts) are retold with the flags of `flags`; anything else is described as is.
func cliMessage(for error: Error, flags: FlagNames) -> String {
  if let reporting = error as? any InvalidParameterReporting, let p = reporting.invalidParameter, let flag = flags[p.name] {
    return "\(flag) must be \(p.expected), got \(p.value)"
  }
  switch error {
  case let e as TimeSeriesError:
    if let message = timeSeriesMessage(e, flags: flags) { return message }
  case let e as TextCorpusError:
    if let message = textCorpusMessage(e, flags: flags) { return message }
  case let e as TrainingError:
    return trainingMessage(e)
  default:
    break
  }
  return describe(error)
}

/// A training error in the words of `recur train`.
func trainingMessage(_ error: TrainingError) -> String {
  switch error {
  case .invalidSetting(let p):
    return "\(FlagNames.common[p.name] ?? p.name) must be \(p.expected), got \(p.value)"
  case .noBudget:
    return "give a budget: --steps, --epochs or --time-limit"
  case .nonFinite:
    return error.description + ". Lower --learning-rate or set --grad-clip, then resume from the last checkpoint"
  case .wrongTask, .inconsistentCheckpoint:
    return error.description + "; pass a checkpoint written by this version of recur for this command"
  }
}

/// `names` as flags, joined as "a, b or c"; nil when one of them has no flag.
private func flagList(_ names: [String], _ flags: FlagNames, conjunction: String = "or") -> String? {
  let mapped = names.compactMap { flags[$0] }
  guard mapped.count == names.count, let last = mapped.last else { return nil }
  return mapped.count == 1 ? last : mapped.dropLast().joined(separator: ", ") + " \(conjunction) " + last
}

private func timeSeriesMessage(_ error: TimeSeriesError, flags: FlagNames) -> String? {
  switch error {
  case .missingColumn(let column, let source, let available):
    guard let flag = flags["columns"] else { return nil }
    return "\(flag): no column '\(column)' in \(source); its columns are: \(available.joined(separator: ", "))"
  case .columnSelectedTwice(let column, _):
    guard let flag = flags["columns"] else { return nil }
    return "\(flag): '\(column)' is given twice; name each column once"
  case .emptyCell(let source, let line, let column):
    guard let flag = flags["missing"] else { return nil }
    return "\(source) line \(line), column '\(column)' has a missing value; fill the file or pass \(flag) interpolate or \(flag) drop"
  case .seriesTooShort(let rows, let needed, let lookback, let horizon, let validationRows, let testRows):
    let knobs = ["lookback", "horizon"] + (validationRows > 0 ? ["validationFraction"] : []) + ["testFraction"]
    guard let smaller = flagList(knobs, flags) else { return nil }
    return "the series has \(rows) rows but lookback \(lookback) + horizon \(horizon)"
      + (validationRows > 0 ? " + validation \(validationRows)" : "")
      + " + a test part of \(testRows) rows need \(needed); use a longer series or a smaller \(smaller)"
  case .tooFewWindowsToSelect(let windows, let parameters):
    guard let set = flagList(parameters, flags, conjunction: "and") else { return nil }
    return "too few training windows (\(windows)) to choose \(set) on held-out data; "
      + "pass \(parameters.count == 1 ? "it" : "them"), or use a longer series"
  default:
    return nil
  }
}

private func textCorpusMessage(_ error: TextCorpusError, flags: FlagNames) -> String? {
  switch error.reason {
  case .tooShortForBatches(let part, let characters, let batchSize, let seqLength):
    guard let b = flags["batchSize"], let t = flags["seqLength"] else { return nil }
    // The part's name, without any parenthesised note a caller added.
    let name = part.split(separator: " ").first.map(String.init) ?? part
    let larger = name == "validation" ? flags["validationFraction"].map { ", or a larger \($0)" } ?? "" : ""
    return "the \(name) part has \(characters) characters: too few for \(b) \(batchSize) × (\(t) \(seqLength) + 1) = "
      + "\(batchSize * (seqLength + 1)); use a longer corpus or a smaller \(b) or \(t)\(larger)"
  case .shorterThanOneWindow(let source, let characters, let seqLength):
    guard let t = flags["seqLength"] else { return nil }
    return "corpus \(source) has \(characters) characters, fewer than \(t) + 1 = \(seqLength + 1); use a longer text or a smaller \(t)"
  case .bundledCorpusMissing(let name):
    guard let flag = flags["corpus"] else { return nil }
    return "the bundled corpus \(name).txt is missing from the Recur resources; reinstall Recur or pass a text file with \(flag)"
  case .unusableFile, .other:
    return nil
  }
}

/// The user-facing text of an error: its description, or Foundation's localized description for
/// system errors (file not found, permission denied…), which describe themselves poorly.
private func describe(_ error: Error) -> String {
  error is CocoaError ? error.localizedDescription : "\(error)"
}
