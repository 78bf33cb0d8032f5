import ArgumentParser
import Recur

/// How long `recur train` trains: steps, epochs or time, whichever ends first.
struct BudgetOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "Stop after this many steps.") var steps: Int?
  @Option(parsing: .unconditional, help: "Stop after this many passes over the training text (may be fractional).") var epochs: Double?
  @Option(name: .customLong("time-limit"), help: ArgumentHelp("Stop after this much time (evaluations included): 300, 90s, 5m, 1h30m (default \(TrainCommand.Defaults.timeLimitText) when no --steps or --epochs).", valueName: "duration")) var timeLimit: String?

  /// Sets the budget from --steps / --epochs / --time-limit; with none of them, a time limit of
  /// `defaultTimeLimit` (nil keeps the options' budget).
  func apply(to o: inout TrainerOptions, defaultTimeLimit: Double?) throws {
    let limit = try timeLimit.map(parseDuration)
    if steps != nil || epochs != nil || limit != nil {
      o.steps = steps
      o.epochs = epochs
      o.timeLimit = limit
    } else if let defaultTimeLimit {
      o.steps = nil
      o.epochs = nil
      o.timeLimit = defaultTimeLimit
    }
  }
}
