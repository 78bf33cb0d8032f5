import ArgumentParser
import Foundation
import Recur

/// `recur checkpoint-stress` (hidden): saves a large checkpoint over and over, for the test that
/// kills this process mid-write and checks the file is always a whole checkpoint.
///
/// Archive k has configuration k, every model value equal to k, every optimiser value equal to
/// −k and config `{"step":k}`, so a reader can tell a torn or mixed file from a whole one. After
/// each save it prints `saved k` (flushed), so the killer knows the last completed step.
struct CheckpointStressCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "checkpoint-stress",
    abstract: "Save a checkpoint repeatedly (a test tool for atomic writes).",
    shouldDisplay: false
  )

  @Option(help: "The checkpoint to overwrite.") var output: String

  @Option(help: "Size of the model tensors in MiB (the optimiser state is as large again).") var megabytes: Double = 4

  @Option(help: "Number of saves; 0 means until killed.") var iterations = 0

  @Option(help: "The first step to save (default: one past the step of the checkpoint on disk).") var startStep: Int?

  func run() throws {
    let url = URL(fileURLWithPath: output)
    var step = try startStep ?? ((FileManager.default.fileExists(atPath: url.path) ? Int(ModelArchive.read(from: url).configuration) ?? 0 : 0) + 1)
    let count = max(1, Int(megabytes * 1_048_576 / 4) / 2)
    print("ready \(step)")
    StandardStream.output.flush()
    var done = 0
    while iterations == 0 || done < iterations {
      let value = Float(step)
      var archive = ModelArchive(task: "stress", configuration: String(step))
      archive.add([("weight_a", Tensor(repeating: value, shape: [count])), ("weight_b", Tensor(repeating: value, shape: [count / 2, 2]))])
      archive.add([("exp_avg", Tensor(repeating: -value, shape: [count]))], prefix: ModelArchive.optimizerPrefix)
      try archive.write(to: url)
      print("saved \(step)")
      StandardStream.output.flush()
      step += 1
      done += 1
    }
  }
}
