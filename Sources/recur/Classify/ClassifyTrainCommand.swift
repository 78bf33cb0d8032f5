import ArgumentParser
import Foundation
import Recur

/// `recur classify train`: trains a `SequenceClassifier` on a labelled text CSV through the
/// `Trainer` (progress line, early stopping on validation, best/last checkpoints, resume, Ctrl-C),
/// then scores the best model on the test part.
struct ClassifyTrainCommand: ParsableCommand {
  typealias Defaults = ClassifyCommand.Defaults
  static let configuration = CommandConfiguration(
    commandName: "train", abstract: "Train a sequence classifier on a labelled text CSV.",
    discussion: "Uses the CSV's split column when it has one; otherwise a seeded stratified split (--test-fraction, then --val-fraction of the rest). Ctrl-C stops and saves a checkpoint you can --resume from.")

  @Option(help: ArgumentHelp("Labelled text CSV.", valueName: "file")) var data: String
  @OptionGroup var columns: ClassifyColumns
  @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Fraction of the rows held out for the test (no split column; default 0.2).") var testFraction = 0.2
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Fraction of the training rows held out for validation (default 0.1).") var valFraction = 0.1
  @Option(help: ArgumentHelp("Tokens: word or char (default word).", valueName: "word|char")) var tokens = "word"
  @Flag(name: .customLong("keep-case"), help: "Do not lower-case the text.") var keepCase = false
  @Option(name: .customLong("min-count"), parsing: .unconditional, help: "Tokens seen fewer times in training become <unk> (default 1).") var minCount = 1
  @Option(name: .customLong("max-length"), parsing: .unconditional, help: "Keep the first N tokens of a text (default 200).") var maxLength = 200

  @Option(help: ArgumentHelp("Recurrent cell: lstm, gru or rnn (default lstm).", valueName: "lstm|gru|rnn")) var model = "lstm"
  @Flag(name: .customLong("unidirectional"), help: "Read forwards only (default: bidirectional).") var unidirectional = false
  @Option(help: ArgumentHelp("Pooling over valid steps: last, mean, max or attention (default max).", valueName: "mode")) var pooling = "max"
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @Option(name: .customLong("embedding-size"), parsing: .unconditional, help: "Width of the token embedding (default 100).") var embeddingSize = 100
  @Option(name: .customLong("head-size"), parsing: .unconditional, help: "Width of the head's hidden layer (default 64).") var headSize = 64
  @Option(parsing: .unconditional, help: "Add a bag of token n-grams up to this order beside the recurrent stack (hashed, fastText-like; 0: none; default 0).") var ngrams = 0
  @Flag(help: "Add LSTM-FCN's convolutional branch over the token embeddings beside the recurrent stack.") var fcn = false

  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Decoupled weight decay (AdamW) for every parameter (default 0: Adam).") var weightDecay: Float = 0
  @OptionGroup var budget: BudgetOptions
  @Option(parsing: .unconditional, help: "Evaluations without a lower validation loss before stopping (default 5).") var patience = 5
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations (default: once per epoch).") var evalEvery: Int?
  @Option(parsing: .unconditional, help: "Seed of the weights, the batch order and dropout (default 1).") var seed: UInt64 = 1
  @Option(name: .customLong("split-seed"), parsing: .unconditional, help: "Seed of the stratified test/validation split when the CSV has no split column (default 0: the same split whatever --seed).") var splitSeed: UInt64 = 0
  @Option(help: ArgumentHelp("Directory for checkpoints, metrics.jsonl, metrics.json and confusion.svg (default runs/classify).", valueName: "dir")) var out: String?
  @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (same --data).", valueName: "checkpoint")) var resume: String?
  @Flag(help: "Print the final metrics as JSON.") var json = false
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var precision: MatmulPrecisionOptions<Defaults>

  func run() throws {
    try reportingErrors(flags: ClassifyCommand.flags) { try train() }
  }

