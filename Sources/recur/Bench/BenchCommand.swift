import ArgumentParser

/// `recur bench …`: speed figures for this machine.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract: "Measure kernel and layer speed on this machine.",
    subcommands: [BenchGemm.self, BenchRNN.self, BenchESN.self, BenchCTC.self, BenchSeq2Seq.self, BenchAllReduce.self, BenchComplete.self]
  )
}
