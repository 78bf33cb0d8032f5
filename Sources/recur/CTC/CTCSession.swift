import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur ctc train`: a live progress line, one line per evaluation
/// (validation loss, label error rate, sequence accuracy), Ctrl-C handling.
final class CTCSession: TrainingObserver {
  let trainer: Trainer<CTCTask>
  let out: URL
  let resumeCommand: String
  let progress: ProgressLine
  private var stepping = SteppingStatus()
  private var errorRate: Double?

  /// A session writing its progress to standard error when `quiet` (standard output then carries
  /// only the final JSON).
  init(trainer: Trainer<CTCTask>, out: URL, resumeCommand: String, quiet: Bool = false) {
    progress = ProgressLine(stream: quiet ? .error : .output)
    self.trainer = trainer
    self.out = out
    self.resumeCommand = resumeCommand
  }

  func run() throws {
    let outcome = try runInterruptibly(trainer, observer: self, progress: progress, out: out, resumeCommand: resumeCommand)
    if outcome == .earlyStopped { progress.print("Stopped early at step \(trainer.step): no better validation \(trainer.options.selectionMetric ?? "loss") for \(trainer.options.patience ?? 0) evaluations.") }
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      let m = trainer.task.model.configuration
      progress.print("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")a \(m.bidirectional ? "bidirectional " : "")\(m.cell.displayName) "
        + "CTC model (\(m.numLayers) × \(m.hiddenSize), \(trainer.task.metadata.input.frameStack) frames a step, "
        + "\(ProgressLine.count(Double(trainer.task.model.parameterCount))) parameters) on \(trainer.task.train.count) sequences, "
        + "validating on \(trainer.task.validation.count); \(m.classCount - 1) labels + blank; "
        + "\(trainer.task.stepsPerEpoch) steps per epoch, \(status.totalSteps) steps at most; output \(out.path)/; Ctrl-C stops and saves")
    case .stepped(let report):
      stepping.add(report)
      progress.update(stepping.line(status, extra: errorRate.map { String(format: "  val LER %.3f", $0) } ?? ""))
    case let .evaluated(record, isBest):
      errorRate = record.metrics["label_error_rate"]
      var line = String(format: "step %6d  train %.4f", record.step, record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f  LER %.4f  seq acc %.4f", v, record.metrics["label_error_rate"] ?? .nan, record.metrics["sequence_accuracy"] ?? .nan)
        if isBest { line += " *" }
      }
      progress.print(line + "  " + ProgressLine.duration(status.trainingSeconds))
    case .ended:
      break
    }
  }
}
