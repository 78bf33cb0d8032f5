import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

#if canImport(Glibc)
import Glibc
#endif

/// `mpirun` on the PATH, if any: the tests that start several processes need it (`.ci/run`
/// installs Open MPI).
enum MPILauncher {
  static let path: String? = {
    let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":")
    return directories.map { "\($0)/mpirun" }.first { FileManager.default.isExecutableFile(atPath: $0) }
  }()

  static let skipReason: Comment = "mpirun is not installed (apt-get install openmpi-bin): the multi-process tests need it"

  /// Runs `mpirun -np n recur arguments…` with a deadline; `whileRunning` sees the launcher process.
  static func run(processes n: Int, _ arguments: [String], timeout: Double = 300,
                  whileRunning: ((Process) throws -> Void)? = nil) throws -> RecurExecutable.Result {
    let launcher = try #require(path)
    let recur = try #require(RecurExecutable.url, "the recur executable was not found next to the test bundle")
    // As root Open MPI wants to be told twice; --oversubscribe: CI machines may have one core.
    return try RecurExecutable.launch(URL(fileURLWithPath: launcher),
                                      (getuid() == 0 ? ["--allow-run-as-root"] : []) + ["--oversubscribe", "-np", "\(n)", recur.path] + arguments,
                                      environment: ["OMPI_ALLOW_RUN_AS_ROOT": "1", "OMPI_ALLOW_RUN_AS_ROOT_CONFIRM": "1"],
                                      label: "mpirun -np \(n) recur \(arguments.joined(separator: " "))", timeout: timeout,
                                      whileRunning: whileRunning)
  }

  static func makeScratch() throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent("recur-mpi-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    return url
  }
}

@Suite("Data-parallel training over MPI", .serialized)
struct DataParallelTests {
  /// A small character LM with dropout off, float32 products and one thread per process.
  static func training(out: String, steps: Int) -> [String] {
    ["train", "--hidden-size", "64", "--num-layers", "2", "--embedding-size", "16", "--seq-length", "25", "--batch-size", "32",
     "--steps", "\(steps)", "--eval-every", "10", "--dropout", "0", "--threads", "1", "--matmul-precision", "highest",
     "--lr-schedule", "constant", "--sample-every", "0", "--sample-length", "1", "--out", out]
  }

  /// ‖a − b‖ / ‖a‖ in Double.
  static func relativeDifference(_ a: Tensor, _ b: Tensor) -> Double {
    let x = a.scalars.map(Double.init), y = b.scalars.map(Double.init)
    let d = zip(x, y).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
    return d / Swift.max(x.reduce(0) { $0 + $1 * $1 }.squareRoot(), 1e-30)
  }

