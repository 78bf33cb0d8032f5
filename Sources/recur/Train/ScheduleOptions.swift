import ArgumentParser
import Recur

/// The learning-rate schedule of `recur train`: its shape, warm-up and the shapes' parameters.
struct ScheduleOptions: ParsableArguments {
  typealias Defaults = TrainCommand.Defaults

  @Option(name: .customLong("lr-schedule"), help: ArgumentHelp("constant, cosine (to --min-lr-factor × the rate at the end of the budget) or step (× --lr-decay every --lr-decay-every steps) (default cosine).", valueName: "constant|cosine|step")) var lrSchedule: String?
  @Option(name: .customLong("warmup-steps"), parsing: .unconditional, help: "Steps of linear learning-rate warm-up (default \(Defaults.warmupSteps)).") var warmupSteps: Int?
  @Option(name: .customLong("min-lr-factor"), parsing: .unconditional, help: "Cosine schedule: final rate as a fraction of the peak (default \(Defaults.minLearningRateFactor)).") var minLRFactor: Float?
  @Option(name: .customLong("lr-decay"), parsing: .unconditional, help: "Step schedule: factor per decay (default 0.5).") var lrDecay: Float?
  @Option(name: .customLong("lr-decay-every"), parsing: .unconditional, help: "Step schedule: steps between decays (default 1000).") var lrDecayEvery: Int?

  /// The schedule these flags give (cosine and `recur train`'s defaults where absent).
  func settings() throws -> ScheduleSettings {
    var schedule = ScheduleSettings(kind: .cosine)
    if let name = lrSchedule {
      guard let kind = ScheduleSettings.Kind(rawValue: name.lowercased()) else {
        throw CLIError("unknown --lr-schedule \"\(name)\"; use constant, cosine or step")
      }
      schedule.kind = kind
    }
    schedule.warmupSteps = warmupSteps ?? Defaults.warmupSteps
    schedule.minLearningRateFactor = minLRFactor ?? Defaults.minLearningRateFactor
    schedule.decayFactor = lrDecay ?? schedule.decayFactor
    schedule.decayEvery = lrDecayEvery ?? schedule.decayEvery
    return schedule
  }

  /// The flags of this group given on the command line.
  var givenFlags: [String] {
    flagsGiven([("--lr-schedule", lrSchedule != nil), ("--warmup-steps", warmupSteps != nil), ("--min-lr-factor", minLRFactor != nil),
                ("--lr-decay", lrDecay != nil), ("--lr-decay-every", lrDecayEvery != nil)])
  }
}
