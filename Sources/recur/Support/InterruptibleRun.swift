import ArgumentParser
import Foundation
import Recur

/// Runs `trainer` with `observer` attached and Ctrl-C wired to a stop request, finishing
/// `progress` whatever happens. A stopped run prints where it saved and `resumeCommand` (nil: a
/// note that the command cannot resume), then exits with status 130; other outcomes are returned.
func runInterruptibly<Task: TrainingTask>(_ trainer: Trainer<Task>, observer: any TrainingObserver, progress: ProgressLine,
                                          out: URL, resumeCommand: String?) throws -> TrainingOutcome {
  trainer.observers.append(observer)
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
    let last = out.appendingPathComponent(TrainingOutputFile.last)
    if FileManager.default.fileExists(atPath: last.path) {
      print("Interrupted after step \(trainer.step): saved \(shellQuoted(last.path)).")
      print(resumeCommand.map { "Resume with: \($0)" } ?? "This command does not resume; the checkpoint loads for eval and predict.")
    } else {
      print("Interrupted before the first step; nothing to save.")
    }
    throw ExitCode(130)
  }
  return outcome
}

/// The smoothed training loss of a run's steps and the status line a task's progress shows.
struct SteppingStatus {
  private(set) var smoothedLoss: Double?
  let wallStart = ProgressLine.now()

  /// Folds one step's loss into the running average.
  mutating func add(_ report: StepReport) {
    smoothedLoss = smoothedLoss.map { 0.95 * $0 + 0.05 * Double(report.loss) } ?? Double(report.loss)
  }

  /// `step n/N  p%  train x.xxx` + `extra` + the elapsed time.
  func line(_ status: TrainingStatus, extra: String = "") -> String {
    "step \(status.step)/\(status.totalSteps)" + String(format: " %3.0f%%  train %.3f", status.progress * 100, smoothedLoss ?? .nan)
      + extra + "  \(ProgressLine.duration(ProgressLine.now() - wallStart)) elapsed"
  }
}
