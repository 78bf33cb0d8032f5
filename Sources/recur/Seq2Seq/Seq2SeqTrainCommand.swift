import ArgumentParser
import Foundation
import Recur

/// `recur seq2seq train`: trains an ``EncoderDecoder`` through the `Trainer` (progress line,
/// best checkpoint by validation sequence accuracy, `--resume`, Ctrl-C).
struct Seq2SeqTrainCommand: ParsableCommand {
  typealias Defaults = Seq2SeqCommand.Defaults
  static let configuration = CommandConfiguration(commandName: "train", abstract: "Train an encoder-decoder on source<TAB>target pairs.")

  @Option(help: ArgumentHelp("Training pairs (source<TAB>target).", valueName: "file")) var train: String?
  @Option(help: ArgumentHelp("Validation pairs; the best checkpoint is chosen on their greedy sequence accuracy.", valueName: "file")) var validation: String?
  @OptionGroup var tokens: Seq2SeqTokenOptions
  @Option(help: ArgumentHelp("Recurrent cell of encoder and decoder: lstm, gru or rnn (default lstm).", valueName: "lstm|gru|rnn")) var model: String?
  @Option(help: ArgumentHelp("Attention score: general, dot, additive, or none (default general).", valueName: "general|dot|additive|none")) var attention: String = "general"
  @Flag(name: .customLong("input-feeding"), help: "Feed the previous attentional output to the decoder (Luong et al.); off by default: without it teacher forcing runs as a few large matrix products.") var inputFeeding = false
  @Flag(name: .customLong("unidirectional"), help: "Read the source left to right only (default: both directions).") var unidirectional = false
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @Option(name: .customLong("embedding-size"), parsing: .unconditional, help: "Width of the source and target embeddings (default \(Defaults.embeddingSize)).") var embeddingSize: Int?
  @Option(name: .customLong("decoder-size"), parsing: .unconditional, help: "Width of the decoder state (default: --hidden-size, or the encoder's output width with dot attention; general and additive attention map the encoder's 2 × --hidden-size outputs to it).") var decoderSize: Int?
  @Option(name: .customLong("label-smoothing"), parsing: .unconditional, help: "ε of label smoothing, in [0, 1) (default \(Defaults.shown(Defaults.labelSmoothing))).") var labelSmoothing: Float?
  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @OptionGroup var schedule: ScheduleOptions
  @OptionGroup var budget: BudgetOptions
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations and checkpoints (default: one epoch).") var evalEvery: Int?
  @Option(parsing: .unconditional, help: "Stop after this many evaluations without a better validation accuracy.") var patience: Int?
  @Option(parsing: .unconditional, help: "Seed of the weights, the batch order and dropout (default 42).") var seed: UInt64?
  @Option(help: ArgumentHelp("Directory for checkpoints and metrics.jsonl (default \(Defaults.out); with --resume, the checkpoint's directory).", valueName: "dir")) var out: String?
  @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (its last.safetensors).", valueName: "file")) var resume: String?
  @OptionGroup var threads: ThreadOptions
  @OptionGroup var precision: MatmulPrecisionOptions<Defaults>

  func run() throws {
    try reportingErrors(flags: .seq2seq) { try trainModel() }
  }

