import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur tag train`: a live progress line, one line per evaluation, Ctrl-C
/// (stop and save) and the closing summary.
final class TaggingSession: TrainingObserver {
  let trainer: Trainer<TaggingTask>
  let out: URL
  let progress = ProgressLine()
  private var stepping = SteppingStatus()
  private var accuracy: Double?

  init(trainer: Trainer<TaggingTask>, out: URL) {
    self.trainer = trainer
    self.out = out
  }

  func path(_ name: String) -> String { shellQuoted(out.appendingPathComponent(name).path) }

  func run() throws {
    _ = try runInterruptibly(trainer, observer: self, progress: progress, out: out,
                             resumeCommand: "\(invocation) tag train --resume \(path(TrainingOutputFile.last))")
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      let task = trainer.task, m = task.model.configuration
      progress.print("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")a word + character "
        + "\(m.cell.displayName) tagger\(m.crf ? " with a CRF" : ""): \(m.numLayers) × \(m.hiddenSize) per direction, "
        + "\(ProgressLine.count(Double(task.model.parameterCount))) parameters; \(task.train.count) training and "
        + "\(task.validation.count) validation sentences, \(task.vocabulary.tags.count) tags, \(task.stepsPerEpoch) steps per epoch")
    case .stepped(let report):
      stepping.add(report)
      progress.update(stepping.line(status, extra: accuracy.map { String(format: "  val acc %.4f", $0) } ?? ""))
    case let .evaluated(record, isBest):
      accuracy = record.metrics["accuracy"]
      var line = String(format: "step %6d  train %.4f", record.step, record.trainLoss)
      if let v = record.validationLoss { line += String(format: "  val %.4f  acc %.4f", v, accuracy ?? .nan) + (isBest ? " *" : "") }
      progress.print(line)
    case .ended:
      break
    }
  }
}
