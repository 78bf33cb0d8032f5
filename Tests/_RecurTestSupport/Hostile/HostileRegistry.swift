import Foundation

/// The one place where the hostile-input generator learns about `recur`: the seed files and how
/// they are made, every subcommand with its numeric flags, and every checkpoint kind with the
/// command that reads it. A new subcommand or input kind adds an entry here (and, for a new file
/// format, a mutation family in `HostileFiles.swift`).
public enum HostileRegistry {
  // MARK: - Seeds

  /// Files copied from the test fixtures (fixture path relative to `Fixtures/` → seed name).
  public static let fixtureSeeds: [(fixture: String, seed: String)] = [
    ("wave1/sine.csv", "series.csv"),
    ("data/movie_snippets_head.csv", "reviews.csv"),
    ("data/en_ewt_dev_head.tsv", "tags.tsv"),
    ("data/italypower_head.csv", "italy.csv"),
    ("infer/lstm_proj_bidir.safetensors", "lstm.safetensors"),
    ("infer/lstm_proj_bidir.x.npy", "lstm_x.npy"),
    ("infer/gru_batch_first_lengths.safetensors", "gru.safetensors"),
    ("infer/gru_batch_first_lengths.x.npy", "gru_x.npy"),
    ("infer/gru_batch_first_lengths.lengths.npy", "gru_lengths.npy"),
    ("interop/recur_0.1_checkpoint.safetensors", "legacy.safetensors"),
  ]

  /// Small generated data files: `pairs.tsv` (spelling → phonemes for `recur seq2seq`),
  /// `frames.csv` and `labels.csv` (frame sequences and label strings for `recur ctc`).
  public static let generatedSeeds: [String: String] = [
    "pairs.tsv": ["cat\tK AE T", "cab\tK AE B", "bat\tB AE T", "tab\tT AE B", "act\tAE K T", "tack\tT AE K", "back\tB AE K", "back\tB AA K"]
      .joined(separator: "\n") + "\n",
    "frames.csv": "id,frame,c0,c1\n" + (0..<6).flatMap { id in
      (0..<8).map { t in "\(id),\(t),\(Double((id * 7 + t * 3) % 11) / 5 - 1),\(Double((id + t) % 4) / 2)" }
    }.joined(separator: "\n") + "\n",
    "labels.csv": "id,label,split\n0,12,train\n1,21,train\n2,11,train\n3,2,validation\n4,1,test\n5,12,test\n",
    "tunes.abc": abcTunes,
  ]

  /// A small ABC collection (seed `tunes.abc`, and the text `recur abc` and the ABC model read).
  public static let abcTunes = String(repeating: """
    X: 1
    T: Seed Jig
    M: 6/8
    L: 1/8
    K:G
    D | GAG GBd | ege dBG | (3ABc B AGE | GED D2 :|

    X: 2
    T: Seed Reel
    M: C|
    K:D
    |: A>B | d2 fd A2 FA | [1 d4 d2 :|[2 d4- d2 |]


    """, count: 6)

  /// A small training text (seed `corpus.txt`).
  public static let corpus = String(repeating: "It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife.\n", count: 24)

