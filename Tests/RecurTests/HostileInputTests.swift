import Foundation
import Testing
import _RecurTestSupport

/// `recur` on hostile inputs (`HostileGenerator`): every case runs as a subprocess under an
/// address-space limit and a 20 s deadline, three at a time, and must end in a one-line error
/// (exit 1, or 64 for usage errors) that wrote nothing, or in exit 0 with a finite report —
/// never a signal, never a hang.
@Suite struct HostileInputTests {
  @Test func everyHostileInputEndsInAnErrorOrACorrectResult() throws {
    let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!
    let executable = recurExecutablePath()
    let start = Date()
    let seeds = try HostileSeeds.build(fixtures: fixtures, executable: executable)
    // CI keeps a seeded sample of the checkpoint cases; RECUR_HOSTILE_FULL=1 runs all of them.
    let full = ProcessInfo.processInfo.environment["RECUR_HOSTILE_FULL"] != nil
    // RECUR_HOSTILE_MATCH=a|b runs only the cases whose name contains a or b (checking one command);
    // RECUR_HOSTILE_GROUPS=abc,corpus only those groups (a quick check while working on one reader).
    let match = ProcessInfo.processInfo.environment["RECUR_HOSTILE_MATCH"]?.split(separator: "|").map(String.init)
    let groups = ProcessInfo.processInfo.environment["RECUR_HOSTILE_GROUPS"].map { Set($0.split(separator: ",").map(String.init)) }
    let cases = HostileGenerator.cases(seeds, checkpointSample: full ? nil : 300)
      .filter { c in match.map { $0.contains { c.name.contains($0) } } ?? true }
      .filter { groups?.contains($0.group) ?? true }
    let scratch = try makeTemporaryDirectory("recur-hostile")
    defer { try? FileManager.default.removeItem(at: scratch) }

    let results = HostileResults(count: cases.count)
    let workers = 3
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
      for index in stride(from: worker, to: cases.count, by: workers) {
        do {
          let (run, problem) = try HostileVerdict.run(cases[index], executable: executable, scratch: scratch)
          results.record(index, run: run, problem: problem)
          if let problem, ProcessInfo.processInfo.environment["RECUR_HOSTILE_VERBOSE"] != nil {
            FileHandle.standardError.write(Data("HOSTILE FAIL [\(cases[index].group)] \(cases[index].name): \(problem.prefix(300))\n".utf8))
          }
        } catch {
          results.record(index, run: nil, problem: "could not run: \(error)")
        }
      }
    }

    let summary = results.summary(cases)
    print(summary.text + String(format: "\nwall time: %.1f s", Date().timeIntervalSince(start)))
    #expect(cases.count >= (match == nil && groups == nil ? 1_000 : 1), "only \(cases.count) hostile cases")
    #expect(summary.failures.isEmpty, "\(summary.failures.count) hostile cases failed:\n\(summary.failures.prefix(40).joined(separator: "\n"))")
  }
}

/// Results of the concurrently run cases, by case index.
private final class HostileResults: @unchecked Sendable {
  private let lock = NSLock()
  private var outcomes: [ConfinedOutcome?]
  private var problems: [String?]
  private var seconds: [Double]

  init(count: Int) {
    outcomes = Array(repeating: nil, count: count)
    problems = Array(repeating: nil, count: count)
    seconds = Array(repeating: 0, count: count)
  }

  func record(_ index: Int, run: ConfinedRun?, problem: String?) {
    lock.lock()
    defer { lock.unlock() }
    outcomes[index] = run?.outcome
    problems[index] = problem
    seconds[index] = run?.seconds ?? 0
  }

  func summary(_ cases: [HostileCase]) -> (text: String, failures: [String]) {
    lock.lock()
    defer { lock.unlock() }
    var byGroup: [String: (cases: Int, errors: Int, successes: Int, failures: Int)] = [:]
    var failures: [String] = []
    var signals = 0, hangs = 0
    for (i, c) in cases.enumerated() {
      var g = byGroup[c.group] ?? (0, 0, 0, 0)
      g.cases += 1
      if let problem = problems[i] {
        g.failures += 1
        failures.append("[\(c.group)] \(c.name) (recur \(c.arguments.joined(separator: " ").prefix(160))): \(problem)")
      } else if outcomes[i] == .exited(0) {
        g.successes += 1
      } else {
        g.errors += 1
      }
      if case .signalled? = outcomes[i] { signals += 1 }
      if outcomes[i] == .timedOut { hangs += 1 }
      byGroup[c.group] = g
    }
    var lines = ["hostile inputs: \(cases.count) cases, \(failures.count) failures, \(signals) killed by a signal, \(hangs) hangs"]
    for (group, g) in byGroup.sorted(by: { $0.key < $1.key }) {
      lines.append("  \(group): \(g.cases) cases, \(g.errors) one-line errors, \(g.successes) exit 0, \(g.failures) failures")
    }
    let slowest = seconds.indices.sorted { seconds[$0] > seconds[$1] }.prefix(3)
    lines.append("slowest cases: " + slowest.map { String(format: "%.1f s %@", seconds[$0], cases[$0].name) }.joined(separator: "; "))
    return (lines.joined(separator: "\n"), failures)
  }
}
