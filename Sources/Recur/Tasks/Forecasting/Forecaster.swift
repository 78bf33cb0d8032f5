import Foundation

/// A model that forecasts the next `horizon` rows of a multivariate series from its past: the seam
/// `recur forecast` drives, whatever the model kind (echo-state network, LSTM, GRU).
///
/// The caller scales the data (``Scaler``, fitted on the training rows) and splits it
/// (``ForecastSplit``); a forecaster only sees scaled values. Every feature column is both input
/// and output, so forecasts can be fed back to go beyond the horizon
/// (``forecastBeyondEnd(series:steps:)``). Column 0 is the one reports score.
///
/// A fitted model stores itself in a ``ForecastCheckpoint`` (a safetensors file: weights as
/// tensors, settings as metadata) and is restored from it.
///
/// To add a model kind: implement `fit` (train on `split.train`, use `split.validation` for model
/// selection or early stopping; never read `split.test`), `forecast` (for each origin t use only
/// rows 0…t — a windowed model takes rows t-lookback+1…t, e.g. from ``ForecastWindows``), and
/// register the type with the `recur forecast` command.
public protocol Forecaster: Sendable {
  /// The model kind on the command line and in checkpoints ("esn", "lstm", "gru").
  var kind: String { get }
  /// Rows of history a forecast needs (windowed models read exactly these; the ESN uses them as
  /// its warm-up).
  var lookback: Int { get }
  /// Rows forecast from each origin.
  var horizon: Int { get }
  /// Fits the model to the scaled series `[T, F]` as split by `split`.
  /// - Returns: notes for the report (chosen hyper-parameters, validation error, …).
  mutating func fit(series: DoubleMatrix, split: ForecastSplit) throws -> [String: String]
  /// Forecasts rows t+1 … t+horizon for each origin t, using only rows 0 … t of `series`.
  func forecast(series: DoubleMatrix, origins: [Int]) throws -> ForecastBatch
  /// Adds the fitted model to a checkpoint: tensors under names prefixed by the kind (`"esn."`),
  /// settings as metadata under the same prefix.
  func store(in file: inout SafeTensorsFile) throws
  /// The fitted model of `kind` stored by ``store(in:)``.
  init(restoringFrom file: SafeTensorsFile, kind: String) throws
}

extension Forecaster {
  /// Forecasts `steps` rows after the end of `series` (scaled), feeding forecasts back as history
  /// when `steps` exceeds the horizon.
  public func forecastBeyondEnd(series: DoubleMatrix, steps: Int) throws -> DoubleMatrix {
    precondition(steps >= 0, "steps must be >= 0")
    var extended = series
    var out = DoubleMatrix(rows: 0, columns: series.columns)
    while out.rows < steps {
      let batch = try forecast(series: extended, origins: [extended.rows - 1])
      let take = min(horizon, steps - out.rows)
      for h in 0..<take {
        let row = (0..<series.columns).map { batch[0, h, $0] }
        out.append(row: row)
        extended.append(row: row)
      }
    }
    return out
  }
}

/// Forecasts from several origins: `values` is `[origins.count, horizon, features]`, row-major.
public struct ForecastBatch: Sendable, Equatable {
  /// The origin of each forecast (the row of its last observed value).
  public let origins: [Int]
  /// Rows forecast from each origin.
  public let horizon: Int
  /// Columns of each forecast row.
  public let features: Int
  /// The forecasts, `[origins.count, horizon, features]`, row-major.
  public var values: [Double]

  /// A batch from its values; `values.count` must be `origins.count · horizon · features`.
  public init(origins: [Int], horizon: Int, features: Int, values: [Double]) {
    precondition(values.count == origins.count * horizon * features,
                 "ForecastBatch needs \(origins.count * horizon * features) values, got \(values.count)")
    self.origins = origins
    self.horizon = horizon
    self.features = features
    self.values = values
  }

  /// The forecast from the `index`-th origin, `step` rows ahead (0-based: step 0 is t+1), of `feature`.
  public subscript(index: Int, step: Int, feature: Int) -> Double {
    get { values[(index * horizon + step) * features + feature] }
    set { values[(index * horizon + step) * features + feature] = newValue }
  }

  /// Maps every value back to original units.
  public func unscaled(by scaler: Scaler) -> ForecastBatch {
    var out = self
    for i in 0..<origins.count {
      for h in 0..<horizon {
        for f in 0..<features { out[i, h, f] = scaler.inverse(self[i, h, f], column: f) }
      }
    }
    return out
  }
}

/// Errors of forecasting models (not of the data): unknown kinds, unavailable models, damaged
/// checkpoints. One line each, saying what to do.
public enum ForecastError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The model kind is unknown or not available in this build.
  case unavailableModel(String)
  /// The model cannot do what was asked (not fitted, other columns, origins out of range…).
  case invalidArgument(String)
  /// A checkpoint is missing an entry or does not fit the model.
  case checkpoint(String)

  /// The message: one line saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .unavailableModel(let m), .invalidArgument(let m), .checkpoint(let m): return m
    }
  }
}