  @Test(.enabled(if: MPILauncher.path != nil, MPILauncher.skipReason))
  func twoProcessesTrainAsOneProcessWithTheSameGlobalBatch() throws {
    let scratch = try MPILauncher.makeScratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let single = scratch.appendingPathComponent("single").path, parallel = scratch.appendingPathComponent("parallel").path
    let one = try RecurExecutable.run(Self.training(out: single, steps: 50))
    #expect(one.status == 0, "\(one.stderr)")
    // The 2-process run stops at step 20 and resumes from its checkpoint, with 2 processes, to 50.
    let first = try MPILauncher.run(processes: 2, Self.training(out: parallel, steps: 20))
    #expect(first.status == 0, "\(first.stderr)")
    let second = try MPILauncher.run(processes: 2, ["train", "--resume", parallel + "/last.safetensors", "--steps", "50",
                                                    "--threads", "1", "--sample-every", "0", "--sample-length", "1"])
    #expect(second.status == 0, "\(second.stderr)")
    // Rank 0 alone prints: one header, one summary.
    #expect(first.stdout.components(separatedBy: "Finished 20 steps").count == 2, "\(first.stdout)")
    #expect(second.stdout.contains("Resuming at step 20"))

    let x = try SafeTensorsFile.read(from: URL(fileURLWithPath: single + "/last.safetensors"))
    let y = try SafeTensorsFile.read(from: URL(fileURLWithPath: parallel + "/last.safetensors"))
    #expect(x.names == y.names)
    for name in x.names where !name.hasPrefix("optimizer.") {
      let difference = Self.relativeDifference(x[name]!.tensor, y[name]!.tensor)
      #expect(difference <= 1e-6, "\(name): ‖Δ‖/‖w‖ = \(difference) between 1 process and 2 processes")
    }
    // The same loss curve: every evaluation's training and validation loss.
    let a = MetricsLog.read(from: URL(fileURLWithPath: single + "/metrics.jsonl")).records
    let b = MetricsLog.read(from: URL(fileURLWithPath: parallel + "/metrics.jsonl")).records
    #expect(a.map(\.step) == [10, 20, 30, 40, 50] && b.map(\.step) == a.map(\.step))
    #expect(a.map(\.tokens) == b.map(\.tokens))
    for (r, s) in zip(a, b) {
      #expect(abs(r.trainLoss - s.trainLoss) <= 1e-6 * r.trainLoss, "train loss at step \(r.step): \(r.trainLoss) vs \(s.trainLoss)")
      let (v, w) = (try #require(r.validationLoss), try #require(s.validationLoss))
      #expect(abs(v - w) <= 1e-6 * v, "validation loss at step \(r.step): \(v) vs \(w)")
    }
  }

  /// The processes whose parent is `parent` and whose environment holds `variable`.
  static func children(of parent: Int32, with variable: String) -> [Int32] {
    let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
    return entries.compactMap(Int32.init).filter { pid in
      // /proc/PID/stat: "pid (comm) state ppid …"; comm may hold spaces, so split after its ')'.
      guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8), let close = stat.lastIndex(of: ")") else { return false }
      let fields = stat[stat.index(after: close)...].split(separator: " ")
      guard fields.count > 2, Int32(fields[1]) == parent else { return false }
      let environment = (try? Data(contentsOf: URL(fileURLWithPath: "/proc/\(pid)/environ"))) ?? Data()
      return environment.split(separator: 0).contains { String(decoding: $0, as: UTF8.self) == variable }
    }
  }

