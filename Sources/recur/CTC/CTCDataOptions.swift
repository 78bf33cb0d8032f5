import ArgumentParser
import Foundation
import Recur

/// `--data`, `--labels` and the column flags: frames joined with label strings.
struct CTCDataOptions: ParsableArguments {
  @Option(help: ArgumentHelp("Frames CSV: one row per frame (id, frame, c0 … cK).", valueName: "file")) var data: String
  @Option(help: ArgumentHelp("CSV with one row per sequence: id, label (a string) and an optional split.", valueName: "file")) var labels: String?
  @Option(name: .customLong("id-column"), help: "Column of the sequence id in both files (default id).") var idColumn = "id"
  @Option(name: .customLong("step-column"), help: "Column of the frame number in the frames CSV (default frame).") var stepColumn = "frame"
  @Option(name: .customLong("label-column"), help: "Column of the label string in --labels (default label).") var labelColumn = "label"

  /// The sequences of `--data` joined with `--labels` (required when `needsLabels`).
  func read(needsLabels: Bool) throws -> TranscribedSequenceSet {
    if needsLabels && labels == nil { throw CLIError("--labels FILE is required: one row per sequence with its id and label string") }
    return try TranscribedSequenceSet.readJoined(features: URL(fileURLWithPath: data), labels: labels.map { URL(fileURLWithPath: $0) },
                                                 idColumn: idColumn, stepColumn: stepColumn, labelColumn: labelColumn)
  }
}

/// The saved model of a CTC checkpoint with its configuration.
func loadCTCModel(_ path: String) throws -> (model: CTCModel, saved: CTCArchive) {
  try CTCTask.loadModel(from: loadArchive(path))
}
