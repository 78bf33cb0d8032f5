import ArgumentParser
import Foundation
import Recur

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// `recur train`: trains a character-level language model on a text, char-rnn style.
///
/// With no arguments it trains the default model on the bundled corpus for a few minutes and
/// prints samples, the final validation loss and the commands to generate and to resume.
/// Everything goes to `--out`: `best.safetensors`, `last.safetensors` (weights, optimiser state,
/// vocabulary, configuration: resumable), `metrics.jsonl` and `loss.svg`.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a character-level language model (default: an LSTM on the bundled Pride and Prejudice, ~5 minutes).",
    discussion: """
      Reads the corpus as --batch-size parallel streams and trains on windows of --seq-length \
      characters, carrying the hidden state from one window to the next (truncated BPTT). \
      Ctrl-C stops after the current step and saves a checkpoint you can --resume from.
      """
  )

  // MARK: Data
  @Option(help: ArgumentHelp("UTF-8 text file to train on (default: the bundled Pride and Prejudice).", valueName: "file")) var corpus: String?
  @Flag(name: .customLong("align-documents"), inversion: .prefixedNo, help: "Start each training stream at a document (text after a blank line, e.g. one ABC tune) (default: on for .abc corpora).") var alignDocuments: Bool?
  @Option(name: .customLong("val-fraction"), parsing: .unconditional, help: "Fraction at the end of the corpus held out for validation, in [0, 1) (default 0.1).") var valFraction: Double?

  // MARK: Model
  @Option(help: ArgumentHelp("Recurrent layer: lstm, gru, rnn, or the parallel-scan mingru / minlstm (default lstm).", valueName: "lstm|gru|rnn|mingru|minlstm")) var model: String?
  @OptionGroup var recurrent: RecurrentModelOptions<Defaults>
  @Option(name: .customLong("embedding-size"), parsing: .unconditional, help: "Width of the character embedding (default \(Defaults.embeddingSize)).") var embeddingSize: Int?
  @Flag(help: "With --model mingru or minlstm: pre-norm residual blocks around each layer (norm → layer → projection back, norm → feed-forward with GELU), a final norm, as the language models of Feng et al. 2024; --hidden-size is then the model width and --num-layers the blocks.") var residual = false
  @Option(parsing: .unconditional, help: "With --residual: the recurrent layer's width as a multiple of --hidden-size (default 1.5).") var expansion: Float?
  @Option(name: .customLong("ff-mult"), parsing: .unconditional, help: "With --residual: the feed-forward width as a multiple of --hidden-size (default 4).") var ffMult: Float?
  @Option(name: .customLong("conv-kernel"), parsing: .unconditional, help: "With --residual: taps of a causal depthwise convolution before each recurrent layer, 0 for none (default \(Defaults.residualConvolutionKernel): with --dropout 0 on tiny-shakespeare it lowers the validation loss at step 200 by 0.16 nats/char; as in Feng et al.'s language models).") var convKernel: Int?
  @Option(name: .customLong("dropout-placement"), help: ArgumentHelp("all: dropout on the embeddings, between layers and before the decoder; between-layers: between recurrent layers only, as nn.LSTM(dropout=p) (default all).", valueName: "all|between-layers")) var dropoutPlacement: String?

  // MARK: Optimisation
  @Option(name: .customLong("seq-length"), parsing: .unconditional, help: "Characters per window of truncated BPTT (default \(Defaults.seqLength)).") var seqLength: Int?
  @OptionGroup var optimization: OptimizationOptions<Defaults>
  @OptionGroup var averaging: WeightAverageOptions<Defaults>
  @Option(help: ArgumentHelp("adam, adamw, sgd, rmsprop or adagrad (default adam).", valueName: "adam|adamw|sgd|rmsprop|adagrad")) var optimizer: String?
  @OptionGroup var schedule: ScheduleOptions
  @Option(name: .customLong("weight-decay"), parsing: .unconditional, help: "Weight decay (L2; decoupled for adamw) (default 0).") var weightDecay: Float?
  @Option(parsing: .unconditional, help: "Momentum for sgd and rmsprop (default 0).") var momentum: Float?

  // MARK: Budget
  @OptionGroup var budget: BudgetOptions

  // MARK: Reporting and files
  @Option(name: .customLong("eval-every"), parsing: .unconditional, help: "Steps between evaluations, checkpoints and metrics lines (default \(Defaults.evalEvery)).") var evalEvery: Int?
  @Option(name: .customLong("eval-batch-size"), parsing: .unconditional, help: "Parallel streams of the validation text (default 128, fewer for short texts).") var evalBatchSize: Int?
  @Option(name: .customLong("sample-every"), parsing: .unconditional, help: "Steps between printed samples; 0 for none until the end (default \(Defaults.sampleEvery)).") var sampleEvery: Int?
  @Option(name: .customLong("sample-length"), parsing: .unconditional, help: "Characters per printed sample.") var sampleLength: Int = 300
  @Option(parsing: .unconditional, help: "Seed of the weights, dropout and samples (default 42).") var seed: UInt64?
  @Option(help: ArgumentHelp("Directory for checkpoints, metrics.jsonl and loss.svg (default \(Defaults.out); with --resume, the checkpoint's directory).", valueName: "dir")) var out: String?
  @Option(help: ArgumentHelp("Continue the run saved in this checkpoint (model and data settings come from it).", valueName: "checkpoint")) var resume: String?
  @OptionGroup var threads: ThreadOptions
  @Option(name: .customLong("matmul-precision"), help: ArgumentHelp("medium: bfloat16 products summed in float32 where the CPU has AVX512_BF16 (about 1.6× faster steps, the same loss per step), float32 elsewhere; highest: float32 products (default medium).", valueName: "highest|medium")) var matmulPrecision: String?

  /// The defaults of a run with no arguments, sized to finish in about five minutes on two cores
  /// and to write recognisable English by then: a 2 × 256 LSTM trains at ~86k characters/s on two
  /// Zen 5 cores with bfloat16 matmuls (8–11k on two busy Zen 3 cores in float32) and reaches
  /// 1.110 nats/char (1.60 bits/char) on the bundled novel in 4m50s (1.6 nats/char on the slower
  /// machine); evaluations every 250 steps cost ~5 % of the time.
  enum Defaults: TrainingOptionDefaults {
    static let hiddenSize = 256
    static let numLayers = 2
    static let embeddingSize = 64
    static let dropout: Float = 0.25
    static let seqLength = 100
    static let batchSize = 32
    static let learningRate: Float = 2e-3
    static let warmupSteps = 0
    /// Taps of the causal convolution in each --residual block (measured in the --conv-kernel help).
    static let residualConvolutionKernel = 4
    static let minLearningRateFactor: Float = 0.05
    static let gradClip: Float = 5
    static let timeLimit: Double = 290
    static let timeLimitText = "4m50s"
    static let evalEvery = 250
    static let sampleEvery = 500
    static let out = "runs/char-lm"
    static let matmulPrecision = Kernels.MatmulPrecision.medium
    static let dropoutPlacement = "where --dropout-placement puts it (default: on embeddings, between layers and before the decoder)"
    static let batchMeaning = "parallel streams per step"
    static let learningRateMeaning = "peak learning rate"
  }

  func run() throws {
    try reportingErrors { try train() }
  }

  // MARK: - Setting up

  /// The settings of a fresh run from the flags (defaults where absent), validated.
  func freshSettings() throws -> (model: CharLM.Configuration, data: LanguageModelTask.DataSettings, options: TrainerOptions) {
    var model = CharLM.Configuration(vocabularySize: 1)
    if let name = self.model { model.cell = try parseSequenceLayer(name) }
    model.hiddenSize = recurrent.hiddenSize ?? Defaults.hiddenSize
    model.numLayers = recurrent.numLayers ?? Defaults.numLayers
    model.embeddingSize = embeddingSize ?? Defaults.embeddingSize
    model.dropout = recurrent.dropout ?? Defaults.dropout
    if let name = dropoutPlacement {
      guard let placement = CharLM.DropoutPlacement(rawValue: name.lowercased()) else {
        throw CLIError("unknown --dropout-placement \"\(name)\"; use all or between-layers")
      }
      model.dropoutPlacement = placement
    }
    model.residualBlocks = try residualBlocks(for: model.cell)
    try model.validate()
    var data = LanguageModelTask.DataSettings()
    data.seqLength = seqLength ?? Defaults.seqLength
    data.batchSize = optimization.batchSize ?? Defaults.batchSize
    data.validationFraction = valFraction ?? 0.1
    data.alignToDocuments = alignDocuments ?? (corpus?.lowercased().hasSuffix(".abc") ?? false)
    if let evalBatchSize { data.evalBatchSize = evalBatchSize }
    try data.validate()
    var kind = OptimizerSettings.Kind.adam
    if let name = optimizer {
      guard let k = OptimizerSettings.Kind(rawValue: name.lowercased()) else {
        throw CLIError("unknown --optimizer \"\(name)\"; use adam, adamw, sgd, rmsprop or adagrad")
      }
      kind = k
    }
    var o = TrainerOptions(optimizer: OptimizerSettings(kind: kind, learningRate: optimization.learningRate ?? Defaults.learningRate,
                                                        weightDecay: weightDecay ?? (kind == .adamw ? 0.01 : 0), momentum: momentum ?? 0))
    o.schedule = try schedule.settings()
    o.gradClip = optimization.gradClip ?? Defaults.gradClip
    o.averageDecay = averaging.averageDecay
    try budget.apply(to: &o, defaultTimeLimit: Defaults.timeLimit)
    o.evalEvery = evalEvery ?? Defaults.evalEvery
    o.seed = seed ?? 42
    o.matmulPrecision = try parsedMatmulPrecision() ?? Defaults.matmulPrecision
    try o.validate()
    return (model, data, o)
  }

  /// The block settings of --residual, nil without it; the block flags need --residual and a minimal layer.
  func residualBlocks(for cell: SequenceLayerKind) throws -> ResidualBlockSettings? {
    guard residual else {
      let stray = flagsGiven([("--expansion", expansion != nil), ("--ff-mult", ffMult != nil), ("--conv-kernel", convKernel != nil)])
      if !stray.isEmpty { throw CLIError("\(stray.joined(separator: ", ")) shape the residual blocks; add --residual (with --model mingru or minlstm)") }
      return nil
    }
    guard case .minimal = cell else { throw CLIError("--residual wraps a mingru or minlstm layer; add --model mingru (or minlstm)") }
    let defaults = ResidualBlockSettings()
    return ResidualBlockSettings(expansion: expansion ?? defaults.expansion, feedForwardMultiplier: ffMult ?? defaults.feedForwardMultiplier,
                                 convolutionKernel: convKernel ?? Defaults.residualConvolutionKernel)
  }

  /// The --matmul-precision value, nil when not given.
  func parsedMatmulPrecision() throws -> Kernels.MatmulPrecision? {
    guard let name = matmulPrecision else { return nil }
    guard let precision = Kernels.MatmulPrecision(rawValue: name.lowercased()) else {
      throw CLIError("unknown --matmul-precision \"\(name)\"; use highest or medium")
    }
    return precision
  }

  /// Flags that fix the model, the data layout or the optimiser, which a resumed run takes from its checkpoint.
  var modelAndDataFlagsGiven: [String] {
    flagsGiven([
      ("--model", model != nil), ("--hidden-size", recurrent.hiddenSize != nil), ("--num-layers", recurrent.numLayers != nil),
      ("--embedding-size", embeddingSize != nil), ("--dropout", recurrent.dropout != nil),
      ("--dropout-placement", dropoutPlacement != nil), ("--residual", residual), ("--expansion", expansion != nil),
      ("--ff-mult", ffMult != nil), ("--conv-kernel", convKernel != nil), ("--seq-length", seqLength != nil),
      ("--batch-size", optimization.batchSize != nil), ("--optimizer", optimizer != nil), ("--learning-rate", optimization.learningRate != nil),
    ]) + schedule.givenFlags + flagsGiven([
      ("--weight-decay", weightDecay != nil), ("--momentum", momentum != nil), ("--grad-clip", optimization.gradClip != nil),
      ("--val-fraction", valFraction != nil), ("--align-documents", alignDocuments != nil), ("--seed", seed != nil),
    ])
  }

  func train() throws {
    // 1. Everything is checked before anything is written.
    try threads.apply()
    try requireNonNegative(sampleEvery, flag: "--sample-every")
    try requireAtMost(sampleLength, CharLM.maximumGenerationLength, flag: "--sample-length", why: "characters per sample")
    let trainer: Trainer<LanguageModelTask>
    let outDirectory: URL
    if let resume {
      let archive = try loadArchive(resume)
      let (_, _, saved) = try LanguageModelTask.loadModel(from: archive)
      let task = try LanguageModelTask(archive: archive, corpus: try loadCorpus(corpus ?? saved.data.corpus))
      let precision = try parsedMatmulPrecision()
      outDirectory = URL(fileURLWithPath: out ?? URL(fileURLWithPath: resume).deletingLastPathComponent().path)
      try checkWritableDirectory(outDirectory)
      trainer = try Trainer(resuming: archive, task: task, outputDirectory: outDirectory) { o in
        try? budget.apply(to: &o, defaultTimeLimit: nil)
        if let evalEvery { o.evalEvery = evalEvery }
        if let precision { o.matmulPrecision = precision }
      }
      if let total = trainer.totalSteps, trainer.step >= total {
        throw CLIError("the run in \(resume) already used its budget (step \(trainer.step)); give a larger --steps, --epochs or --time-limit to train on")
      }
      let ignored = modelAndDataFlagsGiven
      if !ignored.isEmpty {
        warn("\(ignored.joined(separator: ", ")) ignored: a resumed run keeps the settings saved in its checkpoint")
      }
    } else {
      let (model, data, options) = try freshSettings()
      let text = try loadCorpus(corpus)
      outDirectory = URL(fileURLWithPath: out ?? Defaults.out)
      try checkWritableDirectory(outDirectory)
      let task = try LanguageModelTask(corpus: text, model: model, settings: data, seed: options.seed)
      trainer = try Trainer(task: task, options: options, outputDirectory: outDirectory)
    }
    trainer.producer = "Recur \(RecurVersion.current) (\(([invocation] + CommandLine.arguments.dropFirst()).joined(separator: " ")))"

    // 2. Train.
    try OutputDirectories.create(outDirectory)
    let session = TrainingSession(trainer: trainer, out: outDirectory, sampleEvery: sampleEvery ?? Defaults.sampleEvery,
                                  sampleLength: sampleLength, corpusArgument: corpus)
    try session.run()
  }
}