  @Test(.enabled(if: MPILauncher.path != nil, MPILauncher.skipReason))
  func aProcessThatDiesEndsTheRunWithinSecondsAndTheCheckpointStaysLoadable() throws {
    let scratch = try MPILauncher.makeScratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("run").path
    var args = Self.training(out: out, steps: 100_000)
    args[args.firstIndex(of: "--eval-every")! + 1] = "5"
    nonisolated(unsafe) var killedAt: Date?
    let r = try MPILauncher.run(processes: 2, args, timeout: 120) { launcher in
      // Once a checkpoint is written, SIGKILL rank 1 (a crash: no message, no MPI_Abort).
      let deadline = Date().addingTimeInterval(90)
      while !FileManager.default.fileExists(atPath: out + "/last.safetensors") && Date() < deadline { usleep(100_000) }
      usleep(500_000)
      let victim = try #require(Self.children(of: launcher.processIdentifier, with: "OMPI_COMM_WORLD_RANK=1").first, "rank 1 not found")
      kill(victim, SIGKILL)
      killedAt = Date()
    }
    let seconds = Date().timeIntervalSince(try #require(killedAt))
    #expect(seconds < 10, "the run went on for \(seconds) s after a process died")
    #expect(r.status != 0)
    #expect(r.stderr.contains("rank 1") && r.stderr.contains("signal 9"), "\(r.stderr)")
    // The last checkpoint (written atomically) is whole: it loads, and its model generates.
    let archive = try ModelArchive.read(from: URL(fileURLWithPath: out + "/last.safetensors"))
    _ = try LanguageModelTask.loadModel(from: archive)
    let generated = try RecurExecutable.run(["generate", "--checkpoint", out + "/last.safetensors", "--length", "10"])
    #expect(generated.status == 0, "\(generated.stderr)")
  }

  @Test(.enabled(if: MPILauncher.path != nil, MPILauncher.skipReason))
  func aTimeBudgetIsMeasuredAlikeOnEveryProcess() throws {
    let scratch = try MPILauncher.makeScratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let out = scratch.appendingPathComponent("run").path
    var args = Self.training(out: out, steps: 1)
    args.removeSubrange(args.firstIndex(of: "--steps")!...(args.firstIndex(of: "--steps")! + 1))
    // The budget probe times steps until a twentieth of the budget is spent: each process would
    // stop after a different count of steps (each holding collectives) if they did not vote.
    let r = try MPILauncher.run(processes: 2, args + ["--time-limit", "3s"])
    #expect(r.status == 0, "\(r.stderr)")
    #expect(r.stdout.contains("budget: 3s of training ="), "\(r.stdout)")
    #expect(FileManager.default.fileExists(atPath: out + "/last.safetensors"))
  }

  @Test func anMPIEnvironmentWithoutALibraryFailsWithOneLine() throws {
    let scratch = try MPILauncher.makeScratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    let r = try runRecur(Self.training(out: scratch.appendingPathComponent("run").path, steps: 2),
                         environment: ["OMPI_COMM_WORLD_SIZE": "2", "OMPI_COMM_WORLD_RANK": "0", "RECUR_MPI_LIBRARY": "/nonexistent/libmpi.so"])
    #expect(r.status != 0)
    let lines = r.stderr.split(separator: "\n")
    #expect(lines.count == 1 && lines[0].hasPrefix("error: started by an MPI launcher (OMPI_COMM_WORLD_SIZE=2) but cannot load the MPI library"), "\(r.stderr)")
    #expect(r.stderr.contains("RECUR_MPI_LIBRARY"))
  }

  @Test func ridgeEquationsOfPartsCombineToThoseOfTheWhole() throws {
    var g = RandomGenerator(seed: 3)
    let t = 301, n = 7, k = 2
    // Columns with large offsets: the combination must not lose them to cancellation.
    let x = DoubleMatrix(rows: t, columns: n, storage: (0..<(t * n)).map { 100 * Double($0 % n) + g.nextUniformDouble() })
    let y = DoubleMatrix(rows: t, columns: k, storage: (0..<(t * k)).map { _ in g.nextUniformDouble() - 3 })
    for centered in [true, false] {
      let whole = try Ridge.NormalEquations(features: x, targets: y, rowOffset: 10, rows: t - 10, centered: centered)
      let parts = 3
      var sum: [Double]?
      for p in 0..<parts {
        let r = DataShard(index: p, count: parts).range(of: t - 10)
        let part = try Ridge.NormalEquations(features: x, targets: y, rowOffset: 10 + r.lowerBound, rows: r.count, centered: centered)
        let packed = part.packed(part: p, of: parts)
        sum = sum.map { zip($0, packed).map(+) } ?? packed
      }
      let combined = Ridge.NormalEquations(summed: sum!, parts: parts, featureCount: n, targetCount: k, centered: centered)
      #expect(combined.sampleCount == whole.sampleCount)
      let scale = whole.gram.map(abs).max()!
      #expect(zip(combined.gram, whole.gram).allSatisfy { abs($0 - $1) <= 1e-12 * scale })
      #expect(zip(combined.cross, whole.cross).allSatisfy { abs($0 - $1) <= 1e-12 * whole.cross.map(abs).max()! })
      #expect(zip(combined.featureMean, whole.featureMean).allSatisfy { abs($0 - $1) <= 1e-12 * 700 })
      var a = Ridge(ridge: 1e-3, fitBias: centered), b = Ridge(ridge: 1e-3, fitBias: centered)
      try a.fit(whole)
      try b.fit(combined)
      let w = a.weights!.storage, v = b.weights!.storage
      #expect(zip(w, v).allSatisfy { abs($0 - $1) <= 1e-9 * w.map(abs).max()! }, "\(w) vs \(v)")
    }
  }

  @Test(.enabled(if: MPILauncher.path != nil, MPILauncher.skipReason))
  func anESNReadOutFittedByTwoProcessesIsTheSingleProcessOne() throws {
    let scratch = try MPILauncher.makeScratch()
    defer { try? FileManager.default.removeItem(at: scratch) }
    // Ridge 0.1 keeps the system well conditioned, so ‖Δ‖/‖W‖ measures the combination, not the
    // amplification of summation-order rounding (at ridge 1e-6 on Mackey-Glass, any reordering of
    // the single-process sums moves W by ~1e-6 relative; at 0.1 the two fits agree to ~5e-11).
    func forecast(_ out: String) -> [String] {
      ["forecast", "--mackey-glass", "4000", "--units", "300", "--ridge", "0.1", "--input-mode", "levels", "--out", out, "--json"]
    }
    let single = scratch.appendingPathComponent("single").path, parallel = scratch.appendingPathComponent("parallel").path
    let one = try RecurExecutable.run(forecast(single))
    #expect(one.status == 0, "\(one.stderr)")
    let two = try MPILauncher.run(processes: 2, forecast(parallel))
    #expect(two.status == 0, "\(two.stderr)")
    let x = try SafeTensorsFile.read(from: URL(fileURLWithPath: single + "/model.safetensors"))
    let y = try SafeTensorsFile.read(from: URL(fileURLWithPath: parallel + "/model.safetensors"))
    #expect(x.names == y.names)
    // The stored float64 values, bit for bit.
    func doubles(_ entry: SafeTensorsFile.Entry) -> [Double] {
      entry.withDataBytes { b in (0..<(b.count / 8)).map { Double(bitPattern: b.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)) } }
    }
    for name in x.names {
      let (a, b) = (x[name]!, y[name]!)
      if name.hasPrefix("esn.readout.") {
        #expect(a.dtype == .f64)
        let u = doubles(a), v = doubles(b)
        let d = zip(u, v).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot(), norm = u.reduce(0) { $0 + $1 * $1 }.squareRoot()
        #expect(d <= 1e-9 * norm, "\(name): ‖Δ‖/‖w‖ = \(d / norm) between 1 process and 2 processes")
      } else {
        #expect(a == b, "\(name) (the reservoir) differs")
      }
    }
  }

