import Foundation
import Recur
import Testing

/// The library's errors speak its own language: parameters by their Swift names, files by path —
/// never command-line flags (the CLI maps names to flags; see ForecastCLITests / TrainCLITests).
@Suite("Library errors name parameters, not flags")
struct ErrorVocabularyTests {
  /// The error `body` throws (nil if it does not).
  private func thrown(_ body: () throws -> Void) -> (any Error)? {
    do { try body(); return nil } catch { return error }
  }

  private func expectNoFlag(_ error: (any Error)?, sourceLocation: SourceLocation = #_sourceLocation) {
    let text = error.map { "\($0)" } ?? ""
    #expect(!text.isEmpty, "no error", sourceLocation: sourceLocation)
    #expect(text.range(of: #"--[a-z]"#, options: .regularExpression) == nil, "names a flag: \(text)", sourceLocation: sourceLocation)
  }

  private func parameter(_ error: (any Error)?) -> InvalidParameter? {
    (error as? any InvalidParameterReporting)?.invalidParameter
  }

  @Test func reservoirSettingsAreNamedAsInTheAPI() {
    let cases: [(String, () throws -> Void)] = [
      ("units", { _ = try Reservoir(units: 0) }),
      ("leakRate", { _ = try Reservoir(units: 10, leakRate: 1.5) }),
      ("spectralRadius", { _ = try Reservoir(units: 10, spectralRadius: 0) }),
      ("inputConnectivity", { _ = try Reservoir(units: 10, inputConnectivity: 0) }),
      ("recurrentConnectivity", { _ = try Reservoir(units: 10, recurrentConnectivity: 1.5) }),
      ("count", { _ = try mackeyGlass(count: -1) }),
      ("tau", { _ = try mackeyGlass(count: 10, tau: -3) }),
    ]
    for (name, body) in cases {
      let error = thrown(body)
      #expect(error is ReservoirError, "\(name): \(String(describing: error))")
      #expect(parameter(error)?.name == name, "\(name): \(String(describing: error))")
      expectNoFlag(error)
    }
    let leak = thrown { _ = try Reservoir(units: 10, leakRate: 1.5) }
    #expect(leak as? ReservoirError == .invalidParameter(InvalidParameter(name: "leakRate", value: "1.5", expected: "in (0, 1]")))
    #expect("\(leak!)" == "leakRate must be in (0, 1], got 1.5")
  }

  @Test func forecastingSettingsAreNamedAsInTheAPI() {
    let cases: [(String, () throws -> Void)] = [
      ("lookback", { _ = try ForecastSplit(count: 100, lookback: 0, horizon: 1, testFraction: 0.2) }),
      ("horizon", { _ = try ForecastSplit(count: 100, lookback: 5, horizon: 0, testFraction: 0.2) }),
      ("testFraction", { _ = try ForecastSplit(count: 100, lookback: 5, horizon: 1, testFraction: 1) }),
      ("validationFraction", { _ = try ForecastSplit(count: 100, lookback: 5, horizon: 1, testFraction: 0.5, validationFraction: 0.5) }),
      ("lookback", { _ = try ESNForecaster(lookback: 0, horizon: 1) }),
      ("ridge", { var c = ESNForecaster.Configuration(); c.ridge = -1; _ = try ESNForecaster(configuration: c, lookback: 2, horizon: 1) }),
      ("units", { var c = ESNForecaster.Configuration(); c.units = 0; _ = try ESNForecaster(configuration: c, lookback: 2, horizon: 1) }),
      ("leakRate", { var c = ESNForecaster.Configuration(); c.leakRate = 2; _ = try ESNForecaster(configuration: c, lookback: 2, horizon: 1) }),
      ("columns", { _ = try TimeSeriesCSV.parse("a,b\n1,2\n", columns: []) }),
    ]
    for (name, body) in cases {
      let error = thrown(body)
      #expect(parameter(error)?.name == name, "\(name): \(String(describing: error))")
      expectNoFlag(error)
    }
  }

