import ArgumentParser
import Foundation
import Recur

/// `recur experiment adding|copy`: trains tanh RNN, LSTM and GRU (and minGRU / minLSTM) on a long-memory problem for each
/// length T (the tanh RNN at each of several learning rates, so its best is the baseline) and
/// collects the runs in `results.json` for `recur report`.
struct ExperimentCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "experiment",
    abstract: "Long-memory experiments: the adding problem and the copy task, for tanh RNN, LSTM, GRU, minGRU and minLSTM.",
    discussion: """
      Each run trains one cell at one length through the common trainer until 99 % of the validation \
      sequences are right or the budget ends, then scores 2,560 fresh test sequences. OUT/results.json \
      collects the runs (a run with the same settings is replaced, others are kept, so runs can be made \
      one at a time); OUT/<problem>-<cell>-T<length>-lr<rate>[-chrono]/ holds each run's metrics.jsonl and checkpoints.
      """)

  @Argument(help: ArgumentHelp("The problem: adding (Hochreiter & Schmidhuber 1997) or copy (Arjovsky et al. 2016).", valueName: "adding|copy"))
  var problem: String
  @Option(help: ArgumentHelp("Cells to train, comma-separated: rnn, lstm, gru, mingru, minlstm (default rnn,lstm,gru).", valueName: "list")) var cells = "rnn,lstm,gru"
  @Option(help: ArgumentHelp("Lengths T, comma-separated (default 100).", valueName: "list")) var lengths = "100"
  @Option(name: .customLong("hidden-size"), parsing: .unconditional, help: "Units of the recurrent layer (default 128).") var hiddenSize = 128
  @Option(name: .customLong("batch-size"), parsing: .unconditional, help: "Fresh sequences per step (default 50).") var batchSize = 50
  @Option(name: .customLong("learning-rate"), parsing: .unconditional, help: "Adam's learning rate for LSTM and GRU (default 0.001).") var learningRate: Float = 1e-3
  @Option(name: .customLong("rnn-learning-rates"), help: ArgumentHelp("Learning rates tried for the tanh RNN, comma-separated: the report shows the best (default 0.01,0.001,0.0001).", valueName: "list"))
  var rnnLearningRates = "0.01,0.001,0.0001"
  @Option(name: .customLong("grad-clip"), parsing: .unconditional, help: "Clip the global gradient norm (default 1; 0 disables).") var gradClip: Float = 1
  @Option(name: .customLong("memory-gate-bias"), parsing: .unconditional, help: "Initial bias of the LSTM's forget gate and the GRU's update gate (default ln T: the gate keeps about 1/e of the state over T steps).") var memoryGateBias: Float?
  @Flag(help: "Chrono initialisation (Tallec & Ollivier 2018) instead of --memory-gate-bias: each unit's keep bias ln U(1, T_max − 1) and the LSTM's input gate the opposite, T_max the longest sequence (1.1·T adding, T + 20 copy).")
  var chrono = false
  @Option(name: .customLong("time-limit"), help: ArgumentHelp("Budget of each run: 300, 90s, 5m, 1h (default 15m when no --steps).", valueName: "duration")) var timeLimit: String?
  @Option(parsing: .unconditional, help: "Budget of each run in optimiser steps.") var steps: Int?
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between validations (default 100).") var evalEvery = 100
  @Option(name: .customLong("validation-count"), parsing: .unconditional, help: "Validation sequences (default 512).") var validationCount = 512
  @Option(name: .customLong("test-count"), parsing: .unconditional, help: "Fresh test sequences scored after each run (default 2560).") var testCount = 2560
  @Option(parsing: .unconditional, help: "Seed of the weights and the data (default 1).") var seed: UInt64 = 1
  @Option(help: ArgumentHelp("Directory for results.json and the runs (default runs/experiment-<problem>).", valueName: "dir")) var out: String?
  @OptionGroup var threads: ThreadOptions

  static let flags = FlagNames.common.merging([
    "length": "--lengths", "problem": "the problem argument", "testCount": "--test-count", "validationCount": "--validation-count",
    "memoryGateBias": "--memory-gate-bias", "chronoMaximum": "--chrono",
  ])

  func run() throws {
    try reportingErrors(flags: Self.flags) { try runExperiment() }
  }

  /// The runs to make, checked before anything is written.
  func plannedRuns() throws -> [LongMemoryRunSettings] {
    guard ["adding", "copy"].contains(problem) else { throw CLIError("unknown problem \"\(problem)\"; use adding or copy") }
    let cellList = try list(cells, flag: "--cells").map(parseSequenceLayer)
    if chrono, memoryGateBias != nil { throw CLIError("--chrono draws the gate biases; leave out --memory-gate-bias") }
    let lengthList = try list(lengths, flag: "--lengths").map { text in
      guard let n = Int(text) else { throw CLIError("--lengths: \"\(text)\" is not an integer") }
      return n
    }
    let rates = try list(rnnLearningRates, flag: "--rnn-learning-rates").map { text in
      guard let r = Float(text), r > 0, r.isFinite else { throw CLIError("--rnn-learning-rates: \"\(text)\" is not a positive number") }
      return r
    }
    let limit = try timeLimit.map(parseDuration) ?? (steps == nil ? 900 : nil)
    var runs: [LongMemoryRunSettings] = []
    for length in lengthList {
      let p = try LongMemoryProblem(kind: problem, length: length)
      for cell in cellList {
        let isElman = if case .recurrent(let k) = cell { k.isElman } else { false }
        let longest = switch p {
        case .adding(let a): a.maximumLength
        case .copy(let c): c.sequenceLength
        }
        for rate in isElman ? rates : [learningRate] {
          var s = LongMemoryRunSettings(configuration: .init(
            problem: p, cell: cell, hiddenSize: hiddenSize,
            memoryGateBias: isElman || chrono ? nil : memoryGateBias ?? Float(log(Double(length))),
            chronoMaximum: chrono && !isElman ? longest : nil))
          s.batchSize = batchSize
          s.learningRate = rate
          s.gradClip = gradClip
          s.seed = seed
          s.timeLimit = limit
          s.steps = steps
          s.evalEvery = evalEvery
          s.validationCount = validationCount
          s.testCount = testCount
          runs.append(s)
        }
      }
    }
    // Every setting is checked before the first run: a typo in the last one must not waste the first.
    for s in runs {
      var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: s.learningRate))
      o.gradClip = s.gradClip
      o.timeLimit = s.timeLimit
      o.steps = s.steps
      o.evalEvery = s.evalEvery
      try o.validate()
    }
    for (flag, value) in [("--hidden-size", hiddenSize), ("--batch-size", batchSize), ("--validation-count", validationCount), ("--test-count", testCount)]
    where value < 1 || value > 1 << 20 {
      throw CLIError("\(flag) must be an integer in 1…\(1 << 20), got \(value)")
    }
    return runs
  }

  func runExperiment() throws {
    try threads.apply()
    let runs = try plannedRuns()
    let outDirectory = URL(fileURLWithPath: out ?? "runs/experiment-\(problem)")
    let resultsURL = outDirectory.appendingPathComponent("results.json")
    var results = LongMemoryResults(producer: "Recur \(RecurVersion.current): " + CommandLine.arguments.joined(separator: " "), problem: problem)
    if FileManager.default.fileExists(atPath: resultsURL.path) {
      let existing = try LongMemoryResults.read(from: resultsURL)
      guard existing.problem == problem else {
        throw CLIError("\(resultsURL.path) holds \(existing.problem) results; pass another --out for \(problem)")
      }
      results.runs = existing.runs
      print("Adding to the \(existing.runs.count) runs in \(resultsURL.path).")
    }
    try OutputDirectories.create(outDirectory)
    Interrupt.install()
    defer { Interrupt.uninstall() }
    for (i, s) in runs.enumerated() {
      let c = s.configuration
      let name = "\(problem)-\(c.cell.rawValue)-T\(c.problem.length)-lr\(s.learningRate)" + (c.chronoMaximum == nil ? "" : "-chrono")
      print("[\(i + 1)/\(runs.count)] \(c.cell.displayName), T = \(c.problem.length), learning rate \(s.learningRate)")
      let runDirectory = outDirectory.appendingPathComponent(name)
      try OutputDirectories.create(runDirectory)
      let progress = ProgressLine()
      let observer = ExperimentProgress(progress: progress)
      let result: LongMemoryRunResult
      do {
        result = try LongMemoryExperiment.run(s, outputDirectory: runDirectory, observers: [observer], stopRequested: { Interrupt.requested })
      } catch {
        progress.finish()
        throw error
      }
      progress.finish()
      print("  " + ExperimentProgress.summary(result))
      results.runs.removeAll { $0.settings == s }
      results.runs.append(result)
      try results.write(to: resultsURL)
      if result.outcome == "stopped" {
        print("Interrupted: the runs so far are in \(resultsURL.path).")
        throw ExitCode(130)
      }
    }
    print("Results: \(resultsURL.path)  (recur report --results \(shellQuoted(resultsURL.path)))")
  }

  private func list(_ text: String, flag: String) throws -> [String] {
    let items = text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    guard !items.isEmpty, !items.contains("") else { throw CLIError("\(flag) needs a comma-separated list, got \"\(text)\"") }
    return items
  }
}

