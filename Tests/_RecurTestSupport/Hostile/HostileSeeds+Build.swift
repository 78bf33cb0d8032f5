import Foundation

extension HostileSeeds {
  /// The registry's seeds: fixture files copied from `fixtures` (the test bundle's `Fixtures`
  /// directory), the corpus, and the checkpoints written by running `executable` on them.
  public static func build(fixtures: URL, executable: String) throws -> HostileSeeds {
    let dir = try makeTemporaryDirectory("recur-hostile-seeds")
    defer { try? FileManager.default.removeItem(at: dir) }
    var files: [String: [UInt8]] = ["corpus.txt": Array(HostileRegistry.corpus.utf8)]
    for (name, text) in HostileRegistry.generatedSeeds { files[name] = Array(text.utf8) }
    for (fixture, seed) in HostileRegistry.fixtureSeeds {
      files[seed] = [UInt8](try Data(contentsOf: fixtures.appendingPathComponent(fixture)))
    }
    for (name, bytes) in files { try Data(bytes).write(to: dir.appendingPathComponent(name)) }
    for (arguments, outputs) in HostileRegistry.checkpointSeedRuns {
      var limits = ConfinedLimits()
      limits.seconds = 120
      let run = try runConfined(executable, arguments, in: dir, limits: limits)
      guard run.outcome == .exited(0) else {
        throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "seed run \(arguments) failed: \(run.outcome) \(run.stderr)"])
      }
      for (written, seed) in outputs { files[seed] = [UInt8](try Data(contentsOf: dir.appendingPathComponent(written))) }
    }
    return HostileSeeds(files: files)
  }
}
