import ArgumentParser
import Foundation
import Recur

/// `recur convert OLD NEW`: rewrites a Recur 0.1 checkpoint (character language model or
/// forecaster) as a model archive of this version.
struct ConvertCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "convert",
    abstract: "Convert a Recur 0.1 checkpoint (recur train or recur forecast) to this version's model archive.",
    discussion: "The weights, vocabulary or scaler and the model's settings are kept; a 0.1 run's training state is not, so a converted language model generates and evaluates but does not --resume."
  )

  @Argument(help: ArgumentHelp("The Recur 0.1 checkpoint.", valueName: "old.safetensors")) var input: String
  @Argument(help: ArgumentHelp("Where to write the archive (not the input file).", valueName: "new.safetensors")) var output: String

  func run() throws {
    try reportingErrors { try convert() }
  }

  func convert() throws {
    let inputURL = URL(fileURLWithPath: input), outputURL = URL(fileURLWithPath: output)
    guard inputURL.standardizedFileURL != outputURL.standardizedFileURL else {
      throw CLIError("the output \(output) is the input; write the archive to another file")
    }
    try checkReadableFile(input, what: "checkpoint")
    let file = try SafeTensorsFile.read(from: inputURL)
    let metadata = file.metadata
    guard metadata[ModelArchive.Key.legacyFormat] == "1" else {
      if metadata[ModelArchive.Key.format] != nil { throw CLIError("\(input) is already a model archive of this version; nothing to convert") }
      throw CLIError("\(input) is not a Recur 0.1 checkpoint (no recur.format_version); pass a file written by recur train or recur forecast of Recur 0.1")
    }
    let producer = "Recur \(RecurVersion.current) (recur convert \(inputURL.lastPathComponent))"
    let what: String
    if metadata["recur.forecast.kind"] != nil {
      let checkpoint = try ForecastCheckpoint.convertingLegacy(file)
      try checkpoint.save(to: outputURL, producer: producer)
      what = "\(checkpoint.kind) forecaster of \(checkpoint.columns.joined(separator: ", "))"
    } else {
      var archive = try LanguageModelTask.convertLegacyCheckpoint(file)
      archive.producer = producer
      try archive.write(to: outputURL)
      what = "character language model"
    }
    print("Wrote \(output): the \(what) of \(input), as a Recur \(RecurVersion.current) model archive.")
  }
}