  /// `recur` runs (in a directory holding the fixture seeds and `corpus.txt`) that write the
  /// checkpoint seeds: arguments, then (file written → seed name).
  public static let checkpointSeedRuns: [(arguments: [String], outputs: [(String, String)])] = [
    (["train", "--corpus", "corpus.txt", "--hidden-size", "8", "--num-layers", "1", "--embedding-size", "4", "--seq-length", "16",
      "--batch-size", "4", "--steps", "3", "--eval-every", "2", "--out", "lm"],
     [("lm/best.safetensors", "lm_best.safetensors"), ("lm/last.safetensors", "lm_last.safetensors")]),
    (["train", "--corpus", "tunes.abc", "--hidden-size", "8", "--num-layers", "1", "--embedding-size", "4", "--seq-length", "16",
      "--batch-size", "4", "--steps", "3", "--eval-every", "2", "--out", "abclm"],
     [("abclm/best.safetensors", "abc_lm.safetensors")]),
    (["forecast", "--csv", "series.csv", "--column", "x", "--model", "lstm", "--hidden-size", "4", "--epochs", "2", "--lookback", "8", "--out", "fl"],
     [("fl/model.safetensors", "forecast_lstm.safetensors")]),
    (["forecast", "--csv", "series.csv", "--column", "x", "--model", "esn", "--units", "20", "--out", "fe"],
     [("fe/model.safetensors", "forecast_esn.safetensors")]),
    (["classify", "train", "--data", "reviews.csv", "--hidden-size", "4", "--embedding-size", "4", "--head-size", "4", "--steps", "2", "--out", "ct"],
     [("ct/best.safetensors", "classify_best.safetensors"), ("ct/last.safetensors", "classify_last.safetensors")]),
    (["classify", "series", "--data", "italy.csv", "--hidden-size", "4", "--steps", "2", "--out", "cs"],
     [("cs/best.safetensors", "series_best.safetensors")]),
    (["tag", "train", "--train", "tags.tsv", "--validation", "tags.tsv", "--hidden-size", "4", "--embedding-size", "4",
      "--char-embedding-size", "2", "--char-hidden-size", "2", "--steps", "2", "--out", "tg"],
     [("tg/best.safetensors", "tag_best.safetensors"), ("tg/last.safetensors", "tag_last.safetensors")]),
    (["classify", "series", "--data", "italy.csv", "--hidden-size", "4", "--fcn", "--steps", "2", "--out", "cf"],
     [("cf/best.safetensors", "series_fcn_best.safetensors")]),
    (["ctc", "train", "--data", "frames.csv", "--labels", "labels.csv", "--hidden-size", "4", "--num-layers", "1", "--steps", "2", "--out", "ctc"],
     [("ctc/best.safetensors", "ctc_best.safetensors"), ("ctc/last.safetensors", "ctc_last.safetensors")]),
    (["seq2seq", "train", "--train", "pairs.tsv", "--target-tokens", "words", "--hidden-size", "4", "--embedding-size", "4", "--steps", "2",
      "--out", "s2s"],
     [("s2s/best.safetensors", "s2s_best.safetensors"), ("s2s/last.safetensors", "s2s_last.safetensors")]),
    (experiment + ["--out", "ex"], [("ex/results.json", "results.json"), ("ex/adding-lstm-T22-lr0.001/metrics.jsonl", "metrics.jsonl")]),
  ]

  /// A tiny `recur experiment` (its results file and a run's metrics.jsonl are seeds for `recur report`).
  public static let experiment = ["experiment", "adding", "--cells", "lstm", "--lengths", "22", "--hidden-size", "4", "--steps", "2",
                                  "--eval-every", "1", "--validation-count", "4", "--test-count", "4"]

  // MARK: - Commands and their numeric flags

  /// A subcommand run on valid seeds, and the numeric flags the generator pushes to extremes.
  public struct Command: Sendable {
    public var arguments: [String]
    public var seeds: [String]
    public var numericFlags: [String]
    /// Flags that set the amount of work (`--steps`, `--epochs`…): when one of them is varied,
    /// `budgetArguments` are dropped from `arguments` and `--time-limit 2s` bounds the run.
    public var budgetFlags: [String] = []
    public var budgetArguments: [String] = []
    public var stdin: String? = nil
  }

  static let trainingBudget = ["--steps", "--epochs", "--time-limit"]

