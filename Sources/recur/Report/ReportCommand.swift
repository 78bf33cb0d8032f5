import ArgumentParser
import Foundation
import Recur

/// `recur report`: one self-contained HTML page from `recur experiment` results and training
/// runs' `metrics.jsonl` files.
struct ReportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "report",
    abstract: "Write an HTML page (inline SVG, no scripts) from experiment results and training metrics.",
    discussion: """
      Experiments (--results): the networks unrolled, a table of every run, learning curves, test accuracy and \
      sequences to solve against T, and gradient-flow heat maps (‖∂L/∂h_t‖ over time step × training step) per cell, \
      with the cell diagrams and their equations. Training runs (--metrics): learning curves and a summary table.
      """)

  @Option(help: ArgumentHelp("A results.json of recur experiment (repeatable).", valueName: "file")) var results: [String] = []
  @Option(help: ArgumentHelp("A metrics.jsonl of any training run (repeatable).", valueName: "file")) var metrics: [String] = []
  @Option(help: ArgumentHelp("The page to write (default report.html).", valueName: "file")) var out = "report.html"
  @Option(help: ArgumentHelp("The page's title.", valueName: "text")) var title: String?

  func run() throws {
    try reportingErrors { try writeReport() }
  }

  func writeReport() throws {
    guard !results.isEmpty || !metrics.isEmpty else {
      throw CLIError("give at least one --results FILE (from recur experiment) or --metrics FILE (a run's metrics.jsonl)")
    }
    let experiments = try results.map { ReportPage.Experiment(path: $0, results: try LongMemoryResults.read(from: URL(fileURLWithPath: $0))) }
    let runs = try metrics.map { path in
      let url = URL(fileURLWithPath: path)
      guard FileManager.default.isReadableFile(atPath: path) else { throw CLIError("cannot read --metrics \(path)") }
      let log = MetricsLog.read(from: url)
      guard !log.records.isEmpty else { throw CLIError("\(path) holds no metrics records; pass a metrics.jsonl written by a training run") }
      return ReportPage.TrainingRun(path: path, log: log)
    }
    var page = ReportPage(experiments: experiments, trainingRuns: runs)
    if let title { page.title = title }
    let url = URL(fileURLWithPath: out)
    try checkWritableDirectory(url.deletingLastPathComponent())
    try AtomicFile.write(Array(page.render().utf8), to: url)
    print("Wrote \(out)")
  }
}
