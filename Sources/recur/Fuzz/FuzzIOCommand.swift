import ArgumentParser
import Foundation
import Recur
import RecurFuzz

/// `recur fuzz-io` (hidden): feeds mutated safetensors, .npy and checkpoint files to the readers
/// and reports how many parsed, how many were rejected (by error kind) and any broken invariant.
/// A crash would end the run early; a completed run means zero crashes.
struct FuzzIOCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "fuzz-io",
    abstract: "Fuzz the safetensors / .npy / checkpoint readers with mutated files (a test tool).",
    shouldDisplay: false
  )

  @Option(help: "Number of mutated inputs to parse.") var cases = 100_000

  @Option(help: "Random seed (runs are reproducible).") var seed: UInt64 = 1

  @Option(help: "A directory whose .safetensors and .npy files are added to the built-in seed files.") var seedsDirectory: String?

  func run() throws {
    var extra: [_IOFuzzer.Seed] = []
    if let seedsDirectory {
      let dir = URL(fileURLWithPath: seedsDirectory)
      let names = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
      for name in names {
        let format: _IOFuzzer.Format
        if name.hasSuffix(".safetensors") { format = .safetensors } else if name.hasSuffix(".npy") { format = .npy } else { continue }
        let bytes = [UInt8](try Data(contentsOf: dir.appendingPathComponent(name)))
        extra.append(_IOFuzzer.Seed(name: name, format: format, bytes: bytes))
      }
    }
    let start = Date()
    print("fuzz-io: \(cases) cases, seed \(seed), \(_IOFuzzer.builtInSeeds().count + extra.count) seed files")
    let report = _IOFuzzer.run(cases: cases, seed: seed, extraSeeds: extra) { partial in
      print("  \(partial.cases) cases: \(partial.parsed) parsed, \(partial.rejectedTotal) rejected, \(partial.failures.count) invariant failures")
      StandardStream.output.flush()
    }
    print(report)
    print(String(format: "crashes: 0 (the run completed)\nwall time: %.1f s", Date().timeIntervalSince(start)))
    if !report.failures.isEmpty { throw ExitCode.failure }
  }
}
