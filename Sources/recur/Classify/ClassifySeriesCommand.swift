import ArgumentParser
import Foundation
import Recur

/// `recur classify series`: trains a `SequenceClassifier` on numeric sequences (UCR/UEA-style
/// series, sensor recordings, MFCC frames) and scores the best model on the test part.
struct ClassifySeriesCommand: ParsableCommand {
  typealias Defaults = ClassifyCommand.Defaults
  static let configuration = CommandConfiguration(
    commandName: "series", abstract: "Train a sequence classifier on numeric sequences and score it on the test part.",
    discussion: """
      Layouts: wide (label, [split,] t0…tN: one series a row; --features-per-step reads each row as steps of F values), \
      long (split, series_id, label, t, d0…dK: variable length allowed), joined (frames as utt, frame, c0… with labels and \
      splits from --labels joined on utt, as the FSDD files) and ts (UCR/UEA .ts; --test names the test file). Uses the \
      split column when there is one, otherwise a seeded stratified --test-fraction (fixed by --split-seed); validation \
      is a stratified --val-fraction of the training part. Features are standardised with statistics of the training part.
      """)

  @Option(help: ArgumentHelp("The data file.", valueName: "file")) var data: String
  @OptionGroup var series: SeriesDataOptions
  @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Fraction held out for the test when there is no split (default 0.2).") var testFraction = 0.2
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Fraction of the training part held out for validation (default 0.1).") var valFraction = 0.1
  @Option(help: ArgumentHelp("Recurrent cell: lstm, gru or rnn (default lstm).", valueName: "lstm|gru|rnn")) var model = "lstm"
  @Flag(name: .customLong("unidirectional"), help: "Read forwards only (default: bidirectional).") var unidirectional = false
  @Option(help: ArgumentHelp("Pooling over valid steps: last, mean, max or attention (default mean).", valueName: "mode")) var pooling = "mean"
  @Flag(help: "Add LSTM-FCN's convolutional branch (Conv1d 128×8, 256×5, 128×3, each with batch norm and ReLU, averaged over the steps) beside the recurrent stack.") var fcn = false
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @OptionGroup var budget: BudgetOptions
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations (default: one epoch, at least 25 steps).") var evalEvery: Int?
  @Option(parsing: .unconditional, help: "Evaluations without a better validation accuracy (or, at equal accuracy, loss) before stopping (default 20).") var patience = 20
  @Option(parsing: .unconditional, help: "Seed of the weights, the batch order and dropout (default 1).") var seed: UInt64 = 1
  @Option(name: .customLong("split-seed"), parsing: .unconditional, help: "Seed of the stratified splits (default 0).") var splitSeed: UInt64 = 0
  @Option(help: ArgumentHelp("Directory for checkpoints, metrics.json and confusion.svg (default runs/classify-series).", valueName: "dir")) var out = "runs/classify-series"
  @Flag(help: "Print the final metrics as JSON.") var json = false
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var precision: MatmulPrecisionOptions<Defaults>

  func run() throws {
    try reportingErrors(flags: ClassifyCommand.flags.merging(["featuresPerStep": "--features-per-step"])) { try train() }
  }

