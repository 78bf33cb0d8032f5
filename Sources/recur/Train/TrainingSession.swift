import ArgumentParser
import Foundation
import Recur

/// The terminal side of `recur train`: runs `CharLMTrainer.train` with a live progress line,
/// samples, the loss plot, Ctrl-C handling and the closing summary.
struct TrainingSession {
  let trainer: CharLMTrainer
  let out: URL
  var log: MetricsLog
  let progress: ProgressLine
  let sampleEvery: Int
  let sampleLength: Int
  let corpusArgument: String?

  static let plotName = "loss.svg"

  func path(_ name: String) -> String { shellQuoted(out.appendingPathComponent(name).path) }

  mutating func run() throws {
    let trainer = self.trainer, progress = self.progress, out = self.out
    let sampleEvery = self.sampleEvery, sampleLength = self.sampleLength
    let startStep = trainer.step
    let wallStart = ProgressLine.now()
    progress.print(header())

    // Mutable state shared with the event closures.
    final class Live {
      var smoothedLoss: Double?
      var tokensPerSecond: Double?
      var validation: Double?
      var bestStep: Int?
    }
    let live = Live()
    live.validation = log.records.last?.validationLoss
    live.bestStep = log.best?.step

    var events = CharLMTrainer.Events()
    events.shouldStop = { Interrupt.requested }
    events.didStep = { report in
      live.smoothedLoss = live.smoothedLoss.map { 0.95 * $0 + 0.05 * Double(report.loss) } ?? Double(report.loss)
      let rate = Double(report.tokens) / Swift.max(report.seconds, 1e-9)
      live.tokensPerSecond = live.tokensPerSecond.map { 0.9 * $0 + 0.1 * rate } ?? rate
      progress.update(Self.statusLine(trainer: trainer, trainLoss: live.smoothedLoss!, validationLoss: live.validation,
                                      tokensPerSecond: live.tokensPerSecond!, startStep: startStep,
                                      wallStart: wallStart))
      if sampleEvery > 0 && trainer.step % sampleEvery == 0 && !trainer.isFinished {
        progress.print(try Self.sampleBlock(trainer: trainer, length: sampleLength, title: "sample at step \(trainer.step)"))
      }
    }
    events.didEvaluate = { record, isBest, log in
      live.validation = record.validationLoss
      if isBest { live.bestStep = record.step }
      var line = String(format: "step %6d  %@ tokens  train %.4f", record.step, ProgressLine.count(Double(record.tokens)), record.trainLoss)
      if let v = record.validationLoss {
        line += String(format: "  val %.4f (%.3f bits/char)", v, v / M_LN2) + (isBest ? " *" : "")
      }
      line += String(format: "  lr %.2e  %@ tok/s", record.learningRate, ProgressLine.count(record.tokensPerSecond))
      progress.print(line)
      try LossPlot.write(log, to: out.appendingPathComponent(Self.plotName), title: Self.plotTitle(trainer))
    }

    Interrupt.install()
    defer { Interrupt.uninstall() }
    let outcome: CharLMTrainer.Outcome
    do {
      outcome = try trainer.train(outputDirectory: out, log: &log, events: events)
    } catch let error as CharLMTrainingError {
      progress.finish()
      if case .nonFinite = error {
        let kept = FileManager.default.fileExists(atPath: out.appendingPathComponent(CharLMTrainer.OutputFile.last).path)
          ? "the last good checkpoint \(path(CharLMTrainer.OutputFile.last)) is intact (step \(log.records.last?.step ?? 0))"
          : "no checkpoint had been written yet"
        throw CLIError("\(error.description); \(kept)")
      }
      throw error
    }
    progress.finish()

    let resume = "\(invocation) train --resume \(path(CharLMTrainer.OutputFile.last))"
    if outcome == .stopped {
      if trainer.step > startStep || FileManager.default.fileExists(atPath: out.appendingPathComponent(CharLMTrainer.OutputFile.last).path) {
        print("Interrupted after step \(trainer.step): saved \(path(CharLMTrainer.OutputFile.last)).")
        print("Resume with: \(resume)")
      } else {
        print("Interrupted before the first step; nothing to save.")
      }
      throw ExitCode(130)
    }
    print(try summary(wallSeconds: ProgressLine.now() - wallStart, startStep: startStep, bestStep: live.bestStep))
  }

