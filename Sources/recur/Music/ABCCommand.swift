import ArgumentParser
import Foundation
import Recur

/// `recur abc`: reads ABC files, reports how many tunes read and are valid, and writes MIDI.
struct ABCCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "abc",
    abstract: "Check the tunes of ABC files and convert them to MIDI.",
    discussion: """
      A tune is valid when it reads, has X:, M: and K: fields, has notes, and its bars fit the metre \
      (partial bars only at the start, the end and around section bar lines and repeat endings). \
      With --midi each tune that reads is written as a Standard MIDI File, repeats played out.
      """
  )

  @Argument(help: ArgumentHelp("ABC files (tunes separated by blank lines, each starting with X:).", valueName: "file")) var files: [String]
  @Option(help: ArgumentHelp("Write each tune that reads as DIR/tune-NNNN.mid (numbered in file order).", valueName: "dir")) var midi: String?
  @Flag(help: "List every tune that is unreadable or invalid, with its first problem.") var problems = false
  @Flag(help: "Print the counts as JSON.") var json = false

  func run() throws {
    try reportingErrors { try check() }
  }

  struct FileReport: Encodable {
    var file: String, tunes: Int, read: Int, valid: Int, read_share: Double, valid_share: Double
    var problems: [TuneProblem]?
  }
  struct TuneProblem: Encodable { var line: Int, reference: String, problem: String }

  func check() throws {
    let books = try files.map { try ABCBook.load(path: $0) }
    var outputs = AtomicFileSet()
    var written = 0
    if let midi {
      let directory = URL(fileURLWithPath: midi)
      try checkWritableDirectory(directory)
      var index = 0
      for book in books {
        for entry in book.entries {
          index += 1
          guard case .success(let tune) = entry.result else { continue }
          if written == 0 { try OutputDirectories.create(directory) }
          try outputs.add(try tune.midiFile().bytes(), to: directory.appendingPathComponent(String(format: "tune-%04d.mid", index)))
          written += 1
        }
      }
    }
    let reports = books.map { book -> FileReport in
      let n = book.entries.count
      let listed = problems ? book.entries.filter { !$0.isValid }.map { entry in
        TuneProblem(line: entry.line, reference: String(entry.text.prefix { $0 != "\n" }), problem: entry.problems.first?.description ?? "")
      } : nil
      return FileReport(file: book.source, tunes: n, read: book.readCount, valid: book.validCount,
                        read_share: n > 0 ? Double(book.readCount) / Double(n) : 0, valid_share: n > 0 ? Double(book.validCount) / Double(n) : 0,
                        problems: listed)
    }
    var text = ""
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      text = String(decoding: try encoder.encode(reports), as: UTF8.self) + "\n"
    } else {
      for r in reports {
        for p in r.problems ?? [] { text += "\(r.file) line \(p.line) (\(p.reference)): \(p.problem)\n" }
        text += String(format: "%@: %d tunes, %d read (%.1f %%), %d valid (%.1f %%)\n", r.file, r.tunes, r.read, 100 * r.read_share,
                       r.valid, 100 * r.valid_share)
      }
      if let midi { text += "\(written) MIDI file\(written == 1 ? "" : "s") written to \(midi)\n" }
    }
    // The report goes out first: should standard output fail (a full disk), no file appears.
    StandardStream.output.write(text)
    StandardStream.output.flush()
    guard !StandardStream.output.hasFailed else {
      outputs.discard()
      StandardStream.output.discardFailure()
      throw CLIError("cannot write the report to standard output (\(String(cString: strerror(errno)))); no file was written")
    }
    try outputs.commit()
  }
}
