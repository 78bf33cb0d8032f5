import Foundation

/// A model that forecasts the next `horizon` rows of a multivariate series from its past: the seam
/// `recur forecast` drives, whatever the model kind (echo-state network, LSTM, GRU).
///
/// The caller scales the data (``Scaler``, fitted on the training rows) and splits it
/// (``ForecastSplit``); a forecaster only sees scaled values. Every feature column is both input
/// and output, so forecasts can be fed back to go beyond the horizon
/// (``forecastBeyondEnd(series:steps:range:)``). Column 0 is the one reports score.
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
  /// Free-running forecasts of `steps` rows from each origin t: rows 0 … t are observed, every later
  /// row is the model's own forecast fed back. A trajectory leaving `range` stops (see
  /// ``ClosedLoopForecast``). Windowed models get a batched implementation for free.
  func closedLoop(series: DoubleMatrix, origins: [Int], steps: Int, range: PlausibleRange) throws -> ClosedLoopForecast
  /// Adds the fitted model to a checkpoint: tensors under names prefixed by the kind (`"esn."`),
  /// settings as metadata under the same prefix.
  func store(in file: inout SafeTensorsFile) throws
  /// The fitted model of `kind` stored by ``store(in:)``.
  init(restoringFrom file: SafeTensorsFile, kind: String) throws
}

extension Forecaster {
  /// Forecasts `steps` rows after the end of `series` (scaled), feeding forecasts back as history
  /// when `steps` exceeds the horizon.
  /// - Parameter range: the plausible values of the fed-back rows (scaled units); nil: the range of
  ///   `series` itself, widened by ``PlausibleRange/defaultMargin``.
  /// - Throws: ``ForecastError/diverged(step:column:value:lower:upper:)`` when a forecast row leaves
  ///   `range`: a diverged trajectory is never returned.
  public func forecastBeyondEnd(series: DoubleMatrix, steps: Int, range: PlausibleRange? = nil) throws -> DoubleMatrix {
    precondition(steps >= 0, "steps must be >= 0")
    guard series.rows >= 1 else { throw ForecastError.invalidArgument("the series has no rows to forecast from") }
    let range = try range ?? PlausibleRange(fitting: series, rows: 0..<series.rows)
    let run = try closedLoop(series: series, origins: [series.rows - 1], steps: steps, range: range)
    if let d = run.divergence[0] {
      throw ForecastError.diverged(step: d.step, column: d.column, value: d.value,
                                   lower: range.lower[d.column], upper: range.upper[d.column])
    }
    return DoubleMatrix(rows: steps, columns: series.columns, storage: run.forecasts.values)
  }

  /// Closed-loop forecasts for windowed models, which read exactly the `lookback` rows up to an
  /// origin: each origin's window is advanced by its own forecasts, `horizon` rows per call of
  /// ``forecast(series:origins:)``, all origins in one batch (their windows laid end to end as one
  /// series). Models that read more history (the ESN) implement it themselves.
  public func closedLoop(series: DoubleMatrix, origins: [Int], steps: Int, range: PlausibleRange) throws -> ClosedLoopForecast {
    let f = series.columns
    try ClosedLoopForecast.check(series: series, origins: origins, steps: steps, range: range, lookback: lookback)
    var windows = origins.map { t in Array(series.storage[((t - lookback + 1) * f)..<((t + 1) * f)]) }
    var result = ClosedLoopForecast(origins: origins, steps: steps, series: series)
    var active = Array(origins.indices)
    var produced = 0
    while produced < steps && !active.isEmpty {
      var storage = [Double]()
      storage.reserveCapacity(active.count * lookback * f)
      for i in active { storage.append(contentsOf: windows[i]) }
      let joined = DoubleMatrix(rows: active.count * lookback, columns: f, storage: storage)
      let batch = try forecast(series: joined, origins: active.indices.map { ($0 + 1) * lookback - 1 })
      let take = min(horizon, steps - produced)
      for (k, i) in active.enumerated() {
        for h in 0..<take where result.divergence[i] == nil {
          let row = (0..<f).map { batch[k, h, $0] }
          guard result.record(row, origin: i, step: produced + h, range: range) else { break }
          windows[i].removeFirst(f)
          windows[i].append(contentsOf: row)
        }
      }
      produced += take
      active.removeAll { result.divergence[$0] != nil }
    }
    return result
  }
}

