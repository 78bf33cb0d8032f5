/// Accuracy measures for point forecasts, and the naive baselines they are read against.
///
/// - RMSE: √(mean (y - ŷ)²).
/// - MAE: mean |y - ŷ|.
/// - NRMSE: RMSE / std(y), the population standard deviation of the actual values (NumPy's
///   `np.std`; ReservoirPy's `nrmse(..., norm="var")`-style normalisation used in the reservoir
///   literature). 1 means "as good as predicting the mean".
/// - MASE (Hyndman & Koehler 2006): MAE / (in-sample MAE of the seasonal naive forecast
///   ŷ[t] = y[t - m] on the training part), m = 1 without seasonality, the M4 convention with a
///   season. Below 1 beats the in-sample naive forecast.
public enum ForecastMetrics {
  /// Root mean squared error.
  public static func rmse(actual: [Double], predicted: [Double]) -> Double {
    precondition(actual.count == predicted.count && !actual.isEmpty, "rmse needs equal, non-empty arrays")
    // On values divided by the largest magnitude: differences and squares of values near ±1e308 stay finite.
    let m = magnitude(actual, predicted)
    var s = 0.0
    for (a, p) in zip(actual, predicted) { let d = a / m - p / m; s += d * d }
    return (s / Double(actual.count)).squareRoot() * m
  }

  /// The largest magnitude in `a` and `b` (1 when all are 0): the metrics divide by it first.
  static func magnitude(_ a: [Double], _ b: [Double]) -> Double {
    let m = max(a.lazy.map(abs).max() ?? 0, b.lazy.map(abs).max() ?? 0)
    return m > 0 && m.isFinite ? m : 1
  }

  /// Mean absolute error.
  public static func mae(actual: [Double], predicted: [Double]) -> Double {
    precondition(actual.count == predicted.count && !actual.isEmpty, "mae needs equal, non-empty arrays")
    let m = magnitude(actual, predicted)
    var s = 0.0
    for (a, p) in zip(actual, predicted) { s += abs(a / m - p / m) }
    return s / Double(actual.count) * m
  }

  /// Population standard deviation.
  public static func standardDeviation(_ values: [Double]) -> Double {
    precondition(!values.isEmpty, "standard deviation of no values")
    let m = magnitude(values, [])
    let mean = values.reduce(0) { $0 + $1 / m } / Double(values.count)
    var s = 0.0
    for v in values { let d = v / m - mean; s += d * d }
    return (s / Double(values.count)).squareRoot() * m
  }

  /// RMSE / std(actual); infinite when the actual values are constant.
  public static func nrmse(actual: [Double], predicted: [Double]) -> Double {
    let sd = standardDeviation(actual)
    return rmse(actual: actual, predicted: predicted) / sd
  }

  /// The MASE scale: mean |y[t] - y[t - season]| over the training values (nil if it is 0 or there
  /// are not more than `season` values).
  public static func maseScale(training: [Double], season: Int = 1) -> Double? {
    precondition(season >= 1, "season must be >= 1")
    guard training.count > season else { return nil }
    let m = magnitude(training, [])
    var s = 0.0
    for t in season..<training.count { s += abs(training[t] / m - training[t - season] / m) }
    let scale = s / Double(training.count - season) * m
    return scale > 0 ? scale : nil
  }

  /// Mean absolute scaled error (nil when the training part gives no scale).
  public static func mase(actual: [Double], predicted: [Double], training: [Double], season: Int = 1) -> Double? {
    guard let scale = maseScale(training: training, season: season) else { return nil }
    return mae(actual: actual, predicted: predicted) / scale
  }

  /// All four scores at once.
  public static func scores(actual: [Double], predicted: [Double], training: [Double], season: Int = 1) -> ForecastScores {
    ForecastScores(rmse: rmse(actual: actual, predicted: predicted),
                   mae: mae(actual: actual, predicted: predicted),
                   nrmse: nrmse(actual: actual, predicted: predicted),
                   mase: mase(actual: actual, predicted: predicted, training: training, season: season))
  }

  // MARK: - Baselines

  /// The naive forecast from origin t for step h: the last observed value, ŷ[t + h] = y[t].
  public static func naive(series: [Double], origin: Int, horizon: Int) -> [Double] {
    [Double](repeating: series[origin], count: horizon)
  }

  /// The seasonal naive forecast from origin t: ŷ[t + h] = y[t + h - m·⌈h / m⌉], the value one
  /// season (or as many as needed to reach observed data) earlier.
  public static func seasonalNaive(series: [Double], origin: Int, horizon: Int, season: Int) -> [Double] {
    precondition(season >= 1, "season must be >= 1")
    return (1...max(horizon, 1)).prefix(horizon).map { h in
      let back = season * ((h + season - 1) / season)
      return series[max(origin + h - back, 0)]
    }
  }
}

/// RMSE, MAE, NRMSE and MASE of one forecast.
public struct ForecastScores: Codable, Sendable, Equatable {
  /// Root mean squared error, in the series' units.
  public var rmse: Double
  /// Mean absolute error, in the series' units.
  public var mae: Double
  /// RMSE divided by the standard deviation of the actual values.
  public var nrmse: Double
  /// nil when the training part gives no scale (constant at the seasonal lag).
  public var mase: Double?

  /// Scores from their values.
  public init(rmse: Double, mae: Double, nrmse: Double, mase: Double?) {
    self.rmse = rmse
    self.mae = mae
    self.nrmse = nrmse
    self.mase = mase
  }
}