/// The progress line of one experiment run, and its one-line summary.
final class ExperimentProgress: TrainingObserver {
  let progress: ProgressLine
  var status = SteppingStatus()
  var accuracy: Double?

  init(progress: ProgressLine) { self.progress = progress }

  func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .stepped(let report):
      self.status.add(report)
      progress.update(self.status.line(status, extra: accuracy.map { String(format: "  validation %.1f%% right", $0 * 100) } ?? ""))
    case .evaluated(let record, _):
      accuracy = record.metrics["accuracy"]
    default:
      break
    }
  }

  /// "solved after N sequences (M s); test X % right, loss L (baseline B); wall W s, CPU C s".
  static func summary(_ r: LongMemoryRunResult) -> String {
    let head = r.sequencesToSolve.map { "solved after \($0) sequences (\(ProgressLine.duration(r.secondsToSolve ?? 0)))" }
      ?? (r.outcome == "stopped" ? "interrupted after \(r.sequencesSeen) sequences" : "not solved in \(r.sequencesSeen) sequences")
    return head + String(format: "; test %.2f%% right, loss %.4g (memoryless %.4g); wall %.0f s, CPU %.0f s",
                         r.test.accuracy * 100, r.test.loss, r.baselineLoss, r.wallSeconds, r.cpuSeconds)
  }
}
