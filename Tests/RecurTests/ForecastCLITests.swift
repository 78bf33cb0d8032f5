import Foundation
import Testing
import _RecurTestSupport

/// Drives the built `recur forecast` executable (found next to the test bundle, whatever the
/// `--scratch-path`).
@Suite("recur forecast (CLI)")
struct ForecastCLITests {
  private func airlineCSV() throws -> String {
    guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
      throw FixtureError(description: "the test bundle has no Fixtures directory")
    }
    return root.appendingPathComponent("timeseries/airline_passengers.csv").path
  }

  private func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent(name)
    try text.write(to: url, atomically: true, encoding: .utf8)
    return url.path
  }

  /// A clean seasonal series of `n` rows as CSV text.
  private func seasonalCSV(_ n: Int) -> String {
    "t,value\n" + (0..<n).map { "\($0),\(10 + 3 * sin(Double($0) * 2 * .pi / 12) + Double($0) * 0.05)" }.joined(separator: "\n") + "\n"
  }

  @Test func forecastsAirlinePassengersAndWritesItsOutputs() throws {
    let dir = try makeTemporaryDirectory("recur-forecast")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--csv", try airlineCSV(), "--column", "passengers", "--model", "esn",
                            "--lookback", "12", "--season", "12", "--out", out.path, "--json"])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    let metrics = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
    let scores = try #require(metrics["scores"] as? [String: [String: Any]])
    let esn = try #require(scores["esn"]), naive = try #require(scores["naive"]), seasonal = try #require(scores["seasonal_naive"])
    for s in [esn, naive, seasonal] {
      for key in ["rmse", "mae", "nrmse", "mase"] { #expect(s[key] is NSNumber, "\(key) missing in \(s)") }
    }
    let esnRMSE = (esn["rmse"] as! NSNumber).doubleValue, naiveRMSE = (naive["rmse"] as! NSNumber).doubleValue
    #expect(esnRMSE < naiveRMSE, "ESN RMSE \(esnRMSE) vs naive \(naiveRMSE)")
    #expect(metrics["test_rows"] as? Int == 29 && metrics["train_rows"] as? Int == 115)
    for name in ["forecasts.csv", "forecast.svg", "metrics.json", "model.safetensors"] {
      #expect(FileManager.default.fileExists(atPath: out.appendingPathComponent(name).path), "\(name) not written")
    }
    let csv = try String(contentsOf: out.appendingPathComponent("forecasts.csv"), encoding: .utf8)
    let lines = csv.split(separator: "\n")
    #expect(lines.first == "origin_row,origin_time,step,row,time,actual,esn,naive,seasonal_naive")
    #expect(lines.count == 1 + 29)
    #expect(lines[1].hasPrefix("114,1958-07,1,115,1958-08,505.0,"))
    let svg = try String(contentsOf: out.appendingPathComponent("forecast.svg"), encoding: .utf8)
    #expect(svg.hasPrefix("<svg") && svg.contains("month (year)") && svg.contains(">passengers<") && svg.contains("esn forecast, 1 step ahead"))

    // The checkpoint forecasts beyond the end of the series.
    let predict = try runRecur(["forecast", "--predict", "--checkpoint", out.appendingPathComponent("model.safetensors").path,
                                "--csv", try airlineCSV(), "--steps", "3", "--json"])
    #expect(predict.status == 0, "stderr: \(predict.stderr)")
    let p = try #require(try JSONSerialization.jsonObject(with: Data(predict.stdout.utf8)) as? [String: Any])
    let forecasts = try #require(p["forecasts"] as? [[String: Double]])
    #expect(forecasts.count == 3 && p["last_time"] as? String == "1960-12")
    for f in forecasts {
      let v = try #require(f["passengers"])
      #expect(v > 300 && v < 700, "implausible forecast \(v)")
    }
    let text = try runRecur(["forecast", "--predict", "--checkpoint", out.appendingPathComponent("model.safetensors").path,
                             "--csv", try airlineCSV()])
    #expect(text.status == 0 && text.stdout.contains("after row 143 (1960-12)"))
  }

  @Test func multiStepMultivariateRun() throws {
    let dir = try makeTemporaryDirectory("recur-forecast")
    defer { try? FileManager.default.removeItem(at: dir) }
    let rows = (0..<200).map { t in "\(t),\(sin(Double(t) / 5)),\(cos(Double(t) / 5)),\(t % 3)" }
    let csv = try write("t,a,b,c\n" + rows.joined(separator: "\n") + "\n", "multi.csv", in: dir)
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--csv", csv, "--column", "a,b", "--horizon", "4", "--units", "60",
                            "--validation-fraction", "0.1", "--scaling", "minmax", "--out", out.path])
    #expect(run.status == 0, "stderr: \(run.stderr)")
    #expect(run.stdout.contains("esn forecast of 'a' (inputs: a, b)") && run.stdout.contains("RMSE by step"))
    #expect(run.stdout.contains("seasonal naive    (pass --season S)"))
    let csvOut = try String(contentsOf: out.appendingPathComponent("forecasts.csv"), encoding: .utf8)
    #expect(csvOut.split(separator: "\n").count == 1 + (40 - 4 + 1) * 4)
  }

  /// Each bad input: exit status != 0, a one-line message on stderr, nothing written.
  @Test(arguments: [
    ("non-numeric", "t,x\n0,1\n1,2\n2,three\n", ["--column", "x"], "line 4, column 'x': 'three' is not a number"),
    ("missing column", "year,value\n0,1\n", ["--column", "values"], "--column: no column 'values' in data.csv; its columns are: year, value"),
    ("too short", "t,x\n" + (0..<20).map { "\($0),\($0 % 5)" }.joined(separator: "\n"), ["--column", "x", "--lookback", "12", "--horizon", "6"],
     "the series has 20 rows but lookback 12 + horizon 6 + a test part of 6 rows need 24; use a longer series or a smaller --lookback, --horizon or --test-fraction"),
    ("constant", "t,x\n" + (0..<60).map { "\($0),4.5" }.joined(separator: "\n"), ["--column", "x"], "'x' is constant (4.5) over the"),
    ("NaN", "t,x\n0,1\n1,NaN\n2,3\n", ["--column", "x"], "'NaN' is not a finite number"),
    ("infinite", "t,x\n0,1\n1,-inf\n2,3\n", ["--column", "x"], "'-inf' is not a finite number"),
    ("missing value", "t,x\n0,1\n1,\n2,3\n", ["--column", "x"], "column 'x' has a missing value; fill the file or pass --fill interpolate or --fill drop"),
  ] as [(String, String, [String], String)])
  func badDataIsAOneLineError(name: String, csvText: String, flags: [String], message: String) throws {
    let dir = try makeTemporaryDirectory("recur-forecast-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let csv = try write(csvText, "data.csv", in: dir)
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--csv", csv, "--out", out.path] + flags)
    #expect(run.status != 0, "\(name): exit status 0")
    let errorLines = run.stderr.split(separator: "\n", omittingEmptySubsequences: true)
    #expect(errorLines.count == 1, "\(name): stderr is \(errorLines.count) lines: \(run.stderr)")
    #expect(run.stderr.contains(message), "\(name): stderr '\(run.stderr)' lacks '\(message)'")
    #expect(!FileManager.default.fileExists(atPath: out.path), "\(name): output directory was created")
  }

  @Test(arguments: [
    (["--spectral-radius", "0"], "--spectral-radius must be a positive number, got 0.0"),
    (["--spectral-radius", "-1.5"], "--spectral-radius must be a positive number, got -1.5"),
    (["--leak-rate", "0"], "--leak-rate must be in (0, 1], got 0.0"),
    (["--leak-rate", "1.5"], "--leak-rate must be in (0, 1], got 1.5"),
    (["--leak-rate", "-0.2"], "--leak-rate must be in (0, 1], got -0.2"),
    (["--model", "transformer"], "--model must be one of esn, lstm, gru, got 'transformer'"),
    (["--fill", "zero"], "--fill must be error, interpolate or drop, got 'zero'"),
    (["--ridge", "-1"], "--ridge must be a number >= 0 or auto, got '-1'"),
    // Library errors name parameters (units, lookback, testFraction…); the CLI names the flags.
    (["--units", "0"], "--units must be >= 1, got 0"),
    (["--input-connectivity", "2"], "--input-connectivity must be in (0, 1], got 2.0"),
    (["--lookback", "0"], "--lookback must be >= 1, got 0"),
    (["--horizon", "0"], "--horizon must be >= 1, got 0"),
    (["--test-fraction", "1.5"], "--test-fraction must be in (0, 1), got 1.5"),
    (["--validation-fraction", "0.9"], "--validation-fraction must be in [0, 0.8) (the test part takes 0.2 and rows must remain for training), got 0.9"),
    (["--column", "value"], "--column: 'value' is given twice; name each column once"),
    (["--lookback", "94"], "too few training windows (2) to choose --ridge and --input-mode on held-out data; pass them"),
    (["--lookback", "94", "--ridge", "0.001"], "too few training windows (2) to choose --input-mode on held-out data; pass it"),
  ] as [([String], String)])
  func badSettingsAreOneLineErrors(flags: [String], message: String) throws {
    let dir = try makeTemporaryDirectory("recur-forecast-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let csv = try write(seasonalCSV(120), "data.csv", in: dir)
    let out = dir.appendingPathComponent("out")
    let run = try runRecur(["forecast", "--csv", csv, "--column", "value", "--out", out.path] + flags)
    #expect(run.status != 0)
    #expect(run.stderr.split(separator: "\n").count == 1, "stderr: \(run.stderr)")
    #expect(run.stderr.contains(message), "stderr '\(run.stderr)' lacks '\(message)'")
    #expect(!FileManager.default.fileExists(atPath: out.path))
  }

  @Test func missingFileAndMissingCheckpointAreOneLineErrors() throws {
    let dir = try makeTemporaryDirectory("recur-forecast-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let noFile = try runRecur(["forecast", "--csv", dir.appendingPathComponent("none.csv").path, "--column", "x", "--out", out.path])
    #expect(noFile.status != 0 && noFile.stderr.contains("cannot read") && noFile.stderr.split(separator: "\n").count == 1)
    let noCheckpoint = try runRecur(["forecast", "--predict", "--checkpoint", dir.appendingPathComponent("none.safetensors").path,
                                     "--csv", try airlineCSV(), "--out", out.path])
    #expect(noCheckpoint.status != 0 && noCheckpoint.stderr.contains("cannot read checkpoint"))
    #expect(noCheckpoint.stderr.split(separator: "\n").count == 1, "stderr: \(noCheckpoint.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out.path))
  }

  @Test func mackeyGlassSettingsAreNamedByTheirFlags() throws {
    let dir = try makeTemporaryDirectory("recur-forecast-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let run = try runRecur(["forecast", "--mackey-glass", "100", "--tau", "-3", "--out", dir.appendingPathComponent("out").path])
    #expect(run.status != 0)
    #expect(run.stderr == "error: --tau must be >= 0, got -3\n", "stderr: \(run.stderr)")
  }

  /// In --predict the columns come from the checkpoint, so a CSV without them is not a --column error.
  @Test func predictingOnACSVWithoutTheModelsColumnSaysSo() throws {
    let dir = try makeTemporaryDirectory("recur-forecast-bad")
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out")
    let fit = try runRecur(["forecast", "--csv", try write(seasonalCSV(120), "data.csv", in: dir), "--column", "value",
                            "--units", "50", "--out", out.path])
    #expect(fit.status == 0, "stderr: \(fit.stderr)")
    let other = try write("t,level\n0,1\n1,2\n", "other.csv", in: dir)
    let run = try runRecur(["forecast", "--predict", "--checkpoint", out.appendingPathComponent("model.safetensors").path, "--csv", other])
    #expect(run.status != 0)
    #expect(run.stderr.split(separator: "\n").count == 1, "stderr: \(run.stderr)")
    #expect(run.stderr.contains("the model forecasts column 'value' but other.csv has none; its columns are: t, level"), "stderr: \(run.stderr)")
    #expect(!run.stderr.contains("--column"), "stderr: \(run.stderr)")
  }
}
