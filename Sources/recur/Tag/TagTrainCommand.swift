import ArgumentParser
import Foundation
import Recur

/// `recur tag train`: trains a ``SequenceTagger`` through the `Trainer` (progress line, early
/// stopping on validation, best/last checkpoints, `--resume`, Ctrl-C).
struct TagTrainCommand: ParsableCommand {
  typealias Defaults = TagCommand.Defaults
  static let configuration = CommandConfiguration(commandName: "train", abstract: "Train a tagger on token-per-line data.")

  @Option(help: ArgumentHelp("Training data (token-per-line TSV or CoNLL-U).", valueName: "file")) var train: String?
  @Option(help: ArgumentHelp("Validation data; without it a seeded --val-fraction of the training sentences is held out.", valueName: "file")) var validation: String?
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Fraction of training sentences held out for validation when there is no --validation (default 0.1).") var valFraction: Double?
  @Option(name: .customLong("train-fraction"), parsing: .unconditional, help: "Train on a seeded subset of this fraction of the training sentences (a learning curve; default 1).") var trainFraction: Double?
  @OptionGroup var column: TagColumnOption
  @Flag(help: "Score tag sequences with a linear-chain CRF (Viterbi decoding).") var crf = false
  @Option(help: ArgumentHelp("Recurrent cell: lstm, gru or rnn (default lstm).", valueName: "lstm|gru|rnn")) var model: String?
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @Option(name: .customLong("embedding-size"), parsing: .unconditional, help: "Width of the word embedding (default \(Defaults.wordEmbeddingSize)).") var embeddingSize: Int?
  @Option(name: .customLong("char-embedding-size"), parsing: .unconditional, help: "Width of the character embedding (default \(Defaults.characterEmbeddingSize)).") var charEmbeddingSize: Int?
  @Option(name: .customLong("char-hidden-size"), parsing: .unconditional, help: "Units per direction of the character BiLSTM (default \(Defaults.characterHiddenSize)).") var charHiddenSize: Int?
  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @OptionGroup var budget: BudgetOptions
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations and checkpoints (default: one epoch).") var evalEvery: Int?
  @Option(parsing: .unconditional, help: "Stop after this many evaluations without a better validation token accuracy.") var patience: Int?
  @Option(parsing: .unconditional, help: "Seed of the weights, the validation split, the batch order and dropout (default 42).") var seed: UInt64?
  @Option(help: ArgumentHelp("Directory for checkpoints and metrics.jsonl (default \(Defaults.out); with --resume, the checkpoint's directory).", valueName: "dir")) var out: String?
  @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (its last.safetensors).", valueName: "file")) var resume: String?
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var precision: MatmulPrecisionOptions<Defaults>

  func run() throws {
    try reportingErrors(flags: .tag) { try trainTagger() }
  }