  func train() throws {
    try threads.apply()
    try requirePositive(patience, flag: "--patience")
    try requirePositive(evalEvery, flag: "--eval-every")
    guard (0..<1).contains(testFraction) else { throw CLIError("--test-fraction must be in [0, 1), got \(testFraction)") }
    guard (0..<1).contains(valFraction) else { throw CLIError("--val-fraction must be in [0, 1), got \(valFraction)") }
    let cell = try parseCell(model)
    let poolingMode = try parsePooling(pooling)
    let set = try series.read(data)
    let outDirectory = URL(fileURLWithPath: out)
    try checkWritableDirectory(outDirectory)

    // Parts: the split column, else a stratified test part; validation from the training part.
    var items = set.items
    if !items.contains(where: { $0.split != nil }) {
      let test = try StratifiedSplit.validationIndices(labels: items.map(\.label), validationFraction: testFraction, seed: splitSeed)
      for i in items.indices { items[i].split = test.contains(i) ? .test : .train }
    }
    let trainIndices = items.indices.filter { items[$0].split == .train }
    if !items.contains(where: { $0.split == .validation }) {
      let held = try StratifiedSplit.validationIndices(labels: trainIndices.map { items[$0].label }, validationFraction: valFraction,
                                                       seed: splitSeed &+ 1)
      for (k, i) in trainIndices.enumerated() where held.contains(k) { items[i].split = .validation }
    }
    let standardizer = try FeatureStandardizer(fitting: NumericSequenceSet(items: items, featureCount: set.featureCount,
                                                                           labels: set.labels, source: set.source))
    func dataset(_ split: DataSplit) throws -> ClassificationDataset {
      let part = items.filter { $0.split == split }
      return try ClassificationDataset(sequences: .frames(part.map { standardizer.transform($0.values) }, featureCount: set.featureCount),
                                       labels: part.map(\.label))
    }
    let (trainSet, validationSet, testSet) = (try dataset(.train), try dataset(.validation), try dataset(.test))
    guard trainSet.count > 0 else { throw CLIError("\(data) has no training sequences; check its split column") }

    let names = set.labels.labels
    guard names.count >= 2 else {
      throw CLIError("\(data) has \(names.count) class\(names.count == 1 ? " ('\(names[0])')" : "es"); a classifier needs at least two labels")
    }
    let config = SequenceClassifier.Configuration(
      featureCount: set.featureCount, cell: cell, hiddenSize: recurrent.hiddenSize ?? Defaults.hiddenSize,
      numLayers: recurrent.numLayers ?? Defaults.numLayers, bidirectional: !unidirectional, dropout: recurrent.dropout ?? Defaults.dropout,
      pooling: poolingMode, classCount: names.count, convolution: fcn ? ConvolutionalBranch.Configuration() : nil)
    let metadata = ClassificationMetadata(labelNames: names, input: try ModelArchive.json(standardizer))
    let task = try ClassificationTask(model: SequenceClassifier(config, seed: seed), train: trainSet, validation: validationSet,
                                      batchSize: optimization.batchSize ?? Defaults.batchSize, metadata: metadata, shuffleSeed: seed)
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: optimization.learningRate ?? Defaults.learningRate))
    o.gradClip = optimization.gradClip ?? Defaults.gradClip
    o.averageDecay = averaging.averageDecay
    try budget.apply(to: &o, defaultTimeLimit: 300)
    o.evalEvery = evalEvery ?? max(task.stepsPerEpoch, 25)
    o.patience = validationSet.count > 0 ? patience : nil
    o.selectionMetric = "accuracy"
    o.restoreBest = true
    o.seed = seed
    o.matmulPrecision = try precision.parsed() ?? Defaults.matmulPrecision
    try o.validate()
    let trainer = try Trainer(task: task, options: o, outputDirectory: outDirectory)
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"
    try OutputDirectories.create(outDirectory)
    try classificationSession(trainer, out: outDirectory, resumeArguments: nil, quiet: json).run()

    // The best weights are back in the model (restoreBest): score them on the test part.
    let scored = testSet.count > 0 ? testSet : validationSet
    guard scored.count > 0 else { return }
    let part = testSet.count > 0 ? "test" : "validation"
    let (loss, metrics) = try ClassificationTask.evaluate(trainer.task.model, on: scored)
    try ConfusionMatrixSVG(title: "Confusion matrix (\(part), \(scored.count) items)", labelNames: names, metrics: metrics)
      .write(to: outDirectory.appendingPathComponent("confusion.svg"))
    let report = try metricsJSON(metrics, labelNames: names, loss: loss)
    try Data(report.utf8).write(to: outDirectory.appendingPathComponent("metrics.json"), options: .atomic)
    print(json ? report : "Best model on the \(part) part (\(scored.count) items), loss \(String(format: "%.4f", loss)), "
      + String(format: "error %.4f:\n", 1 - metrics.accuracy) + metrics.table(labelNames: names))
  }
}
