import Foundation
import Testing
import _RecurTestSupport

/// `recur forecast --free-run` and the stability guard of `--predict`, through the built executable.
@Suite("recur forecast --free-run (CLI)")
struct FreeRunCLITests {
  /// 600 rows of white noise in [-0.5, 0.5) (a sine hash, 4 decimals).
  private func noiseCSV(in dir: URL) throws -> String {
    let rows = (0..<600).map { t -> String in
      let v = sin(Double(t) * 12.9898) * 43758.5453
      return "\(t)," + String(format: "%.4f", v - v.rounded(.down) - 0.5)
    }
    let url = dir.appendingPathComponent("noise.csv")
    try ("t,x\n" + rows.joined(separator: "\n") + "\n").write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  @Test func freeRunReportsTheErrorAtEveryStepWithAPlot() throws {
    let dir = try makeTemporaryDirectory("recur-free-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--mackey-glass", "1500", "--test-fraction", "0.4", "--validation-fraction", "0.1",
                            "--units", "100", "--input-mode", "levels", "--free-run", "100", "--free-run-stride", "8",
                            "--out", out.path, "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let metrics = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let free = try #require(metrics["free_run"] as? [String: Any])
    let nrmse = try #require(free["nrmse_by_step"] as? [Double])
    #expect(nrmse.count == 100 && (free["rmse_by_step"] as? [Double])?.count == 100)
    #expect(free["nrmse84"] as? Double == nrmse[83] && free["steps"] as? Int == 100 && free["stride"] as? Int == 8)
    // Origins from the last row before the test part (899) to the last with 100 rows after it (1399), every 8th.
    #expect(free["origins"] as? Int == (1399 - 899) / 8 + 1)
    #expect(free["diverged"] as? Int == 0 && (free["diverged_origins"] as? [Int])?.isEmpty == true)
    #expect(nrmse.allSatisfy { $0.isFinite && $0 > 0 } && nrmse[0] < nrmse[99] && nrmse[99] < 0.5)
    // Chosen for free-running use: by the free-run error, with input noise, refitted.
    let notes = try #require(metrics["notes"] as? [String: String])
    #expect(notes["selection"]?.contains("free-run RMSE over 100 steps") == true)
    let svg = try String(contentsOf: out.appendingPathComponent("free-run.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("steps ahead (forecasts fed back)") && svg.contains("NRMSE (log scale)"))

    let text = try runRecur(["forecast", "--mackey-glass", "1500", "--test-fraction", "0.4", "--units", "50",
                             "--input-mode", "levels", "--free-run", "90", "--free-run-stride", "50", "--out", out.path])
    #expect(text.status == 0, "stderr: \(text.stderr)")
    #expect(text.stdout.contains("free run: 90 steps fed back from") && text.stdout.contains("NRMSE84")
      && text.stdout.contains("NRMSE at step  1"))
  }

  /// An ESN with a huge spectral radius and no ridge drifts away when fed back: `--predict` stops
  /// with an error and prints nothing, `--free-run` counts the diverged origins.
  @Test func aDivergingForecastIsAnErrorNeverPrinted() throws {
    let dir = try makeTemporaryDirectory("recur-free-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let csv = try noiseCSV(in: dir)
    let out = dir.appendingPathComponent("out")
    let fit = try runRecur(["forecast", "--csv", csv, "--column", "x", "--units", "100", "--leak-rate", "1", "--ridge", "0",
                            "--input-noise", "0", "--spectral-radius", "50", "--input-mode", "differences",
                            "--free-run", "100", "--out", out.path, "--json"])
    #expect(fit.status == 0, "stderr: \(fit.stderr)")
    let metrics = try #require(try JSONSerialization.jsonObject(with: Data(fit.stdout.utf8)) as? [String: Any])
    let free = try #require(metrics["free_run"] as? [String: Any])
    let diverged = try #require(free["diverged"] as? Int)
    #expect(diverged > 0 && (free["diverged_origins"] as? [Int])?.count == diverged)

    let checkpoint = out.appendingPathComponent("model.safetensors").path
    let far = try runRecur(["forecast", "--predict", "--checkpoint", checkpoint, "--csv", csv, "--steps", "2000"])
    #expect(far.status != 0 && far.stdout.isEmpty)
    #expect(far.stderr.contains("the fed-back forecast diverged at step") && far.stderr.contains("outside the plausible range")
      && far.stderr.split(separator: "\n").count == 1, "stderr: \(far.stderr)")
    let wider = try runRecur(["forecast", "--predict", "--checkpoint", checkpoint, "--csv", csv, "--steps", "2000", "--json",
                              "--guard-margin", "0.01"])
    #expect(wider.status != 0 && wider.stdout.isEmpty && wider.stderr.contains("--guard-margin 0.01"))
    let near = try runRecur(["forecast", "--predict", "--checkpoint", checkpoint, "--csv", csv, "--steps", "20"])
    #expect(near.status == 0 && near.stdout.contains("  20  "), "stderr: \(near.stderr)")
  }

  @Test func freeRunFlagsAreChecked() throws {
    let dir = try makeTemporaryDirectory("recur-free-run")
    defer { try? FileManager.default.removeItem(at: dir) }
    let base = ["forecast", "--mackey-glass", "400", "--units", "20", "--out", dir.appendingPathComponent("out").path]
    for (flags, message) in [(["--free-run", "0"], "--free-run must be a positive integer"),
                             (["--free-run", "10", "--free-run-stride", "0"], "--free-run-stride must be a positive integer"),
                             (["--free-run", "300"], "too few for a free run of 300 steps"),
                             (["--free-run", "10", "--free-run-stride", "1000"], "from 2 origins"),
                             (["--guard-margin", "-1"], "--guard-margin must be a number >= 0"),
                             (["--input-noise", "x"], "--input-noise must be a number >= 0 or auto"),
                             (["--selection-steps", "0"], "--selection-steps must be a positive integer"),
                             (["--free-run", "200000"], "--free-run must be at most 100000")] {
      let run = try runRecur(base + flags)
      #expect(run.status != 0 && run.stderr.contains(message), "\(flags): \(run.stderr)")
    }
    #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("out").path))
  }
}