  func trainTagger() throws {
    try threads.apply()
    let trainer: Trainer<TaggingTask>
    let outDirectory: URL
    if let resume {
      let archive = try loadArchive(resume)
      let (_, stored) = try TaggingTask.loadModel(from: archive)
      let (train, validation) = try sentences(stored.data, seed: stored.seed)
      let task = try TaggingTask(archive: archive, train: try encodeTagged(train, stored.vocabulary, what: stored.data.train),
                                 validation: try encodeTagged(validation, stored.vocabulary, what: stored.data.validation ?? stored.data.train))
      outDirectory = URL(fileURLWithPath: out ?? URL(fileURLWithPath: resume).deletingLastPathComponent().path)
      try checkWritableDirectory(outDirectory)
      let precision = try self.precision.parsed()
      trainer = try Trainer(resuming: archive, task: task, outputDirectory: outDirectory) { o in
        try? budget.apply(to: &o, defaultTimeLimit: nil)
        if let precision { o.matmulPrecision = precision }
      }
      if let total = trainer.totalSteps, trainer.step >= total {
        throw CLIError("the run in \(resume) already used its budget (step \(trainer.step)); give a larger --steps, --epochs or --time-limit")
      }
    } else {
      guard let trainPath = train else { throw CLIError("--train is required (the training data), or --resume CHECKPOINT") }
      let seed = self.seed ?? 42
      let source = TaggingTask.DataSource(train: trainPath, validation: validation, validationFraction: valFraction ?? Defaults.validationFraction,
                                          tagColumn: column.tagColumn, trainFraction: trainFraction)
      guard source.validationFraction >= 0 && source.validationFraction < 1 else {
        throw CLIError("--val-fraction must be in [0, 1), got \(source.validationFraction)")
      }
      if let f = trainFraction, !(f > 0 && f <= 1) { throw CLIError("--train-fraction must be in (0, 1], got \(f)") }
      let (trainSentences, validationSentences) = try sentences(source, seed: seed)
      let vocabulary = TaggingVocabulary(sentences: trainSentences)
      let task = try TaggingTask(model: try SequenceTagger(modelConfiguration(vocabulary), seed: seed), vocabulary: vocabulary,
                                 train: try encodeTagged(trainSentences, vocabulary, what: trainPath),
                                 validation: try encodeTagged(validationSentences, vocabulary, what: validation ?? trainPath),
                                 batchSize: optimization.batchSize ?? Defaults.batchSize, seed: seed)
      task.source = source
      outDirectory = URL(fileURLWithPath: out ?? Defaults.out)
      try checkWritableDirectory(outDirectory)
      trainer = try Trainer(task: task, options: try options(seed: seed), outputDirectory: outDirectory)
    }
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"
    try OutputDirectories.create(outDirectory)
    let task = trainer.task, m = task.model.configuration
    let subject = "a word + character \(m.cell.displayName) tagger\(m.crf ? " with a CRF" : ""): \(m.numLayers) × \(m.hiddenSize) per direction, "
      + "\(ProgressLine.count(Double(task.model.parameterCount))) parameters; \(task.train.count) training and "
      + "\(task.validation.count) validation sentences, \(task.vocabulary.tags.count) tags"
    try TaskTrainingSession(trainer: trainer, out: outDirectory, subject: subject, metrics: [.init("accuracy", "acc", live: "val acc")],
                            resumeArguments: "tag train").run()
  }

  /// The training and validation sentences of a run.
  func sentences(_ source: TaggingTask.DataSource, seed: UInt64) throws
    -> (train: [[(token: String, tag: String)]], validation: [[(token: String, tag: String)]]) {
    let all = try column.read(source.train)
    var (train, validation) = source.validation != nil ? (all, try column.read(source.validation!))
      : TaggedText.split(all, validationFraction: source.validationFraction, seed: seed)
    if let f = source.trainFraction, f < 1 {
      let kept = max(1, Int((f * Double(train.count)).rounded()))
      train = EpochShuffle.permutation(train.count, epoch: 0, seed: seed &+ 0x7261_696e).prefix(kept).sorted().map { train[$0] }
    }
    return (train, validation)
  }

  func modelConfiguration(_ vocabulary: TaggingVocabulary) throws -> SequenceTagger.Configuration {
    var c = SequenceTagger.Configuration(wordVocabularySize: vocabulary.words.count, characterVocabularySize: vocabulary.characters.count,
                                         tagCount: vocabulary.tags.count)
    if let name = model {
      let cell = try parseCell(name)
      c.cell = cell
    }
    c.hiddenSize = recurrent.hiddenSize ?? Defaults.hiddenSize
    c.numLayers = recurrent.numLayers ?? Defaults.numLayers
    c.dropout = recurrent.dropout ?? Defaults.dropout
    c.wordEmbeddingSize = embeddingSize ?? Defaults.wordEmbeddingSize
    c.characterEmbeddingSize = charEmbeddingSize ?? Defaults.characterEmbeddingSize
    c.characterHiddenSize = charHiddenSize ?? Defaults.characterHiddenSize
    c.crf = crf
    try c.validate()
    return c
  }

  func options(seed: UInt64) throws -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: optimization.learningRate ?? Defaults.learningRate))
    o.gradClip = optimization.gradClip ?? Defaults.gradClip
    o.averageDecay = averaging.averageDecay
    try budget.apply(to: &o, defaultTimeLimit: nil)
    if o.steps == nil && o.epochs == nil && o.timeLimit == nil { o.epochs = 10 }
    o.evalEvery = evalEvery
    o.patience = patience
    o.selectionMetric = "accuracy"  // token accuracy keeps rising after the loss turns up (confident errors)
    o.seed = seed
    o.matmulPrecision = try precision.parsed() ?? Defaults.matmulPrecision
    try o.validate()
    return o
  }
}
