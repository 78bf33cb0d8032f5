import ArgumentParser
import Recur

/// The flags of `recur forecast --model esn`: the reservoir and its read-out.
struct ESNOptions: ParsableArguments {
  @Option(parsing: .unconditional, help: "ESN: reservoir units (default 300).") var units: Int?
  @Option(name: .customLong("spectral-radius"), parsing: .unconditional, help: "ESN: spectral radius of the recurrent weights, > 0 (ReservoirPy sr; default 0.9).") var spectralRadius: Double?
  @Option(name: .customLong("leak-rate"), parsing: .unconditional, help: "ESN: leak rate in (0, 1] (ReservoirPy lr; default 0.3).") var leakRate: Double?
  @Option(name: .customLong("input-scaling"), parsing: .unconditional, help: "ESN: input weight scale (default 1).") var inputScaling: Double?
  @Option(name: .customLong("bias-scaling"), parsing: .unconditional, help: "ESN: bias scale, 0 for none (default 0.5).") var biasScaling: Double?
  @Option(name: .customLong("input-connectivity"), parsing: .unconditional, help: "ESN: fraction of non-zero input weights, in (0, 1] (default 1).") var inputConnectivity: Double?
  @Option(name: .customLong("recurrent-connectivity"), parsing: .unconditional, help: "ESN: fraction of non-zero recurrent weights, in (0, 1] (default 0.1).") var recurrentConnectivity: Double?
  @Option(parsing: .unconditional, help: ArgumentHelp("ESN: ridge of the read-out, or auto (default: chosen on validation data, with the input mode).", valueName: "value|auto")) var ridge: String?
  @Option(name: .customLong("input-mode"), help: ArgumentHelp(
    "ESN: what the reservoir reads: levels, differences (u[t] - u[t-1]), both, or auto (default: chosen on validation data).",
    valueName: "levels|differences|both|auto"))
  var inputMode: String?
  @Option(name: .customLong("readout-target"), help: ArgumentHelp(
    "ESN: the read-out learns differences from the last value (u[t+h] - u[t], default) or levels.", valueName: "differences|levels"))
  var readoutTarget: String?
  @Option(name: .customLong("input-noise"), parsing: .unconditional, help: ArgumentHelp(
    "ESN: standard deviation of the noise added to the (scaled) inputs while fitting, for stable free runs, or auto (chosen on validation data; the default with --free-run or --selection-steps > 1, else 0).",
    valueName: "value|auto"))
  var inputNoise: String?
  @Option(name: .customLong("selection-steps"), parsing: .unconditional, help: ArgumentHelp(
    "ESN: choose ridge, input mode and noise by the error of free runs of this many steps on validation data (default: min(--free-run, 100) with --free-run, else 1: the horizon-step error).",
    valueName: "steps"))
  var selectionSteps: Int?
  @Flag(inversion: .prefixedNo, help: "ESN: refit the read-out on training + validation rows once the settings are chosen (default on; recorded in the checkpoint).")
  var refit = true
  @Flag(name: .customLong("input-to-readout"), inversion: .prefixedNo,
        help: "ESN: the read-out sees the reservoir input next to the state (default on).")
  var inputToReadout = true

  /// The configuration these flags give (the library's defaults where absent); the reservoir
  /// drawn from `seed`. The library checks the numbers; the words are checked here.
  /// With `freeRun` (the `--free-run` steps), the settings are chosen for free-running use by default.
  func configuration(seed: UInt64, freeRun: Int? = nil) throws -> ESNForecaster.Configuration {
    var c = ESNForecaster.Configuration()
    if let v = units { c.units = v }
    if let v = spectralRadius { c.spectralRadius = v }
    if let v = leakRate { c.leakRate = v }
    if let v = inputScaling { c.inputScaling = v }
    if let v = biasScaling { c.biasScaling = v }
    if let v = inputConnectivity { c.inputConnectivity = v }
    if let v = recurrentConnectivity { c.recurrentConnectivity = v }
    c.seed = seed
    c.inputToReadout = inputToReadout
    if let m = inputMode, m != "auto" {
      guard let mode = ESNForecaster.InputMode(rawValue: m) else {
        throw CLIError("--input-mode must be levels, differences, both or auto, got '\(m)'")
      }
      c.inputMode = mode
    }
    if let t = readoutTarget {
      guard t == "differences" || t == "levels" else {
        throw CLIError("--readout-target must be differences or levels, got '\(t)'")
      }
      c.predictDifferences = t == "differences"
    }
    if let k = selectionSteps {
      try requireAtMost(k, 100_000, flag: "--selection-steps", why: "free-run steps from each validation origin")
      c.selectionSteps = k
    } else if let n = freeRun {
      c.selectionSteps = min(max(n, 1), 100)
    }
    c.refit = refit
    if let n = inputNoise {
      if n == "auto" {
        c.inputNoise = nil
      } else {
        guard let v = Double(n), v >= 0, v.isFinite else { throw CLIError("--input-noise must be a number >= 0 or auto, got '\(n)'") }
        c.inputNoise = v
      }
    } else if c.selectionSteps > 1 {
      c.inputNoise = nil
    }
    if let r = ridge, r != "auto" {
      guard let v = Double(r), v >= 0, v.isFinite else {
        throw CLIError("--ridge must be a number >= 0 or auto, got '\(r)'")
      }
      c.ridge = v
    }
    return c
  }
}
