import Foundation

/// The results file of `recur experiment`: every run of one problem, with what produced them.
/// JSON, written atomically after each run (an interrupted experiment keeps the runs it finished).
public struct LongMemoryResults: Codable, Sendable, Equatable {
  /// The file format's version.
  public var formatVersion = 1
  /// Who wrote it (Recur version and command line).
  public var producer: String
  /// "adding" or "copy".
  public var problem: String
  /// The runs, in the order they finished.
  public var runs: [LongMemoryRunResult]

  /// Results of `problem` from `producer`.
  public init(producer: String, problem: String, runs: [LongMemoryRunResult] = []) {
    self.producer = producer
    self.problem = problem
    self.runs = runs
  }

  /// Reads a results file. Throws `DataError` when it cannot be read or is not a results file of
  /// this format (the message names the file and what is wrong).
  public static func read(from url: URL) throws -> LongMemoryResults {
    let (text, source) = try DataFile.text(url)
    let results: LongMemoryResults
    do {
      results = try decoder.decode(LongMemoryResults.self, from: Data(text.utf8))
    } catch {
      throw DataError.malformed(source: source, line: 1, column: nil,
                                problem: "not a long-memory results file written by recur experiment (\(Self.reason(error)))")
    }
    guard results.formatVersion == 1 else {
      throw DataError.malformed(source: source, line: 1, column: "formatVersion",
                                problem: "results format \(results.formatVersion); this Recur reads format 1")
    }
    if let problem = results.inconsistency() {
      throw DataError.malformed(source: source, line: 1, column: nil, problem: problem + "; rerun recur experiment to rewrite the file")
    }
    return results
  }

  /// What does not fit together in the results (nil when everything does): runs of another
  /// problem, counts out of range, gradient snapshots whose length differs from their time steps.
  func inconsistency() -> String? {
    guard problem == "adding" || problem == "copy" else { return "problem is \"\(problem)\", not adding or copy" }
    for (i, run) in runs.enumerated() {
      let name = "runs[\(i)]"
      guard run.settings.configuration.problem.kind == problem else { return "\(name) is a \(run.settings.configuration.problem.kind) run in \(problem) results" }
      guard run.settings.configuration.hiddenSize >= 1, run.steps >= 0, run.sequencesSeen >= 0, run.test.sequences >= 0 else {
        return "\(name) has a negative count"
      }
      let times = run.gradientFlow.timeSteps
      guard times.count <= 1 << 16, times.allSatisfy({ $0 >= 0 }) else { return "\(name).gradientFlow.timeSteps are out of range" }
      for (j, snapshot) in run.gradientFlow.snapshots.enumerated() where snapshot.norms.count != times.count {
        return "\(name).gradientFlow.snapshots[\(j)] has \(snapshot.norms.count) norms for \(times.count) time steps"
      }
    }
    return nil
  }

  static let floatStrategy = (positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")

  static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: floatStrategy.positiveInfinity, negativeInfinity: floatStrategy.negativeInfinity, nan: floatStrategy.nan)
    return decoder
  }

  /// A one-line reason for a decoding error: the missing or mistyped key and where it is.
  static func reason(_ error: Error) -> String {
    guard let e = error as? DecodingError else { return "\(error)" }
    func path(_ c: DecodingError.Context) -> String {
      c.codingPath.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
    }
    switch e {
    case .keyNotFound(let key, let c): return "\(path(c)).\(key.stringValue) is missing"
    case .typeMismatch(_, let c), .valueNotFound(_, let c): return "\(path(c)): \(c.debugDescription)"
    case .dataCorrupted(let c): return c.codingPath.isEmpty ? "not JSON" : "\(path(c)): \(c.debugDescription)"
    @unknown default: return "\(error)"
    }
  }

  /// Writes the results as compact JSON (keys sorted), atomically.
  public func write(to url: URL) throws {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: Self.floatStrategy.positiveInfinity, negativeInfinity: Self.floatStrategy.negativeInfinity, nan: Self.floatStrategy.nan)
    try AtomicFile.write(Array(try encoder.encode(self)), to: url)
  }
}
