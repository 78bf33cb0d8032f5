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
  @Flag(name: .customLong("input-to-readout"), inversion: .prefixedNo,
        help: "ESN: the read-out sees the reservoir input next to the state (default on).")
  var inputToReadout = true

  /// The configuration these flags give (the library's defaults where absent); the reservoir
  /// drawn from `seed`. The library checks the numbers; the words are checked here.
  func configuration(seed: UInt64) throws -> ESNForecaster.Configuration {
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
    if let r = ridge, r != "auto" {
      guard let v = Double(r), v >= 0, v.isFinite else {
        throw CLIError("--ridge must be a number >= 0 or auto, got '\(r)'")
      }
      c.ridge = v
    }
    return c
  }
}