  public static let commands: [Command] = [
    Command(arguments: ["train", "--corpus", "corpus.txt", "--hidden-size", "8", "--num-layers", "1", "--embedding-size", "4",
                        "--seq-length", "16", "--batch-size", "4", "--eval-every", "50", "--out", "out"],
            seeds: ["corpus.txt"],
            numericFlags: ["--val-fraction", "--hidden-size", "--num-layers", "--dropout", "--embedding-size", "--seq-length", "--batch-size",
                           "--learning-rate", "--grad-clip", "--ema-decay", "--warmup-steps", "--min-lr-factor", "--lr-decay", "--lr-decay-every",
                           "--weight-decay", "--momentum", "--eval-every", "--eval-batch-size", "--sample-every", "--sample-length",
                           "--seed", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "3"]),
    Command(arguments: ["train", "--resume", "lm_last.safetensors", "--out", "out"], seeds: ["corpus.txt", "lm_last.safetensors"],
            numericFlags: ["--eval-every", "--sample-every", "--sample-length", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "5"]),
    Command(arguments: ["generate", "--checkpoint", "lm_best.safetensors", "--length", "20", "--seed", "1"], seeds: ["lm_best.safetensors"],
            numericFlags: ["--length", "--temperature", "--top-k", "--seed", "--threads"]),
    Command(arguments: ["generate", "--checkpoint", "abc_lm.safetensors", "--format", "abc", "--count", "2", "--length", "300", "--seed", "1",
                        "--header", "M:6/8", "--out", "out"],
            seeds: ["abc_lm.safetensors"], numericFlags: ["--count", "--length", "--temperature", "--top-k", "--seed", "--threads"]),
    Command(arguments: ["abc", "tunes.abc", "--midi", "out", "--problems"], seeds: ["tunes.abc"], numericFlags: []),
    Command(arguments: ["complete", "--checkpoint", "lm_best.safetensors", "--prefix", "It is a tr", "-k", "2"], seeds: ["lm_best.safetensors"],
            numericFlags: ["--words", "--beam-width", "--max-length", "--threads"]),
    Command(arguments: ["chat", "--checkpoint", "lm_best.safetensors", "--turn-prefix", "a ", "--seed", "1", "--max-length", "20"],
            seeds: ["lm_best.safetensors"], numericFlags: ["--temperature", "--top-k", "--max-length", "--seed", "--threads"],
            stdin: "a truth\n/temperature 0\n"),
    Command(arguments: ["bench", "complete", "--checkpoint", "lm_best.safetensors", "--text", "It is", "--repeats", "1", "--threads", "1"],
            seeds: ["lm_best.safetensors"], numericFlags: ["--beam-width", "--max-length", "--repeats", "--threads"]),
    Command(arguments: ["eval", "--checkpoint", "lm_best.safetensors", "--corpus", "corpus.txt"], seeds: ["lm_best.safetensors", "corpus.txt"],
            numericFlags: ["--batch-size", "--seq-length", "--threads"]),
    Command(arguments: ["forecast", "--csv", "series.csv", "--column", "x", "--model", "lstm", "--hidden-size", "4", "--lookback", "8", "--out", "out"],
            seeds: ["series.csv"],
            numericFlags: ["--lookback", "--horizon", "--test-fraction", "--validation-fraction", "--season", "--hidden-size", "--num-layers",
                           "--dropout", "--epochs", "--patience", "--batch-size", "--learning-rate", "--grad-clip", "--seed"],
            budgetFlags: ["--epochs", "--patience"], budgetArguments: ["--epochs", "2"]),
    Command(arguments: ["forecast", "--csv", "series.csv", "--column", "x", "--model", "esn", "--units", "20", "--out", "out"],
            seeds: ["series.csv"],
            numericFlags: ["--lookback", "--horizon", "--units", "--spectral-radius", "--leak-rate", "--input-scaling", "--bias-scaling",
                           "--input-connectivity", "--recurrent-connectivity", "--ridge", "--season", "--seed", "--test-fraction"]),
    Command(arguments: ["forecast", "--mackey-glass", "300", "--model", "esn", "--units", "20", "--json"], seeds: [],
            numericFlags: ["--mackey-glass", "--tau"]),
    Command(arguments: ["forecast", "--mackey-glass", "400", "--model", "esn", "--units", "20", "--free-run", "30", "--free-run-stride", "5",
                        "--validation-fraction", "0.2", "--json"], seeds: [],
            numericFlags: ["--free-run", "--free-run-stride", "--guard-margin", "--selection-steps", "--input-noise"]),
    Command(arguments: ["forecast", "--predict", "--checkpoint", "forecast_lstm.safetensors", "--csv", "series.csv", "--column", "x", "--steps", "3"],
            seeds: ["forecast_lstm.safetensors", "series.csv"], numericFlags: ["--steps"]),
    Command(arguments: ["forecast", "--predict", "--checkpoint", "forecast_esn.safetensors", "--csv", "series.csv", "--column", "x", "--steps", "3"],
            seeds: ["forecast_esn.safetensors", "series.csv"], numericFlags: ["--steps", "--guard-margin"]),
    Command(arguments: ["classify", "train", "--data", "reviews.csv", "--hidden-size", "4", "--embedding-size", "4", "--head-size", "4", "--out", "out"],
            seeds: ["reviews.csv"],
            numericFlags: ["--test-fraction", "--val-fraction", "--min-count", "--max-length", "--hidden-size", "--num-layers", "--dropout",
                           "--embedding-size", "--head-size", "--batch-size", "--learning-rate", "--grad-clip", "--ema-decay", "--patience", "--eval-every",
                           "--seed", "--split-seed", "--threads", "--ngrams", "--weight-decay"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "2"]),
    Command(arguments: ["classify", "eval", "--checkpoint", "classify_best.safetensors", "--data", "reviews.csv"],
            seeds: ["classify_best.safetensors", "reviews.csv"], numericFlags: ["--threads"]),
    Command(arguments: ["classify", "predict", "--checkpoint", "classify_best.safetensors"], seeds: ["classify_best.safetensors"],
            numericFlags: ["--threads"], stdin: "a gripping, beautifully acted film\n"),
    Command(arguments: ["classify", "series", "--data", "italy.csv", "--hidden-size", "4", "--fcn", "--out", "out"], seeds: ["italy.csv"],
            numericFlags: ["--features-per-step", "--test-fraction", "--val-fraction", "--hidden-size", "--num-layers", "--dropout", "--batch-size",
                           "--learning-rate", "--grad-clip", "--ema-decay", "--patience", "--eval-every", "--seed", "--split-seed", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "2"]),
    Command(arguments: ["classify", "eval", "--checkpoint", "series_fcn_best.safetensors", "--data", "italy.csv", "--layout", "wide"],
            seeds: ["series_fcn_best.safetensors", "italy.csv"], numericFlags: ["--features-per-step", "--threads"]),
    Command(arguments: ["classify", "predict", "--checkpoint", "series_fcn_best.safetensors", "--input", "italy.csv"],
            seeds: ["series_fcn_best.safetensors", "italy.csv"], numericFlags: ["--features-per-step", "--threads"]),
    Command(arguments: ["ctc", "train", "--data", "frames.csv", "--labels", "labels.csv", "--hidden-size", "4", "--num-layers", "1", "--out", "out"],
            seeds: ["frames.csv", "labels.csv"],
            numericFlags: ["--val-fraction", "--hidden-size", "--num-layers", "--dropout", "--frame-stack", "--batch-size", "--learning-rate",
                           "--grad-clip", "--ema-decay", "--patience", "--eval-every", "--seed", "--split-seed", "--beam-width", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "2"]),
    Command(arguments: ["ctc", "eval", "--checkpoint", "ctc_best.safetensors", "--data", "frames.csv", "--labels", "labels.csv"],
            seeds: ["ctc_best.safetensors", "frames.csv", "labels.csv"], numericFlags: ["--beam-width", "--threads"]),
    Command(arguments: ["seq2seq", "train", "--train", "pairs.tsv", "--target-tokens", "words", "--hidden-size", "4", "--embedding-size", "4",
                        "--out", "out"],
            seeds: ["pairs.tsv"],
            numericFlags: ["--hidden-size", "--num-layers", "--dropout", "--embedding-size", "--label-smoothing", "--batch-size", "--learning-rate",
                           "--grad-clip", "--ema-decay", "--warmup-steps", "--min-lr-factor", "--eval-every", "--patience", "--seed", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "2"]),
    Command(arguments: ["seq2seq", "eval", "--checkpoint", "s2s_best.safetensors", "--data", "pairs.tsv"],
            seeds: ["s2s_best.safetensors", "pairs.tsv"], numericFlags: ["--beam", "--length-penalty", "--max-length", "--threads"]),
    Command(arguments: ["tag", "train", "--train", "tags.tsv", "--validation", "tags.tsv", "--hidden-size", "4", "--embedding-size", "4",
                        "--char-embedding-size", "2", "--char-hidden-size", "2", "--out", "out"],
            seeds: ["tags.tsv"],
            numericFlags: ["--val-fraction", "--train-fraction", "--hidden-size", "--num-layers", "--dropout", "--embedding-size",
                           "--char-embedding-size", "--char-hidden-size", "--batch-size", "--learning-rate", "--grad-clip", "--ema-decay", "--eval-every",
                           "--patience", "--seed", "--threads"] + trainingBudget,
            budgetFlags: trainingBudget, budgetArguments: ["--steps", "2"]),
    Command(arguments: ["tag", "eval", "--checkpoint", "tag_best.safetensors", "--data", "tags.tsv"], seeds: ["tag_best.safetensors", "tags.tsv"],
            numericFlags: ["--threads"]),
    Command(arguments: ["tag", "predict", "--checkpoint", "tag_best.safetensors"], seeds: ["tag_best.safetensors"],
            numericFlags: ["--threads"], stdin: "The cat sat on the mat .\n"),
    Command(arguments: ["infer", "--weights", "lstm.safetensors", "--input", "lstm_x.npy", "--output", "y.npy", "--final-state", "h.npy"],
            seeds: ["lstm.safetensors", "lstm_x.npy"], numericFlags: []),
    Command(arguments: experiment + ["--out", "out"], seeds: [],
            numericFlags: ["--hidden-size", "--batch-size", "--learning-rate", "--grad-clip", "--memory-gate-bias", "--eval-every",
                           "--validation-count", "--test-count", "--seed", "--threads"] + trainingBudget.filter { $0 != "--epochs" },
            budgetFlags: ["--steps", "--time-limit"], budgetArguments: ["--steps", "2"]),
    Command(arguments: ["bench", "ctc", "--batch", "2", "--frames", "10", "--classes", "5", "--target-length", "3", "--repeats", "1", "--threads", "1"],
            seeds: [], numericFlags: ["--batch", "--frames", "--classes", "--target-length", "--repeats", "--threads"]),
    Command(arguments: ["bench", "esn", "--units", "50", "--steps", "100", "--repeats", "1", "--threads", "1"], seeds: [],
            numericFlags: ["--units", "--steps", "--connectivity", "--repeats", "--threads"]),
    Command(arguments: ["bench", "gemm", "--seconds", "0.01", "--shapes", "8x8x8", "--threads", "1", "--matmul-precision", "medium"], seeds: [],
            numericFlags: ["--seconds", "--threads"]),
  ]