  @Test func dataErrorsCarryTheirFacts() {
    let missing = thrown { _ = try TimeSeriesCSV.parse("year,value\n0,1\n", columns: ["values"], source: "data.csv") }
    #expect(missing as? TimeSeriesError == .missingColumn(column: "values", source: "data.csv", available: ["year", "value"]))
    #expect("\(missing!)" == "column 'values' not found in data.csv; its columns are: year, value")

    let twice = thrown { _ = try TimeSeriesCSV.parse("a,b\n1,2\n", columns: ["a", "b", "a"]) }
    #expect(twice as? TimeSeriesError == .columnSelectedTwice(column: "a", columns: ["a", "b", "a"]))
    expectNoFlag(twice)

    let gap = thrown { _ = try TimeSeriesCSV.parse("t,x\n0,1\n1,\n2,3\n", columns: ["x"], source: "gap.csv") }
    #expect(gap as? TimeSeriesError == .emptyCell(source: "gap.csv", line: 3, column: "x"))
    expectNoFlag(gap)

    let short = thrown { _ = try ForecastSplit(count: 20, lookback: 12, horizon: 6, testFraction: 0.2) }
    #expect(short as? TimeSeriesError == .seriesTooShort(rows: 20, needed: 24, lookback: 12, horizon: 6, validationRows: 0, testRows: 6))
    expectNoFlag(short)

    // Two training windows: too few to hold some out for choosing the ridge and the input mode.
    let series = DoubleMatrix(column: (0..<40).map { sin(Double($0)) })
    let split = try? ForecastSplit(count: 40, lookback: 30, horizon: 1, testFraction: 0.2)
    var model = try? ESNForecaster(lookback: 30, horizon: 1)
    let selection = thrown { _ = try model!.fit(series: series, split: split!) }
    #expect(selection as? TimeSeriesError == .tooFewWindowsToSelect(windows: 2, parameters: ["ridge", "inputMode"]))
    expectNoFlag(selection)
  }

  @Test func textErrorsCarryTheirFacts() {
    let batches = thrown { _ = try TextBatches(ids: Array(0..<19), batchSize: 4, seqLength: 4, what: "training") }
    #expect((batches as? TextCorpusError)?.reason == .tooShortForBatches(part: "training", characters: 19, batchSize: 4, seqLength: 4))
    expectNoFlag(batches)

    let corpus = TextCorpus(text: "hello", source: "hello.txt")
    let window = thrown { try corpus.checkLength(seqLength: 10) }
    #expect((window as? TextCorpusError)?.reason == .shorterThanOneWindow(source: "hello.txt", characters: 5, seqLength: 10))
    expectNoFlag(window)

    let file = thrown { _ = try TextCorpus.load(path: "/nonexistent/recur/corpus.txt") }
    #expect((file as? TextCorpusError)?.reason == .unusableFile(path: "/nonexistent/recur/corpus.txt"))
    expectNoFlag(file)
  }

  /// No string literal in the library names a flag (`--something`).
  @Test func librarySourcesNameNoFlags() throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Sources/Recur")
    let files = FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil)!
      .compactMap { $0 as? URL }.filter { $0.pathExtension == "swift" }
    #expect(files.count > 20)
    for file in files {
      let text = try String(contentsOf: file, encoding: .utf8)
      for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated()
      where line.range(of: #""[^"]*--[a-z][^"]*""#, options: .regularExpression) != nil {
        Issue.record("\(file.lastPathComponent):\(number + 1) names a flag: \(line.trimmingCharacters(in: .whitespaces))")
      }
    }
  }

  @Test func warningsGoToTheDiagnosticsHandler() {
    final class Box: @unchecked Sendable { var warnings: [Diagnostics.Warning] = [] }
    let box = Box()
    let previous = Diagnostics.handler
    Diagnostics.handler = { box.warnings.append($0) }
    defer { Diagnostics.handler = previous }
    Diagnostics.warn("dropout=0.5 with numLayers=1 has no effect", source: "Test")
    #expect(box.warnings == [Diagnostics.Warning(source: "Test", message: "dropout=0.5 with numLayers=1 has no effect")])
  }
}
