import ArgumentParser
import Foundation
import Recur

/// `recur forecast`: fits a forecasting model on the first part of a CSV time series and reports
/// how well it forecasts the rest, next to the naive and seasonal-naive baselines; or, with
/// `--predict`, forecasts beyond the end of a series from a saved checkpoint.
struct ForecastCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "forecast",
    abstract: "Forecast a CSV time series (echo-state network, LSTM or GRU) and compare with naive baselines.",
    discussion: """
      Reads --csv, takes the column(s) named by --column (the first is the one forecast and scored; \
      several columns make a multivariate input), scales them on the training part, splits the rows \
      chronologically into train / validation / test, fits the model and forecasts --horizon steps \
      from every test origin, teacher-forced (each forecast sees the actual values up to its origin). \
      Reports RMSE, MAE, NRMSE (RMSE / std) and MASE on the test part for the model, the naive \
      forecast (last value) and the seasonal naive one (value --season steps earlier). \
      Writes forecasts.csv, forecast.svg, metrics.json and the checkpoint model.safetensors to --out.

      With --free-run N, the fitted model also runs free from every test origin (every \
      --free-run-stride-th): N steps, each forecast fed back as the next input, scored by the NRMSE \
      at every step (free-run.svg, free_run in metrics.json). A trajectory that leaves the plausible \
      range (the training range widened by --guard-margin range widths on each side) counts as diverged.

      With --predict, loads --checkpoint and forecasts --steps values after the last row of --csv \
      (forecasts are fed back when --steps exceeds the model's horizon). A fed-back forecast that \
      leaves the plausible range stops the command with an error instead of being printed.

      Examples:
        recur forecast --csv sunspots.csv --column sunactivity --season 11
        recur forecast --csv airline.csv --column passengers --horizon 12 --json
        recur forecast --csv airline.csv --column passengers --model gru --hidden-size 32
        recur forecast --mackey-glass 10000 --test-fraction 0.5 --validation-fraction 0.1 --free-run 200
        recur forecast --predict --checkpoint forecast-out/model.safetensors \\
          --csv airline.csv --steps 24
      """
  )

  // MARK: Data
  @Option(help: ArgumentHelp("CSV file with a header line.", valueName: "file")) var csv: String?
  @Option(name: .customLong("mackey-glass"), parsing: .unconditional, help: ArgumentHelp(
    "Instead of --csv: a generated Mackey-Glass series of this many steps (ReservoirPy's generator and default seed; column x).",
    valueName: "steps"))
  var mackeyGlass: Int?
  @Option(parsing: .unconditional, help: "With --mackey-glass: the delay tau.") var tau: Int = 17
  @Option(name: .customLong("column"), help: ArgumentHelp(
    "Column to forecast; repeat it (or separate names with commas) for multivariate input, the first is scored.",
    valueName: "name"))
  var columns: [String] = []
  @Option(help: ArgumentHelp("Empty cells: error (default), interpolate (linear) or drop (the row).", valueName: "error|interpolate|drop")) var fill: String?
  @Option(help: ArgumentHelp("Scaling fitted on the training part: zscore (default) or minmax (to [-1, 1]).", valueName: "zscore|minmax")) var scaling: String?

  // MARK: Task
  @Option(help: ArgumentHelp("Model kind: esn (echo-state network), lstm or gru.", valueName: "esn|lstm|gru")) var model: String = "esn"
  @Option(parsing: .unconditional, help: "Steps of history per forecast; the ESN's warm-up.") var lookback: Int = 24
  @Option(parsing: .unconditional, help: "Steps forecast from each origin.") var horizon: Int = 1
  @Option(name: .customLong("test-fraction"), parsing: .unconditional, help: "Fraction of rows at the end held out for testing, in (0, 1).") var testFraction: Double = 0.2
  @Option(name: .customLong("validation-fraction"), parsing: .unconditional, help: "Fraction of rows before the test part used to choose hyper-parameters (0: the end of the training part is used).") var validationFraction: Double = 0
  @Option(parsing: .unconditional, help: "Season length for the seasonal-naive baseline and the MASE scale (default: 12 for monthly, 52 for weekly, 4 for quarterly dates; else none).") var season: Int?

  // MARK: Free run
  @Option(name: .customLong("free-run"), parsing: .unconditional, help: ArgumentHelp(
    "Also run the model free (its forecasts fed back) for this many steps from every test origin and report the NRMSE at each step (free-run.svg; NRMSE84 when >= 84).",
    valueName: "steps"))
  var freeRun: Int?
  @Option(name: .customLong("free-run-stride"), parsing: .unconditional, help: "With --free-run: use every S-th test origin (default 1: all of them).") var freeRunStride: Int = 1
  @Option(name: .customLong("guard-margin"), parsing: .unconditional, help: ArgumentHelp(
    "A fed-back forecast outside the training range widened by this many range widths on each side counts as diverged (--free-run) or stops --predict with an error (default 1).",
    valueName: "widths"))
  var guardMargin: Double?

  // MARK: Models
  @OptionGroup var esn: ESNOptions
  @OptionGroup var recurrent: RecurrentForecastOptions

  @Option(parsing: .unconditional, help: "Random seed of the model weights (and, for LSTM/GRU, of the batch order).") var seed: UInt64 = 0

  // MARK: Output
  @Option(help: ArgumentHelp("Directory for forecasts.csv, forecast.svg, metrics.json and model.safetensors (default forecast-out; with --predict, nothing is written unless given).", valueName: "dir")) var out: String?
  @Flag(help: "Print the metrics (or, with --predict, the forecasts) as JSON instead of a table.") var json = false

  // MARK: Predict mode
  @Flag(help: "Forecast beyond the end of --csv with the model in --checkpoint instead of training.") var predict = false
  @Option(help: ArgumentHelp("Checkpoint written by a previous run (model.safetensors).", valueName: "file")) var checkpoint: String?
  @Option(parsing: .unconditional, help: "With --predict: steps to forecast (default: the model's horizon).") var steps: Int?

  func run() throws {
    try reportingErrors(flags: .forecast) {
      if predict {
        try ForecastPrediction(command: self).run()
      } else {
        try ForecastTraining(command: self).run()
      }
    }
  }

  /// The selected column names (repeated options and comma-separated lists).
  var columnNames: [String] {
    columns.flatMap { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }.filter { !$0.isEmpty }
  }

  /// The `--guard-margin` (the library's default when absent), checked.
  func plausibleMargin() throws -> Double {
    guard let m = guardMargin else { return PlausibleRange.defaultMargin }
    guard m >= 0, m.isFinite else { throw CLIError("--guard-margin must be a number >= 0, got \(m)") }
    return m
  }

  func fillPolicy(default fallback: MissingValuePolicy = .error) throws -> MissingValuePolicy {
    guard let fill else { return fallback }
    guard let policy = MissingValuePolicy(rawValue: fill) else {
      throw CLIError("--fill must be error, interpolate or drop, got '\(fill)'")
    }
    return policy
  }
}