  /// The extremes every numeric flag is pushed to (spelled `--flag=value`, so `-1` is not read as a flag).
  public static let extremeValues: [(label: String, text: String)] = [
    ("0", "0"), ("-1", "-1"), ("2^31", "2147483648"), ("2^62", "4611686018427387904"), ("NaN", "nan"), ("inf", "inf"),
  ]

  // MARK: - Checkpoints

  /// A checkpoint seed and the command that reads it (`{}` stands for the damaged file).
  public struct Checkpoint: Sendable {
    public var seed: String
    public var arguments: [String]
    public var otherSeeds: [String]
    public var stdin: String? = nil
  }

  public static let checkpoints: [Checkpoint] = [
    Checkpoint(seed: "lm_best.safetensors", arguments: ["generate", "--checkpoint", "{}", "--length", "20", "--seed", "1"], otherSeeds: []),
    Checkpoint(seed: "lm_best.safetensors", arguments: ["eval", "--checkpoint", "{}", "--corpus", "corpus.txt"], otherSeeds: ["corpus.txt"]),
    Checkpoint(seed: "lm_last.safetensors", arguments: ["train", "--resume", "{}", "--steps", "5", "--out", "out"], otherSeeds: ["corpus.txt"]),
    Checkpoint(seed: "forecast_lstm.safetensors", arguments: ["forecast", "--predict", "--checkpoint", "{}", "--csv", "series.csv", "--column", "x", "--steps", "3"],
               otherSeeds: ["series.csv"]),
    Checkpoint(seed: "forecast_esn.safetensors", arguments: ["forecast", "--predict", "--checkpoint", "{}", "--csv", "series.csv", "--column", "x", "--steps", "3"],
               otherSeeds: ["series.csv"]),
    Checkpoint(seed: "classify_best.safetensors", arguments: ["classify", "eval", "--checkpoint", "{}", "--data", "reviews.csv"], otherSeeds: ["reviews.csv"]),
    Checkpoint(seed: "classify_last.safetensors", arguments: ["classify", "train", "--resume", "{}", "--data", "reviews.csv", "--steps", "4", "--out", "out"],
               otherSeeds: ["reviews.csv"]),
    Checkpoint(seed: "tag_best.safetensors", arguments: ["tag", "eval", "--checkpoint", "{}", "--data", "tags.tsv"], otherSeeds: ["tags.tsv"]),
    Checkpoint(seed: "tag_best.safetensors", arguments: ["tag", "predict", "--checkpoint", "{}"], otherSeeds: [], stdin: "The cat sat .\n"),
    Checkpoint(seed: "tag_last.safetensors", arguments: ["tag", "train", "--resume", "{}", "--train", "tags.tsv", "--validation", "tags.tsv", "--steps", "4", "--out", "out"],
               otherSeeds: ["tags.tsv"]),
    Checkpoint(seed: "legacy.safetensors", arguments: ["convert", "{}", "converted.safetensors"], otherSeeds: []),
    Checkpoint(seed: "series_fcn_best.safetensors", arguments: ["classify", "eval", "--checkpoint", "{}", "--data", "italy.csv", "--layout", "wide"],
               otherSeeds: ["italy.csv"]),
    Checkpoint(seed: "ctc_best.safetensors", arguments: ["ctc", "eval", "--checkpoint", "{}", "--data", "frames.csv", "--labels", "labels.csv"],
               otherSeeds: ["frames.csv", "labels.csv"]),
    Checkpoint(seed: "ctc_last.safetensors", arguments: ["ctc", "train", "--resume", "{}", "--data", "frames.csv", "--labels", "labels.csv",
                                                         "--steps", "4", "--out", "out"], otherSeeds: ["frames.csv", "labels.csv"]),
    Checkpoint(seed: "s2s_best.safetensors", arguments: ["seq2seq", "eval", "--checkpoint", "{}", "--data", "pairs.tsv"], otherSeeds: ["pairs.tsv"]),
    Checkpoint(seed: "s2s_last.safetensors", arguments: ["seq2seq", "train", "--resume", "{}", "--steps", "4", "--out", "out"], otherSeeds: ["pairs.tsv"]),
  ]
}
