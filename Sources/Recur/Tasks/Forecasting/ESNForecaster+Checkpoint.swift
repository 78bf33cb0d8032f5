import Foundation

// Saving a fitted ESN forecaster in a checkpoint and restoring it.
extension ESNForecaster {
  private struct Stored: Codable {
    var configuration: Configuration
    var lookback, horizon: Int
    var ridge: Double
    var inputSize: Int
    var inputMode: InputMode
    var inputNoise: Double?
  }

  /// Tensors (all F64 but the CSR index arrays): `esn.reservoir.W.indptr`, `.indices`, `.data`
  /// (W in CSR form, as `scipy.sparse.csr_array((data, indices, indptr))` takes it),
  /// `esn.reservoir.W_in` `[units, F]`, `esn.reservoir.bias` `[units]`, `esn.readout.Wout`
  /// `[features, horizon·F]`, `esn.readout.bias`; metadata `esn.config` (JSON).
  public func store(in file: inout SafeTensorsFile) throws {
    guard let network, let ridge, let w = network.readout.weights, let inputSize = network.reservoir.inputSize else {
      throw ForecastError.invalidArgument("the ESN forecaster is not fitted; fit it before saving a checkpoint")
    }
    let r = network.reservoir
    file["esn.reservoir.W.indptr"] = SafeTensorsFile.Entry(integers: r.recurrent.rowStart.map(Int64.init), shape: [r.units + 1])
    file["esn.reservoir.W.indices"] = SafeTensorsFile.Entry(integers: r.recurrent.columnIndex.map(Int64.init),
                                                            shape: [r.recurrent.nonzeroCount])
    file["esn.reservoir.W.data"] = float64Entry(r.recurrent.values, shape: [r.recurrent.nonzeroCount])
    file["esn.reservoir.W_in"] = float64Entry(r.inputWeights, shape: [r.units, inputSize])
    file["esn.reservoir.bias"] = float64Entry(r.bias, shape: [r.units])
    file["esn.readout.Wout"] = float64Entry(w.storage, shape: [w.rows, w.columns])
    file["esn.readout.bias"] = float64Entry(network.readout.bias, shape: [w.columns])
    try file.setModelSettings(Stored(configuration: configuration, lookback: lookback, horizon: horizon,
                                     ridge: ridge, inputSize: inputSize, inputMode: inputMode ?? .levels,
                                     inputNoise: inputNoise), kind: Self.kind)
  }

  /// The fitted forecaster stored by ``store(in:)`` under `esn.`. Throws ``ForecastError`` for a
  /// missing or damaged entry.
  public init(restoringFrom file: SafeTensorsFile, kind: String = ESNForecaster.kind) throws {
    let stored = try file.modelSettings(Stored.self, kind: Self.kind)
    let c = stored.configuration
    let units = c.units, f = stored.inputSize
    guard units >= 1, f >= 1, stored.lookback >= 1, stored.horizon >= 1, stored.inputMode != .both || f % 2 == 0 else {
      throw ForecastError.checkpoint("the checkpoint's esn.config is damaged; re-create it")
    }
    // The sizes in esn.config must be those of the stored tensors before anything is sized from them.
    guard file["esn.reservoir.W.indptr"]?.shape == [units &+ 1], file["esn.reservoir.W_in"]?.shape == [units, f] else {
      throw ForecastError.checkpoint("the checkpoint's esn.config does not match its reservoir tensors; re-create it")
    }
    var outputTally = SizeTally()
    outputTally.add(stored.horizon, stored.inputMode == .both ? f / 2 : f)
    guard let outputCount = outputTally.total, file["esn.readout.bias"]?.shape == [outputCount] else {
      throw ForecastError.checkpoint("the checkpoint's esn.config does not match its read-out tensors; re-create it")
    }
    let indptr = try integerValues(file, "esn.reservoir.W.indptr", count: units + 1)
    let indices = try integerValues(file, "esn.reservoir.W.indices")
    guard indptr.allSatisfy({ $0 >= 0 && $0 <= Int32.max }), indices.allSatisfy({ $0 >= 0 && $0 < units }) else {
      throw ForecastError.checkpoint("the checkpoint's reservoir indices are out of range; re-create it")
    }
    let data = try float64Values(file, "esn.reservoir.W.data", shape: [indices.count])
    let recurrent = try SparseMatrix(rows: units, columns: units, rowStart: indptr.map { Int32($0) },
                                     columnIndex: indices.map { Int32($0) }, values: data)
    let reservoir = try Reservoir(
      units: units, leakRate: c.leakRate, spectralRadius: c.spectralRadius, inputScaling: c.inputScaling,
      biasScaling: c.biasScaling, inputConnectivity: c.inputConnectivity, recurrentConnectivity: c.recurrentConnectivity,
      seed: c.seed, recurrent: recurrent,
      inputWeights: try float64Values(file, "esn.reservoir.W_in", shape: [units, f]),
      bias: try float64Values(file, "esn.reservoir.bias", shape: [units]), inputSize: f)
    let columns = stored.inputMode == .both ? f / 2 : f
    let featureCount = units + (c.inputToReadout ? f : 0), outputs = stored.horizon * columns
    var readout = Ridge(ridge: stored.ridge)
    readout.weights = DoubleMatrix(rows: featureCount, columns: outputs,
                                   storage: try float64Values(file, "esn.readout.Wout", shape: [featureCount, outputs]))
    readout.bias = try float64Values(file, "esn.readout.bias", shape: [outputs])
    configuration = c
    lookback = stored.lookback
    horizon = stored.horizon
    ridge = stored.ridge
    inputMode = stored.inputMode
    inputNoise = stored.inputNoise
    network = EchoStateNetwork(reservoir: reservoir, readout: readout, inputToReadout: c.inputToReadout)
  }
}
