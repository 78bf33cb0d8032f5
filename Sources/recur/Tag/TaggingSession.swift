import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur tag train`: a live progress line, one line per evaluation, Ctrl-C
/// (stop and save) and the closing summary.
final class TaggingSession: TrainingObserver {
  let trainer: Trainer<TaggingTask>
  let out: URL
  let progress = ProgressLine()
  private var wallStart = 0.0, startStep = 0
  private var smoothedLoss: Double?, accuracy: Double?

  init(trainer: Trainer<TaggingTask>, out: URL) {
    self.trainer = trainer
    self.out = out
  }

  func path(_ name: String) -> String { shellQuoted(out.appendingPathComponent(name).path) }

  func run() throws {
    startStep = trainer.step
    wallStart = ProgressLine.now()
    trainer.observers.append(self)
    trainer.stopRequested = { Interrupt.requested }
    Interrupt.install()
    defer { Interrupt.uninstall() }
    let outcome: TrainingOutcome
    do {
      outcome = try trainer.run()
    } catch {
      progress.finish()
      throw error
    }
    progress.finish()
    if outcome == .stopped {
      print("Interrupted after step \(trainer.step): saved \(path(TrainingOutputFile.last)).")
      print("Resume with: \(invocation) tag train --resume \(path(TrainingOutputFile.last))")
      throw ExitCode(130)
    }
    let seconds = ProgressLine.now() - wallStart
    print("Finished \(trainer.step - startStep) steps in \(ProgressLine.duration(seconds))"
      + (outcome == .earlyStopped ? " (early stop: no better validation loss)" : "") + ".")
    if let best = trainer.log.best {
      let record = trainer.log.records.first { $0.step == best.step }
      print(String(format: "Best validation loss %.4f at step %d, token accuracy %.4f.", best.loss, best.step, record?.metrics["accuracy"] ?? .nan))
    }
    print("Files: \(out.path)/{\(TrainingOutputFile.best),\(TrainingOutputFile.last),\(TrainingOutputFile.metrics)}")
    print("Evaluate: \(invocation) tag eval --checkpoint \(path(TrainingOutputFile.best)) --data FILE")
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
      smoothedLoss = smoothedLoss.map { 0.95 * $0 + 0.05 * Double(report.loss) } ?? Double(report.loss)
      var text = "step \(status.step)/\(status.totalSteps)" + String(format: " %3.0f%%  train %.3f", status.progress * 100, smoothedLoss ?? .nan)
      text += accuracy.map { String(format: "  val acc %.4f", $0) } ?? ""
      text += "  \(ProgressLine.duration(ProgressLine.now() - wallStart)) elapsed"
      progress.update(text)
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
