import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur seq2seq train`: a live progress line, one line per evaluation,
/// Ctrl-C (stop and save) and the closing summary.
final class Seq2SeqSession: TrainingObserver {
  let trainer: Trainer<Seq2SeqTask>
  let out: URL
  let progress = ProgressLine()
  private var stepping = SteppingStatus()
  private var wer: Double?

  init(trainer: Trainer<Seq2SeqTask>, out: URL) {
    self.trainer = trainer
    self.out = out
  }

  func path(_ name: String) -> String { shellQuoted(out.appendingPathComponent(name).path) }

  func run() throws {
    _ = try runInterruptibly(trainer, observer: self, progress: progress, out: out,
                             resumeCommand: "\(invocation) seq2seq train --resume \(path(TrainingOutputFile.last))")
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      let task = trainer.task, m = task.model.configuration
      let attention = m.attention.map { "\($0.rawValue) attention\(m.inputFeeding ? " with input feeding" : "")" } ?? "no attention"
      progress.print("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")an \(m.cell.displayName) encoder-decoder, "
        + "\(m.bidirectional ? "bidirectional " : "")\(m.numLayers) × \(m.hiddenSize), \(attention), "
        + "\(ProgressLine.count(Double(task.model.parameterCount))) parameters; \(task.sources.count) training pairs, "
        + "\(task.validation.count) validation sources, \(task.vocabulary.source.count)/\(task.vocabulary.target.count) "
        + "source/target tokens, \(task.stepsPerEpoch) steps per epoch")
    case .stepped(let report):
      stepping.add(report)
      progress.update(stepping.line(status, extra: wer.map { String(format: "  val WER %.4f", $0) } ?? ""))
    case let .evaluated(record, isBest):
      wer = record.metrics["wer"]
      var line = String(format: "step %6d  train %.4f", record.step, record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f  greedy WER %.4f  TER %.4f", v, wer ?? .nan, record.metrics["ter"] ?? .nan) + (isBest ? " *" : "")
      }
      progress.print(line)
    case .ended:
      break
    }
  }
}
