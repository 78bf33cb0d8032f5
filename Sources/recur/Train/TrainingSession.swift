import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur train`: observes the `Trainer` with a live progress line,
/// samples, the loss plot, Ctrl-C handling and the closing summary.
final class TrainingSession: TrainingObserver {
  let trainer: Trainer<LanguageModelTask>
  let out: URL
  let progress = ProgressLine()
  let sampleEvery: Int
  let sampleLength: Int
  let corpusArgument: String?
  private var startStep = 0
  private var wallStart = 0.0
  private var smoothedLoss: Double?
  private var tokensPerSecond: Double?
  private var validation: Double?
  private var bestStep: Int?

  static let plotName = "loss.svg"

  init(trainer: Trainer<LanguageModelTask>, out: URL, sampleEvery: Int, sampleLength: Int, corpusArgument: String?) {
    self.trainer = trainer
    self.out = out
    self.sampleEvery = sampleEvery
    self.sampleLength = sampleLength
    self.corpusArgument = corpusArgument
  }

  func path(_ name: String) -> String { shellQuoted(out.appendingPathComponent(name).path) }

  func run() throws {
    startStep = trainer.step
    wallStart = ProgressLine.now()
    validation = trainer.log.records.last?.validationLoss
    bestStep = trainer.log.best?.step
    let resume = "\(invocation) train --resume \(path(TrainingOutputFile.last))"
    do {
      _ = try runInterruptibly(trainer, observer: self, progress: progress, out: out, resumeCommand: resume)
    } catch let error as TrainingError {
      if case .nonFinite = error {
        let kept = FileManager.default.fileExists(atPath: out.appendingPathComponent(TrainingOutputFile.last).path)
          ? "the last good checkpoint \(path(TrainingOutputFile.last)) is intact (step \(trainer.log.records.last?.step ?? 0))"
          : "no checkpoint had been written yet"
        throw CLIError("\(trainingMessage(error)); \(kept)")
      }
      throw error
    }
    print(try summary(wallSeconds: ProgressLine.now() - wallStart))
  }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      progress.print(header())
    case .stepped(let report):
      smoothedLoss = smoothedLoss.map { 0.95 * $0 + 0.05 * Double(report.loss) } ?? Double(report.loss)
      let rate = Double(report.items) / Swift.max(report.seconds, 1e-9)
      tokensPerSecond = tokensPerSecond.map { 0.9 * $0 + 0.1 * rate } ?? rate
      progress.update(statusLine(status))
      if sampleEvery > 0 && status.step % sampleEvery == 0 && status.step < status.totalSteps {
        progress.print(try sampleBlock(length: sampleLength, title: "sample at step \(status.step)"))
      }
    case let .evaluated(record, isBest):
      validation = record.validationLoss
      if isBest { bestStep = record.step }
      var line = String(format: "step %6d  %@ tokens  train %.4f", record.step, ProgressLine.count(Double(record.tokens)), record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f (%.3f bits/char)", v, v / M_LN2) + (isBest ? " *" : "")
      }
      line += String(format: "  lr %.2e  %@ tok/s", record.learningRate, ProgressLine.count(record.tokensPerSecond))
      progress.print(line)
      try LossPlot.write(log, to: out.appendingPathComponent(Self.plotName), title: plotTitle())
    case .ended:
      break
    }
  }

  // MARK: - Text

  func plotTitle() -> String {
    let m = trainer.task.model.configuration, corpus = trainer.task.settings.corpus
    let name = corpus.hasPrefix("bundled:") ? "Pride and Prejudice" : URL(fileURLWithPath: corpus).lastPathComponent
    return "Character-level \(m.layerName()) \(m.numLayers)×\(m.hiddenSize) on \(name)"
  }

  func header() -> String {
    let task = trainer.task, o = trainer.options, m = task.model.configuration, d = task.settings
    let params = Double(task.model.parameterCount)
    let corpusName = d.corpus.hasPrefix("bundled:") ? "bundled Pride and Prejudice (Jane Austen)" : d.corpus
    let train = task.trainBatches
    var lines: [String] = []
    lines.append("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")a character-level \(m.layerName(detailed: true)) language model: "
      + "\(m.numLayers) × \(m.hiddenSize), embedding \(m.embeddingSize), dropout \(m.dropout); \(ProgressLine.count(params)) parameters")
    var corpusLine = "corpus: \(corpusName), \(task.vocabulary.count) distinct characters; training streams \(train.batchSize) × \(ProgressLine.count(Double(train.streamLength)))"
    if let v = task.validationBatches { corpusLine += ", validation \(ProgressLine.count(Double(v.batchSize * v.streamLength))) characters" }
    lines.append(corpusLine)
    lines.append("windows: \(d.batchSize) streams × \(d.seqLength) characters = \(d.batchSize * d.seqLength) tokens per step, "
      + "\(train.windowCount) steps per epoch, hidden state carried between windows")
    var schedule = ""
    switch o.schedule.kind {
    case .constant: schedule = "constant"
    case .cosine: schedule = String(format: "cosine to %.2g", Double(o.optimizer.learningRate * o.schedule.minLearningRateFactor))
    case .step: schedule = String(format: "× %g every %d steps", Double(o.schedule.decayFactor), o.schedule.decayEvery)
    }
    if o.schedule.warmupSteps > 0 { schedule += " after \(o.schedule.warmupSteps) warm-up steps" }
    var budget: [String] = []
    if let s = o.steps { budget.append("\(s) steps") }
    if let e = o.epochs { budget.append("\(e) epochs") }
    if let t = o.timeLimit { budget.append("\(ProgressLine.duration(t)) of training") }
    let fixed = trainer.totalSteps.map { " = \($0) steps" } ?? ""
    lines.append("optimiser: \(o.optimizer.kind.rawValue), lr \(o.optimizer.learningRate) (\(schedule)), grad clip \(o.gradClip == 0 ? "off" : "\(o.gradClip)"); "
      + "budget: \(budget.joined(separator: " or "))\(fixed); \(Kernels.numThreads) threads (\(Kernels.isa)\(Self.precisionNote(o.matmulPrecision)))")
    lines.append("output: \(out.path)/ (\(TrainingOutputFile.best), \(TrainingOutputFile.last), \(TrainingOutputFile.metrics), \(Self.plotName)); Ctrl-C stops and saves")
    return lines.joined(separator: "\n")
  }

  /// How the matrix products run, when not in plain float32.
  static func precisionNote(_ precision: Kernels.MatmulPrecision) -> String {
    guard precision == .medium else { return "" }
    return Kernels.bfloat16Available ? ", bfloat16 matmuls" : ", float32 matmuls: this CPU has no AVX512_BF16 for --matmul-precision medium"
  }

  func statusLine(_ status: TrainingStatus) -> String {
    let wall = ProgressLine.now() - wallStart
    var text = "step \(status.step)/\(status.totalSteps)"
    text += String(format: " %3.0f%%", status.progress * 100)
    text += String(format: "  train %.3f", smoothedLoss ?? .nan)
    text += validation.map { String(format: "  val %.3f", $0) } ?? "  val –"
    text += "  \(ProgressLine.count(tokensPerSecond ?? 0)) tok/s  \(ProgressLine.duration(wall)) elapsed"
    // Remaining: at the observed wall time per step (evaluations included).
    let stepsDone = status.step - startStep
    if stepsDone > 0 { text += "  ETA \(ProgressLine.duration(Double(status.totalSteps - status.step) * wall / Double(stepsDone)))" }
    return text
  }

  /// Prompt for samples: a newline (the start of a paragraph) when the vocabulary has one.
  static func samplePrompt(_ vocabulary: CharVocabulary) -> String {
    vocabulary.covers("\n") ? "\n" : vocabulary.symbol(0)
  }

  func sampleBlock(length: Int, title: String) throws -> String {
    let task = trainer.task
    let text = try task.sample(prompt: Self.samplePrompt(task.vocabulary), length: length, temperature: 0.8,
                               seed: trainer.options.seed &+ UInt64(trainer.step))
    let rule = String(repeating: "─", count: 8)
    return "\(rule) \(title) (temperature 0.8) \(rule)\n" + text.trimmingCharacters(in: .newlines) + "\n" + String(repeating: "─", count: 40)
  }

  func summary(wallSeconds: Double) throws -> String {
    let o = trainer.options, log = trainer.log
    var lines: [String] = []
    lines.append(try sampleBlock(length: sampleLength, title: "final sample"))
    let steps = trainer.step - startStep
    let rate = log.records.last?.tokensPerSecond ?? 0
    lines.append("Finished \(steps) steps (\(trainer.step) in all, \(ProgressLine.count(Double(trainer.itemsSeen))) tokens) in "
      + "\(ProgressLine.duration(wallSeconds)); \(ProgressLine.count(rate)) tokens/s.")
    if let last = log.records.last, let v = last.validationLoss {
      var line = String(format: "Final validation loss: %.4f nats/char (%.3f bits/char)", v, v / M_LN2)
      if let best = log.best { line += String(format: "; best %.4f at step %d", best.loss, best.step) }
      lines.append(line + ".")
    } else if let last = log.records.last {
      lines.append(String(format: "Final training loss: %.4f nats/char (no validation text).", last.trainLoss))
    }
    lines.append("Files: \(out.path)/{\(TrainingOutputFile.best),\(TrainingOutputFile.last),\(TrainingOutputFile.metrics),\(Self.plotName)}")
    lines.append("Generate more text:  \(invocation) generate --checkpoint \(path(TrainingOutputFile.best)) --length 1000")
    let more = o.timeLimit.map { "--time-limit \(ProgressLine.durationFlag(trainer.trainingSeconds + $0))" } ?? "--steps \(trainer.step * 2)"
    lines.append("Resume training:     \(invocation) train --resume \(path(TrainingOutputFile.last)) \(more)")
    let corpus = corpusArgument.map { " --corpus \(shellQuoted($0))" } ?? " --corpus FILE"
    lines.append("Evaluate on a text:  \(invocation) eval --checkpoint \(path(TrainingOutputFile.best))\(corpus)")
    return lines.joined(separator: "\n")
  }
}

extension ProgressLine {
  /// A duration as a `--time-limit` value: `9m`, `4m30s`, `1h2m`.
  static func durationFlag(_ seconds: Double) -> String {
    let s = Int(seconds.rounded())
    let (h, m, r) = (s / 3600, (s % 3600) / 60, s % 60)
    var text = ""
    if h > 0 { text += "\(h)h" }
    if m > 0 { text += "\(m)m" }
    if r > 0 || text.isEmpty { text += "\(r)s" }
    return text
  }
}