  // MARK: - Text

  static func plotTitle(_ trainer: CharLMTrainer) -> String {
    let c = trainer.configuration, m = c.model
    let corpus = c.corpus.hasPrefix("bundled:") ? "Pride and Prejudice" : URL(fileURLWithPath: c.corpus).lastPathComponent
    return "Character-level \(m.cell.rawValue.uppercased()) \(m.numLayers)×\(m.hiddenSize) on \(corpus)"
  }

  func header() -> String {
    let c = trainer.configuration, m = c.model
    let cell = m.cell == .rnn ? "tanh RNN" : m.cell.rawValue.uppercased()
    let params = Double(trainer.model.parameterCount)
    let corpusName = c.corpus.hasPrefix("bundled:") ? "bundled Pride and Prejudice (Jane Austen)" : c.corpus
    let train = trainer.trainBatches
    var lines: [String] = []
    lines.append("\(trainer.step > 0 ? "Resuming at step \(trainer.step): " : "Training ")a character-level \(cell) language model: "
      + "\(m.numLayers) × \(m.hiddenSize), embedding \(m.embeddingSize), dropout \(m.dropout); \(ProgressLine.count(params)) parameters")
    var corpusLine = "corpus: \(corpusName), \(trainer.vocabulary.count) distinct characters; training streams \(train.batchSize) × \(ProgressLine.count(Double(train.streamLength)))"
    if let v = trainer.validationBatches { corpusLine += ", validation \(ProgressLine.count(Double(v.batchSize * v.streamLength))) characters" }
    lines.append(corpusLine)
    lines.append("windows: \(c.batchSize) streams × \(c.seqLength) characters = \(c.batchSize * c.seqLength) tokens per step, "
      + "\(train.windowCount) steps per epoch, hidden state carried between windows")
    var schedule = ""
    switch c.schedule {
    case .constant: schedule = "constant"
    case .cosine: schedule = String(format: "cosine to %.2g", Double(c.learningRate * c.minLearningRateFactor))
    case .step: schedule = String(format: "× %g every %d steps", Double(c.decayFactor), c.decayEvery)
    }
    if c.warmupSteps > 0 { schedule += " after \(c.warmupSteps) warm-up steps" }
    var budget: [String] = []
    if let s = c.steps { budget.append("\(s) steps") }
    if let e = c.epochs { budget.append("\(e) epochs") }
    if let t = c.timeLimit { budget.append("\(ProgressLine.duration(t)) of training") }
    lines.append("optimiser: \(c.optimizer.rawValue), lr \(c.learningRate) (\(schedule)), grad clip \(c.gradClip == 0 ? "off" : "\(c.gradClip)"); "
      + "budget: \(budget.joined(separator: " or ")); \(Kernels.numThreads) threads (\(Kernels.isa)\(Self.precisionNote(c.matmulPrecision)))")
    lines.append("output: \(out.path)/ (\(CharLMTrainer.OutputFile.best), \(CharLMTrainer.OutputFile.last), \(CharLMTrainer.OutputFile.metrics), \(Self.plotName)); Ctrl-C stops and saves")
    return lines.joined(separator: "\n")
  }

  /// How the matrix products run, when not in plain float32.
  static func precisionNote(_ precision: Kernels.MatmulPrecision?) -> String {
    guard precision == .medium else { return "" }
    return Kernels.bfloat16Available ? ", bfloat16 matmuls" : ", float32 matmuls: this CPU has no AVX512_BF16 for --matmul-precision medium"
  }

