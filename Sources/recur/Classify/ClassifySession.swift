import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur classify train`: a live progress line, one line per evaluation
/// (validation loss, accuracy, macro-F1), Ctrl-C handling.
final class ClassifySession: TrainingObserver {
  let trainer: Trainer<ClassificationTask>
  let out: URL
  let progress: ProgressLine
  private var stepping = SteppingStatus()
  private var accuracy: Double?

  /// A session writing its progress to standard error when `quiet` (standard output then carries
  /// only the final JSON).
  init(trainer: Trainer<ClassificationTask>, out: URL, quiet: Bool = false) {
    progress = ProgressLine(stream: quiet ? .error : .output)
    self.trainer = trainer
    self.out = out
  }

  func run() throws {
    let last = shellQuoted(out.appendingPathComponent(TrainingOutputFile.last).path)
    let outcome = try runInterruptibly(trainer, observer: self, progress: progress, out: out,
                                       resumeCommand: "\(invocation) classify train --data FILE --resume \(last)")
    if outcome == .earlyStopped { progress.print("Stopped early at step \(trainer.step): no better validation \(trainer.options.selectionMetric ?? "loss") for \(trainer.options.patience ?? 0) evaluations.") }
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      let m = trainer.task.model.configuration
      progress.print("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")a \(m.bidirectional ? "bidirectional " : "")\(m.cell.displayName) "
        + "classifier (\(m.numLayers) × \(m.hiddenSize), \(m.pooling.rawValue) pooling, \(ProgressLine.count(Double(trainer.task.model.parameterCount))) parameters) "
        + "on \(trainer.task.train.count) sequences, validating on \(trainer.task.validation.count); \(m.classCount) classes; "
        + "\(trainer.task.stepsPerEpoch) steps per epoch, \(status.totalSteps) steps at most; output \(out.path)/; Ctrl-C stops and saves")
    case .stepped(let report):
      stepping.add(report)
      progress.update(stepping.line(status, extra: accuracy.map { String(format: "  val acc %.3f", $0) } ?? ""))
    case let .evaluated(record, isBest):
      accuracy = record.metrics["accuracy"]
      var line = String(format: "step %6d  train %.4f", record.step, record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f  acc %.4f  macro-F1 %.4f", v, record.metrics["accuracy"] ?? .nan, record.metrics["macro_f1"] ?? .nan)
        if isBest { line += " *" }
      }
      progress.print(line)
    case .ended:
      break
    }
  }
}
