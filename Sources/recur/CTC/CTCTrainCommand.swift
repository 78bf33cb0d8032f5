import ArgumentParser
import Foundation
import Recur

/// `recur ctc train`: trains a `CTCModel` on frames joined with label strings through the
/// `Trainer` (progress line, early stopping on validation, best/last checkpoints, resume, Ctrl-C),
/// then scores the best model on the test part with greedy and beam decoding.
struct CTCTrainCommand: ParsableCommand {
  typealias Defaults = CTCCommand.Defaults
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train a CTC model on frame sequences with label strings.",
    discussion: """
      Uses the labels file's split column: train, validation (when absent, a seeded --val-fraction of the training \
      sequences) and test (scored at the end, never used to select). Frames are standardised with statistics of the \
      training part; the alphabet is the characters of the training labels, plus the blank. Ctrl-C stops and saves a \
      checkpoint you can --resume from.
      """)

  @OptionGroup var input: CTCDataOptions
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Share of the training sequences held out for validation when the labels have no validation rows (default 0.1).") var valFraction = 0.1
  @Option(help: ArgumentHelp("Recurrent cell: lstm, gru or rnn (default lstm).", valueName: "lstm|gru|rnn")) var model = "lstm"
  @Flag(name: .customLong("unidirectional"), help: "Read forwards only (default: bidirectional).") var unidirectional = false
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @Option(name: .customLong("frame-stack"), parsing: .unconditional, help: "Frames concatenated into one model step (default \(Defaults.frameStack); 1: none).") var frameStack = Defaults.frameStack
  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @OptionGroup var budget: BudgetOptions
  @Option(parsing: .unconditional, help: "Evaluations without a lower validation label error rate before stopping (default 8).") var patience = 8
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations (default: once per epoch).") var evalEvery: Int?
  @Option(parsing: .unconditional, help: "Seed of the weights, the batch order and dropout (default 1).") var seed: UInt64 = 1
  @Option(name: .customLong("split-seed"), parsing: .unconditional, help: "Seed of the validation share when the labels have no validation rows (default 0).") var splitSeed: UInt64 = 0
  @OptionGroup var beam: CTCBeamOptions
  @Option(help: ArgumentHelp("Directory for checkpoints, metrics.jsonl, metrics.json and probabilities.svg (default runs/ctc).", valueName: "dir")) var out: String?
  @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (same data).", valueName: "checkpoint")) var resume: String?
  @Flag(help: "Print the final metrics as JSON.") var json = false
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var precision: MatmulPrecisionOptions<Defaults>

  func run() throws {
    try reportingErrors(flags: CTCCommand.flags) { try train() }
  }

  func train() throws {
    try threads.apply()
    try requirePositive(patience, flag: "--patience")
    try requirePositive(frameStack, flag: "--frame-stack")
    try requirePositive(beam.beamWidth, flag: "--beam-width")
    guard (0..<1).contains(valFraction) else { throw CLIError("--val-fraction must be in [0, 1), got \(valFraction)") }
    let set = try input.read(needsLabels: true)
    let splits = CTCSplits.make(set, validationFraction: valFraction, seed: splitSeed)
    guard !splits.train.isEmpty else { throw CLIError("\(input.labels ?? input.data) has no training sequences; check its split column") }
    let outDirectory = URL(fileURLWithPath: out ?? resume.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "runs/ctc")
    try checkWritableDirectory(outDirectory)

    let trainer: Trainer<CTCTask>
    let metadata: CTCMetadata
    func dataset(_ items: [TranscribedSequence]) throws -> CTCDataset {
      try CTCDataset(items, featureCount: set.featureCount, input: metadata.input, alphabet: metadata.alphabet, source: set.source,
                     labelColumn: input.labelColumn)
    }
    if let resume {
      let archive = try loadArchive(resume)
      metadata = try CTCTask.loadModel(from: archive).saved.metadata
      let task = try CTCTask(archive: archive, train: dataset(splits.train), validation: dataset(splits.validation))
      let precision = try self.precision.parsed()
      trainer = try Trainer(resuming: archive, task: task, outputDirectory: outDirectory) { o in
        try? budget.apply(to: &o, defaultTimeLimit: nil)
        if let precision { o.matmulPrecision = precision }
      }
    } else {
      let cell = try parseCell(model)
      let trainItems = splits.train.map { NumericSequence(id: $0.id, steps: $0.steps, values: $0.values, label: 0, split: .train, line: $0.line) }
      let standardizer = try FeatureStandardizer(fitting: NumericSequenceSet(items: trainItems, featureCount: set.featureCount,
                                                                             labels: LabelSet([]), source: set.source))
      metadata = CTCMetadata(alphabet: CTCAlphabet(transcripts: splits.train.map(\.transcript)),
                             input: try CTCInput(standardizer: standardizer, frameStack: frameStack))
      let config = CTCModel.Configuration(
        inputSize: metadata.input.stepWidth, cell: cell, hiddenSize: recurrent.hiddenSize ?? Defaults.hiddenSize,
        numLayers: recurrent.numLayers ?? Defaults.numLayers, bidirectional: !unidirectional, dropout: recurrent.dropout ?? Defaults.dropout,
        classCount: metadata.alphabet.classCount)
      let task = try CTCTask(model: CTCModel(config, seed: seed), train: dataset(splits.train), validation: dataset(splits.validation),
                             batchSize: optimization.batchSize ?? Defaults.batchSize, metadata: metadata, shuffleSeed: seed)
      var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: optimization.learningRate ?? Defaults.learningRate))
      o.schedule.kind = .cosine
      o.gradClip = optimization.gradClip ?? Defaults.gradClip
      o.averageDecay = averaging.averageDecay
      try budget.apply(to: &o, defaultTimeLimit: 600)
      o.evalEvery = evalEvery
      o.patience = splits.validation.isEmpty ? nil : patience
      o.selectionMetric = "label_accuracy"
      o.restoreBest = true
      o.seed = seed
      o.matmulPrecision = try precision.parsed() ?? Defaults.matmulPrecision
      try o.validate()
      trainer = try Trainer(task: task, options: o, outputDirectory: outDirectory)
    }
    // Encode the scored part now: a label outside the alphabet is reported before anything is written.
    let scored = splits.test.isEmpty ? splits.validation : splits.test
    let scoredData = try dataset(scored)
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"
    try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
    let labelsFlag = input.labels.map { " --labels \(shellQuoted($0))" } ?? ""
    let task = trainer.task, m = task.model.configuration
    let subject = "a \(m.bidirectional ? "bidirectional " : "")\(m.cell.displayName) CTC model (\(m.numLayers) × \(m.hiddenSize), "
      + "\(task.metadata.input.frameStack) frames a step, \(ProgressLine.count(Double(task.model.parameterCount))) parameters) "
      + "on \(task.train.count) sequences, validating on \(task.validation.count); \(m.classCount - 1) labels + blank"
    try TaskTrainingSession(trainer: trainer, out: outDirectory, subject: subject,
                            metrics: [.init("label_error_rate", "LER", live: "val LER"), .init("sequence_accuracy", "seq acc")],
                            resumeArguments: "ctc train --data \(shellQuoted(input.data))\(labelsFlag)", quiet: json).run()

    // The best weights are back in the model (restoreBest): score them on the test part.
    guard !scored.isEmpty else { return }
    let part = splits.test.isEmpty ? "validation" : "test"
    let data = scoredData
    let (report, logProbs) = try CTCReport.score(trainer.task.model, on: data, beam: beam)
    let alphabet = metadata.alphabet
    try ctcProbabilityPlot(logProbs[0], id: data.ids[0], reference: alphabet.decode(data.targets[0]),
                           decoded: alphabet.decode(CTCDecoder.greedy(logProbs[0]).labels), alphabet: alphabet,
                           frameStack: metadata.input.frameStack).write(to: outDirectory.appendingPathComponent("probabilities.svg"))
    let reportJSON = try report.json(part: part)
    try AtomicFile.write(Array(reportJSON.utf8), to: outDirectory.appendingPathComponent("metrics.json"))
    print(json ? reportJSON : "Best model on the " + report.text(part: part) + String(format: "\n  (%.1f s; training took %@)", report.seconds, ProgressLine.duration(trainer.trainingSeconds)))
  }
}