  static func statusLine(trainer: CharLMTrainer, trainLoss: Double, validationLoss: Double?, tokensPerSecond: Double,
                         startStep: Int, wallStart: Double) -> String {
    let step = trainer.step
    let wall = ProgressLine.now() - wallStart
    var text = "step \(step)"
    if let total = trainer.totalSteps { text += "/\(total)" }
    text += String(format: " %3.0f%%", trainer.progress * 100)
    text += String(format: "  train %.3f", trainLoss)
    text += validationLoss.map { String(format: "  val %.3f", $0) } ?? "  val –"
    text += "  \(ProgressLine.count(tokensPerSecond)) tok/s  \(ProgressLine.duration(wall)) elapsed"
    // Remaining: by steps at the observed wall time per step (evaluations included), by time
    // from the limit.
    let stepsDone = step - startStep
    var remaining: [Double] = []
    if let total = trainer.totalSteps, stepsDone > 0 { remaining.append(Double(total - step) * wall / Double(stepsDone)) }
    if let limit = trainer.configuration.timeLimit { remaining.append(Swift.max(0, limit - trainer.trainingSeconds)) }
    if let eta = remaining.min() { text += "  ETA \(ProgressLine.duration(eta))" }
    return text
  }

  /// Prompt for samples: a newline (the start of a paragraph) when the vocabulary has one.
  static func samplePrompt(_ vocabulary: CharVocabulary) -> String {
    vocabulary.covers("\n") ? "\n" : vocabulary.symbol(0)
  }

  static func sampleBlock(trainer: CharLMTrainer, length: Int, title: String) throws -> String {
    let prompt = samplePrompt(trainer.vocabulary)
    let text = try trainer.sample(prompt: prompt, length: length, temperature: 0.8,
                                  seed: trainer.configuration.seed &+ UInt64(trainer.step))
    let rule = String(repeating: "─", count: 8)
    return "\(rule) \(title) (temperature 0.8) \(rule)\n" + text.trimmingCharacters(in: .newlines) + "\n" + String(repeating: "─", count: 40)
  }

  func summary(wallSeconds: Double, startStep: Int, bestStep: Int?) throws -> String {
    let c = trainer.configuration
    var lines: [String] = []
    lines.append(try Self.sampleBlock(trainer: trainer, length: sampleLength, title: "final sample"))
    let steps = trainer.step - startStep
    let rate = log.records.last?.tokensPerSecond ?? 0
    lines.append("Finished \(steps) steps (\(trainer.step) in all, \(ProgressLine.count(Double(trainer.tokensSeen))) tokens) in "
      + "\(ProgressLine.duration(wallSeconds)); \(ProgressLine.count(rate)) tokens/s.")
    if let last = log.records.last, let v = last.validationLoss {
      var line = String(format: "Final validation loss: %.4f nats/char (%.3f bits/char)", v, v / M_LN2)
      if let best = log.best { line += String(format: "; best %.4f at step %d", best.loss, best.step) }
      lines.append(line + ".")
    } else if let last = log.records.last {
      lines.append(String(format: "Final training loss: %.4f nats/char (no validation text).", last.trainLoss))
    }
    lines.append("Files: \(out.path)/{\(CharLMTrainer.OutputFile.best),\(CharLMTrainer.OutputFile.last),\(CharLMTrainer.OutputFile.metrics),\(Self.plotName)}")
    lines.append("Generate more text:  \(invocation) generate --checkpoint \(path(CharLMTrainer.OutputFile.best)) --length 1000")
    let more = c.timeLimit.map { "--time-limit \(ProgressLine.durationFlag($0 + (c.timeLimit ?? 0)))" } ?? "--steps \((trainer.totalSteps ?? trainer.step) * 2)"
    lines.append("Resume training:     \(invocation) train --resume \(path(CharLMTrainer.OutputFile.last)) \(more)")
    let corpus = corpusArgument.map { " --corpus \(shellQuoted($0))" } ?? " --corpus FILE"
    lines.append("Evaluate on a text:  \(invocation) eval --checkpoint \(path(CharLMTrainer.OutputFile.best))\(corpus)")
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