  func train() throws {
    try threads.apply()
    try requirePositive(maxLength, flag: "--max-length")
    try requirePositive(minCount, flag: "--min-count")
    try requirePositive(patience, flag: "--patience")
    guard weightDecay >= 0 && weightDecay <= 100 else { throw CLIError("--weight-decay must be in [0, 100], got \(weightDecay)") }
    guard (0...5).contains(ngrams) else { throw CLIError("--ngrams must be in 0…5, got \(ngrams)") }
    guard (0..<1).contains(testFraction) else { throw CLIError("--test-fraction must be in [0, 1), got \(testFraction)") }
    guard (0..<1).contains(valFraction) else { throw CLIError("--val-fraction must be in [0, 1), got \(valFraction)") }
    let table = try LabeledTextTable.read(contentsOf: URL(fileURLWithPath: data), textColumn: columns.textColumn, labelColumn: columns.labelColumn)
    let splits = try ClassifySplits.make(table, testFraction: testFraction, validationFraction: valFraction, seed: splitSeed)
    let outDirectory = URL(fileURLWithPath: out ?? resume.map { URL(fileURLWithPath: $0).deletingLastPathComponent().path } ?? "runs/classify")
    try checkWritableDirectory(outDirectory)
    let trainer: Trainer<ClassificationTask>
    let input: TextClassificationInput
    if let resume {
      let archive = try loadArchive(resume)
      let saved = try ClassificationTask.loadModel(from: archive).saved
      input = try JSONDecoder().decode(TextClassificationInput.self, from: Data(saved.metadata.input.utf8))
      let names = saved.metadata.labelNames
      let task = try ClassificationTask(
        archive: archive,
        train: classificationDataset(splits.train, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn),
        validation: classificationDataset(splits.validation, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn))
      let precision = try self.precision.parsed()
      trainer = try Trainer(resuming: archive, task: task, outputDirectory: outDirectory) { o in
        try? budget.apply(to: &o, defaultTimeLimit: nil)
        if let precision { o.matmulPrecision = precision }
      }
    } else {
      guard let unit = ["word": TextClassificationInput.Unit.word, "char": .character, "character": .character][tokens.lowercased()] else {
        throw CLIError("unknown --tokens \"\(tokens)\"; use word or char")
      }
      let cell = try parseCell(model)
      let poolingMode = try parsePooling(pooling)
      let trainTable = LabeledTextTable(examples: splits.train, labels: table.labels, source: table.source)
      let tokenizer: any Tokenizer = unit == .word ? WordTokenizer(lowercase: !keepCase) : CharacterTokenizer(lowercase: !keepCase)
      input = TextClassificationInput(unit: unit, lowercase: !keepCase, maximumLength: maxLength,
                                      vocabulary: try trainTable.vocabulary(tokenizer: tokenizer, minimumCount: minCount))
      let names = table.labels.labels
      guard names.count >= 2 else {
        throw CLIError("\(data) has \(names.count) class\(names.count == 1 ? " ('\(names[0])')" : "es"); a classifier needs at least two labels")
      }
      let config = SequenceClassifier.Configuration(
        vocabularySize: input.vocabulary.count, embeddingSize: embeddingSize, cell: cell, hiddenSize: recurrent.hiddenSize ?? Defaults.hiddenSize,
        numLayers: recurrent.numLayers ?? Defaults.numLayers, bidirectional: !unidirectional, dropout: recurrent.dropout ?? Defaults.dropout,
        pooling: poolingMode, headSize: headSize, classCount: names.count,
        convolution: fcn ? ConvolutionalBranch.Configuration() : nil,
        ngrams: ngrams > 0 ? NgramBag.Configuration(order: ngrams) : nil)
      let metadata = ClassificationMetadata(labelNames: names, input: try ModelArchive.json(input))
      let task = try ClassificationTask(
        model: SequenceClassifier(config, seed: seed),
        train: classificationDataset(splits.train, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn),
        validation: classificationDataset(splits.validation, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn),
        batchSize: optimization.batchSize ?? Defaults.batchSize, metadata: metadata, shuffleSeed: seed)
      var settings = OptimizerSettings(kind: weightDecay > 0 ? .adamw : .adam, learningRate: optimization.learningRate ?? Defaults.learningRate)
      settings.weightDecay = weightDecay
      var o = TrainerOptions(optimizer: settings)
      o.gradClip = optimization.gradClip ?? Defaults.gradClip
      o.averageDecay = averaging.averageDecay
      try budget.apply(to: &o, defaultTimeLimit: 300)
      o.evalEvery = evalEvery
      o.patience = splits.validation.isEmpty ? nil : patience
      o.restoreBest = true
      o.seed = seed
      o.matmulPrecision = try precision.parsed() ?? Defaults.matmulPrecision
      try o.validate()
      trainer = try Trainer(task: task, options: o, outputDirectory: outDirectory)
    }
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"
    try OutputDirectories.create(outDirectory)
    try classificationSession(trainer, out: outDirectory, resumeArguments: "classify train --data \(shellQuoted(data))", quiet: json).run()
    try splits.write(to: outDirectory.appendingPathComponent("splits.csv"))

    // Score the best model on the test part.
    let bestURL = outDirectory.appendingPathComponent(TrainingOutputFile.best)
    let best = FileManager.default.fileExists(atPath: bestURL.path) ? try loadClassifier(bestURL.path).model : trainer.task.model
    let names = trainer.task.metadata.labelNames
    let scored = splits.test.isEmpty ? splits.validation : splits.test
    guard !scored.isEmpty else { return }
    let dataset = try classificationDataset(scored, table: table, labelNames: names, input: input, labelColumn: columns.labelColumn)
    let (loss, metrics) = try ClassificationTask.evaluate(best, on: dataset)
    let part = splits.test.isEmpty ? "validation" : "test"
    try ConfusionMatrixSVG(title: "Confusion matrix (\(part), \(dataset.count) items)", labelNames: names, metrics: metrics)
      .write(to: outDirectory.appendingPathComponent("confusion.svg"))
    let report = try metricsJSON(metrics, labelNames: names, loss: loss)
    try Data(report.utf8).write(to: outDirectory.appendingPathComponent("metrics.json"), options: .atomic)
    print(json ? report : "Best model on the \(part) part (\(dataset.count) items), loss \(String(format: "%.4f", loss)):\n" + metrics.table(labelNames: names))
  }
}
