import ArgumentParser
import Recur

/// The `recur` command: trains, runs and measures recurrent networks.
@main
struct RecurCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "recur",
    abstract: "Recurrent neural networks: train, generate, forecast, inspect and benchmark.",
    subcommands: [TrainCommand.self, ClassifyCommand.self, CTCCommand.self, GenerateCommand.self, ABCCommand.self, ChatCommand.self, CompleteCommand.self, EvalCommand.self, ForecastCommand.self, TagCommand.self, Seq2SeqCommand.self, InferCommand.self, InspectCommand.self, ConvertCommand.self, BenchCommand.self, ExperimentCommand.self, ReportCommand.self, FuzzIOCommand.self, CheckpointStressCommand.self]
  )

  /// Installs the library's warning handler (standard error), then runs the command line.
  static func main() {
    Diagnostics.handler = { warn($0.message) }
    StandardStream.failOnLostOutputAtExit()
    ParallelRun.quietOtherRanks()
    main(nil)
    ParallelRun.finish()
  }
}
