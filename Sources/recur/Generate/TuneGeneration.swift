import ArgumentParser
import Foundation
import Recur

/// The options of `recur generate --format abc`: how many tunes, their priming header fields and
/// where the valid ones go.
struct TuneGenerationOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "With --format abc: tunes to sample (default 10).") var count: Int?
  @Option(name: .customLong("header"), help: ArgumentHelp("With --format abc: a header field every tune starts with, e.g. --header M:6/8 --header K:G --header R:jig (repeatable).", valueName: "field")) var headers: [String] = []
  @Option(help: ArgumentHelp("With --format abc: directory for each valid tune as NNN.abc and NNN.mid (default runs/tunes).", valueName: "dir")) var out: String?
  @Flag(help: "With --format abc: print the report as JSON instead of the tunes.") var json = false

  /// Flags given that only mean something with --format abc.
  var givenFlags: [String] {
    flagsGiven([("--count", count != nil), ("--header", !headers.isEmpty), ("--out", out != nil), ("--json", json)])
  }
}

/// Samples tunes, checks each, prints them (or a JSON report) and writes the valid ones as ABC
/// and MIDI files, all together at the end (a failure writes none).
struct TuneGenerationRun {
  let generator: TuneGenerator
  let count: Int
  let out: URL
  let json: Bool

  struct TuneReport: Encodable { var number: Int, valid: Bool, ended: Bool, characters: Int, problems: [String], files: [String] }
  struct Report: Encodable { var tunes: Int, valid: Int, valid_share: Double, ended: Int, out: String, headers: [String], details: [TuneReport] }

  func run(sampler: inout Sampler) throws {
    try checkWritableDirectory(out)
    var outputs = AtomicFileSet()
    defer { outputs.discard() }
    var details: [TuneReport] = []
    for number in 1...count {
      let sample = try generator.sample(referenceNumber: number, sampler: &sampler)
      var files: [String] = []
      if sample.isValid, let tune = sample.tune {
        if outputs.isEmpty { try OutputDirectories.create(out) }
        let stem = String(format: "%03d", number)
        let midi = try tune.midiFile().bytes()
        try outputs.add(Array(sample.text.utf8), to: out.appendingPathComponent(stem + ".abc"))
        try outputs.add(midi, to: out.appendingPathComponent(stem + ".mid"))
        files = [stem + ".abc", stem + ".mid"].map { out.appendingPathComponent($0).path }
      }
      let problems = sample.ended ? sample.problems.map(\.description)
        : ["not ended by a blank line within \(generator.maximumLength) characters"] + sample.problems.map(\.description)
      details.append(TuneReport(number: number, valid: sample.isValid, ended: sample.ended, characters: sample.text.unicodeScalars.count,
                                problems: problems, files: files))
      if !json {
        StandardStream.output.write(sample.text)
        StandardStream.output.write(sample.isValid ? "% valid\n\n" : "% invalid: \(problems.first ?? "")\n\n")
        StandardStream.output.flush()
      }
    }
    let valid = details.filter(\.valid).count
    let report = Report(tunes: count, valid: valid, valid_share: Double(valid) / Double(count), ended: details.filter(\.ended).count,
                        out: out.path, headers: generator.primingFields.map { "\($0.letter):\($0.value)" }, details: details)
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      StandardStream.output.write(String(decoding: try encoder.encode(report), as: UTF8.self) + "\n")
    } else {
      StandardStream.output.write(String(format: "%% valid tunes: %d of %d (%.1f %%)", valid, count, 100 * report.valid_share)
        + (valid > 0 ? "; written as .abc and .mid to \(out.path)" : "") + "\n")
    }
    // Should standard output have failed (a full disk), no file appears.
    StandardStream.output.flush()
    guard !StandardStream.output.hasFailed else {
      StandardStream.output.discardFailure()
      throw CLIError("cannot write the tunes to standard output (\(String(cString: strerror(errno)))); no file was written")
    }
    try outputs.commit()
  }
}