/// Closed-loop (free-running) forecasts from several origins: from each origin t the model's own
/// forecasts are fed back as history for `steps` rows.
///
/// A trajectory that leaves its ``PlausibleRange`` stops there: its ``divergence`` is recorded and
/// its remaining rows hold the last plausible row (the origin's row when the first step already
/// diverged), so scores computed on it count the divergence as a large, finite error.
public struct ClosedLoopForecast: Sendable {
  /// Where a trajectory left the plausible range.
  public struct Divergence: Sendable, Equatable {
    /// The step (1-based) of the first implausible row.
    public var step: Int
    /// The first column outside the range.
    public var column: Int
    /// Its value (scaled units).
    public var value: Double
  }

  /// The forecasts `[origins, steps, features]` (scaled units).
  public var forecasts: ForecastBatch
  /// For each origin, where its trajectory diverged (nil: it stayed plausible for every step).
  public var divergence: [Divergence?]

  /// Empty trajectories (every row the origin's row) to be filled by ``record(_:origin:step:range:)``.
  public init(origins: [Int], steps: Int, series: DoubleMatrix) {
    let f = series.columns
    var values = [Double]()
    values.reserveCapacity(origins.count * steps * f)
    for t in origins {
      for _ in 0..<steps { values.append(contentsOf: series.storage[(t * f)..<((t + 1) * f)]) }
    }
    forecasts = ForecastBatch(origins: origins, horizon: steps, features: f, values: values)
    divergence = [Divergence?](repeating: nil, count: origins.count)
  }

  /// The number of trajectories that diverged.
  public var divergedCount: Int { divergence.lazy.filter { $0 != nil }.count }

  /// Stores `row` as step `step` (0-based) of origin `index` when it is plausible and returns true;
  /// otherwise records the divergence, holds the previous row for the remaining steps and returns false.
  public mutating func record(_ row: [Double], origin index: Int, step: Int, range: PlausibleRange) -> Bool {
    let f = forecasts.features
    if let column = range.violation(in: row[...]) {
      divergence[index] = Divergence(step: step + 1, column: column, value: row[column])
      if step > 0 {
        for s in step..<forecasts.horizon {
          for j in 0..<f { forecasts[index, s, j] = forecasts[index, step - 1, j] }
        }
      }
      return false
    }
    for j in 0..<f { forecasts[index, step, j] = row[j] }
    return true
  }

  /// Checks the arguments of a closed-loop run: origins with `lookback` rows of history inside the
  /// series, steps >= 1, a range for the series' columns.
  public static func check(series: DoubleMatrix, origins: [Int], steps: Int, range: PlausibleRange, lookback: Int) throws {
    guard steps >= 1 else { throw ForecastError.invalidArgument("closed-loop forecasts need steps >= 1, got \(steps)") }
    guard range.columns == series.columns else {
      throw ForecastError.invalidArgument("the plausible range has \(range.columns) columns, the series \(series.columns)")
    }
    guard origins.allSatisfy({ $0 >= lookback - 1 && $0 < series.rows }) else {
      throw ForecastError.invalidArgument("forecast origins must be rows \(lookback - 1)..<\(series.rows) of the series (lookback \(lookback))")
    }
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
  /// A fed-back forecast left the plausible range: at `step` (1-based), `column` took `value`
  /// outside [`lower`, `upper`] (scaled units, see ``PlausibleRange``).
  case diverged(step: Int, column: Int, value: Double, lower: Double, upper: Double)

  /// The message: one line saying what is wrong and what to do.
  public var description: String {
    switch self {
    case .unavailableModel(let m), .invalidArgument(let m), .checkpoint(let m): return m
    case .diverged(let step, let column, let value, let lower, let upper):
      return "the fed-back forecast diverged at step \(step): column \(column) reached \(value), outside the plausible range "
        + "[\(lower), \(upper)] (scaled units); forecast fewer steps or refit the model (a larger ridge, input noise)"
    }
  }
}