  @Test func shardsCoverTheBatchOnce() {
    for total in [0, 1, 7, 32, 33] {
      for count in 1...5 {
        let parts = (0..<count).map { DataShard(index: $0, count: count).range(of: total) }
        #expect(parts.first?.lowerBound == 0 && parts.last?.upperBound == total)
        #expect(zip(parts, parts.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound })
        #expect(parts.allSatisfy { $0.count == total / count || $0.count == total / count + 1 })
      }
    }
    #expect(Array(DataShard(index: 1, count: 2).part(of: Array(10..<15))) == [12, 13, 14])
  }

  @Test func theLauncherIsRecognisedFromTheEnvironment() {
    #expect(ProcessGroup.launcher(in: [:]) == nil)
    #expect(ProcessGroup.launcher(in: ["OMPI_COMM_WORLD_SIZE": "1"]) == nil)
    #expect(ProcessGroup.launcher(in: ["OMPI_COMM_WORLD_SIZE": "4"])?.name == "OMPI_COMM_WORLD_SIZE")
    #expect(ProcessGroup.launcher(in: ["PMI_SIZE": "2", "PMI_RANK": "1"])?.name == "PMI_SIZE")
    #expect(ProcessGroup.launcherRank(in: ["PMI_SIZE": "2", "PMI_RANK": "1"]) == 1)
    #expect(ProcessGroup.launcherRank(in: ["PMIX_RANK": "3"]) == 3)
    #expect(ProcessGroup.launcherRank(in: [:]) == nil)
    #expect((try? ProcessGroup.world(environment: [:]))?.size == 1)
  }
}
