import ArgumentParser
import Foundation
import Recur

/// The terminal side of a task's `train` subcommand (`classify`, `tag`, `seq2seq`, `ctc`…): a
/// starting line, a live progress line, one line per evaluation with the task's metrics, Ctrl-C
/// (stop, save, print the resume command) and the early-stopping note. A task supplies only its
/// words: what it trains and which metrics it shows.
final class TaskTrainingSession<Task: TrainingTask>: TrainingObserver {
  /// One metric of `Evaluation.metrics` as the session prints it.
  struct Metric {
    /// The key in the evaluation's metrics ("accuracy", "wer"…).
    let key: String
    /// Its label on the evaluation line ("acc", "greedy WER"…).
    let label: String
    /// Its label on the live progress line, nil to leave it out there.
    let live: String?

    init(_ key: String, _ label: String, live: String? = nil) {
      self.key = key
      self.label = label
      self.live = live
    }
  }

  let trainer: Trainer<Task>
  let out: URL
  let progress: ProgressLine
  /// What is trained, after "Training " (e.g. "a bidirectional LSTM classifier (…) on 1,000 sequences").
  let subject: String
  let metrics: [Metric]
  let resumeCommand: String?
  private var stepping = SteppingStatus()
  private var lastEvaluation: [String: Double] = [:]

  /// A session for `trainer` writing to `out`; progress goes to standard error when `quiet`
  /// (standard output then carries only the final JSON). `resumeArguments` follow `recur` in the
  /// printed resume command, before `--resume LAST`; nil for a command that cannot resume.
  init(trainer: Trainer<Task>, out: URL, subject: String, metrics: [Metric], resumeArguments: String?, quiet: Bool = false) {
    progress = ProgressLine(stream: quiet ? .error : .output)
    self.trainer = trainer
    self.out = out
    self.subject = subject
    self.metrics = metrics
    resumeCommand = resumeArguments.map { "\(invocation) \($0) --resume \(shellQuoted(out.appendingPathComponent(TrainingOutputFile.last).path))" }
  }

  /// Trains to the end of the budget, a stopping rule or Ctrl-C (exit code 130 after saving).
  func run() throws {
    let outcome = try runInterruptibly(trainer, observer: self, progress: progress, out: out, resumeCommand: resumeCommand)
    if outcome == .earlyStopped {
      progress.print("Stopped early at step \(trainer.step): no better validation \(trainer.options.selectionMetric ?? "loss") "
                     + "for \(trainer.options.patience ?? 0) evaluations.")
    }
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      progress.print("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")\(subject); "
                     + "\(trainer.task.stepsPerEpoch) steps per epoch, \(status.totalSteps) steps at most; output \(out.path)/; Ctrl-C stops and saves")
    case .stepped(let report):
      stepping.add(report)
      let live = metrics.compactMap { m in m.live.flatMap { label in lastEvaluation[m.key].map { String(format: "  %@ %.4f", label, $0) } } }
      progress.update(stepping.line(status, extra: live.joined()))
    case let .evaluated(record, isBest):
      lastEvaluation = record.metrics
      var line = String(format: "step %6d  train %.4f", record.step, record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f", v)
        for m in metrics { line += String(format: "  %@ %.4f", m.label, record.metrics[m.key] ?? .nan) }
        if isBest { line += " *" }
      }
      progress.print(line + "  " + ProgressLine.duration(status.trainingSeconds))
    case .ended:
      break
    }
  }
}