  func trainModel() throws {
    try threads.apply()
    let trainer: Trainer<Seq2SeqTask>
    let outDirectory: URL
    if let resume {
      let archive = try loadArchive(resume)
      let (_, stored) = try Seq2SeqTask.loadModel(from: archive)
      let tokenizations = (stored.vocabulary.sourceTokenization, stored.vocabulary.targetTokenization)
      let trainPairs = try readPairs(stored.train, tokenizations)
      let validationPairs = try stored.validation.map { try readPairs($0, tokenizations) } ?? []
      let (model, _) = try Seq2SeqTask.loadModel(from: archive)
      let task = try makeTask(model: model, vocabulary: stored.vocabulary, train: trainPairs, validation: validationPairs,
                              batchSize: stored.batchSize, labelSmoothing: stored.labelSmoothing, seed: stored.seed)
      task.trainPath = stored.train
      task.validationPath = stored.validation
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
      guard let trainPath = train else { throw CLIError("--train is required (the training pairs), or --resume CHECKPOINT") }
      let seed = self.seed ?? 42
      let tokenizations = try tokens.tokenizations()
      _ = try parseAttention()  // flags first: a bad flag is reported before the data is read
      _ = try precision.parsed()
      if let name = model { _ = try parseCell(name) }
      let trainPairs = try readPairs(trainPath, tokenizations)
      let validationPairs = try validation.map { try readPairs($0, tokenizations) } ?? []
      let vocabulary = try Seq2SeqVocabulary(pairs: trainPairs, sourceTokenization: tokenizations.source, targetTokenization: tokenizations.target)
      let model = try EncoderDecoder(try modelConfiguration(vocabulary), seed: seed)
      let task = try makeTask(model: model, vocabulary: vocabulary, train: trainPairs, validation: validationPairs,
                              batchSize: optimization.batchSize ?? Defaults.batchSize,
                              labelSmoothing: labelSmoothing ?? Defaults.labelSmoothing, seed: seed)
      task.trainPath = trainPath
      task.validationPath = validation
      outDirectory = URL(fileURLWithPath: out ?? Defaults.out)
      try checkWritableDirectory(outDirectory)
      trainer = try Trainer(task: task, options: try options(seed: seed), outputDirectory: outDirectory)
    }
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"
    try FileManager.default.createDirectory(at: outDirectory, withIntermediateDirectories: true)
    let task = trainer.task, m = task.model.configuration
    let attention = m.attention.map { "\($0.rawValue) attention\(m.inputFeeding ? " with input feeding" : "")" } ?? "no attention"
    let subject = "an \(m.cell.displayName) encoder-decoder, \(m.bidirectional ? "bidirectional " : "")\(m.numLayers) × \(m.hiddenSize), decoder \(m.decoderSize), "
      + "\(attention), \(ProgressLine.count(Double(task.model.parameterCount))) parameters; \(task.sources.count) training pairs, "
      + "\(task.validation.count) validation sources, \(task.vocabulary.source.count)/\(task.vocabulary.target.count) source/target tokens"
    try TaskTrainingSession(trainer: trainer, out: outDirectory, subject: subject,
                            metrics: [.init("wer", "greedy WER", live: "val WER"), .init("ter", "TER")],
                            resumeArguments: "seq2seq train").run()
  }

  func makeTask(model: EncoderDecoder, vocabulary: Seq2SeqVocabulary, train: [Seq2SeqPair], validation: [Seq2SeqPair],
                batchSize: Int, labelSmoothing: Float, seed: UInt64) throws -> Seq2SeqTask {
    try Seq2SeqTask(model: model, vocabulary: vocabulary, sources: train.map { vocabulary.encodeSource($0.source) },
                    targets: train.map { vocabulary.encodeTarget($0.target) },
                    validation: Seq2SeqExample.grouping(validation, vocabulary: vocabulary),
                    batchSize: batchSize, labelSmoothing: labelSmoothing, seed: seed)
  }

  func modelConfiguration(_ vocabulary: Seq2SeqVocabulary) throws -> EncoderDecoder.Configuration {
    var c = EncoderDecoder.Configuration(sourceVocabularySize: vocabulary.source.count, targetVocabularySize: vocabulary.target.count)
    if let name = model { c.cell = try parseCell(name) }
    c.attention = try parseAttention()
    c.inputFeeding = inputFeeding
    c.bidirectional = !unidirectional
    c.hiddenSize = recurrent.hiddenSize ?? Defaults.hiddenSize
    c.numLayers = recurrent.numLayers ?? Defaults.numLayers
    c.dropout = recurrent.dropout ?? Defaults.dropout
    c.embeddingSize = embeddingSize ?? Defaults.embeddingSize
    c.decoderHiddenSize = decoderSize ?? (c.attention == .dot ? c.memorySize : c.hiddenSize)
    try c.validate()
    return c
  }

  /// The `--attention` score form, nil for `none`.
  func parseAttention() throws -> AttentionScore? {
    if attention.lowercased() == "none" { return nil }
    guard let score = AttentionScore(rawValue: attention.lowercased()) else {
      throw CLIError("--attention must be general, dot, additive or none, got \"\(attention)\"")
    }
    return score
  }

  func options(seed: UInt64) throws -> TrainerOptions {
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: .adam, learningRate: optimization.learningRate ?? Defaults.learningRate))
    o.gradClip = optimization.gradClip ?? Defaults.gradClip
    o.averageDecay = averaging.averageDecay
    o.schedule = try schedule.settings()
    try budget.apply(to: &o, defaultTimeLimit: nil)
    if o.steps == nil && o.epochs == nil && o.timeLimit == nil { o.epochs = 10 }
    o.evalEvery = evalEvery
    o.patience = patience
    o.selectionMetric = "accuracy"  // sequence accuracy: what WER measures, and it keeps improving after the loss turns up
    o.seed = seed
    o.matmulPrecision = try precision.parsed() ?? Defaults.matmulPrecision
    try o.validate()
    return o
  }
}
