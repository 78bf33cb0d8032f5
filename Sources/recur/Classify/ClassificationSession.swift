import Foundation
import Recur

/// The terminal session of `recur classify train` and `classify series`: the generic
/// ``TaskTrainingSession`` with a classifier's description and accuracy / macro-F1 columns.
/// `resumeArguments` nil: the command cannot resume (the interruption note then says so).
func classificationSession(_ trainer: Trainer<ClassificationTask>, out: URL, resumeArguments: String?, quiet: Bool)
  -> TaskTrainingSession<ClassificationTask> {
  let task = trainer.task, m = task.model.configuration
  let subject = "a \(m.bidirectional ? "bidirectional " : "")\(m.cell.displayName) classifier (\(m.numLayers) × \(m.hiddenSize), "
    + "\(m.pooling.rawValue) pooling, \(ProgressLine.count(Double(task.model.parameterCount))) parameters) on \(task.train.count) sequences, "
    + "validating on \(task.validation.count); \(m.classCount) classes"
  return TaskTrainingSession(trainer: trainer, out: out, subject: subject,
                             metrics: [.init("accuracy", "acc", live: "val acc"), .init("macro_f1", "macro-F1")],
                             resumeArguments: resumeArguments, quiet: quiet)
}
