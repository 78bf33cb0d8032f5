/// The result of fitting a ``Forecaster`` on the training part of a series and forecasting every
/// test origin, with the naive and seasonal-naive baselines on the same origins and steps.
///
/// Scores are for column 0 (the target), in original units, pooled over every (origin, step)
/// pair: with horizon H and n test origins, n·H forecasts.
public struct ForecastEvaluation: Sendable {
  /// The chronological split the model was fitted and tested on.
  public let split: ForecastSplit
  /// The scaling fitted on the training rows.
  public let scaler: Scaler
  /// The test origins (row index of the last observed value of each forecast).
  public let origins: [Int]
  /// The model's forecasts in original units `[origins, horizon, features]`.
  public let forecasts: ForecastBatch
  /// Naive (last value) and seasonal-naive forecasts of the target, `[origins, horizon, 1]`.
  public let naive: ForecastBatch
  /// The seasonal-naive forecasts of the target `[origins, horizon, 1]`; nil without a season.
  public let seasonalNaive: ForecastBatch?
  /// The season of the seasonal-naive baseline and of the MASE scale (nil: none).
  public let season: Int?
  /// The model's scores on the target.
  public let modelScores: ForecastScores
  /// The naive (last value) baseline's scores.
  public let naiveScores: ForecastScores
  /// The seasonal-naive baseline's scores (nil without a season).
  public let seasonalNaiveScores: ForecastScores?
  /// RMSE of the model for each step ahead (1 … horizon).
  public let rmseByStep: [Double]
  /// NRMSE (RMSE / std of the actual values at that step) of the model for each step ahead.
  public let nrmseByStep: [Double]
  /// What the model reported while fitting (chosen hyper-parameters, …).
  public let notes: [String: String]

  /// Scales `series` on its training rows, fits `model`, forecasts the test origins and scores
  /// them against the actual values and the baselines.
  /// - Parameters:
  ///   - model: the forecaster to fit (its lookback and horizon must be the split's); fitted on return.
  ///   - series: the data `[T, F]` in original units; column 0 is the target.
  ///   - columnNames: names of the columns (for error messages).
  ///   - split: the chronological split (its lookback and horizon must be the model's).
  ///   - scaling: how to scale each column (fitted on `split.train` only).
  ///   - season: period of the seasonal-naive baseline (and of the MASE scale); nil: no seasonal
  ///     baseline, MASE scaled by the one-step naive forecast.
  public static func run<M: Forecaster>(
    model: inout M, series: DoubleMatrix, columnNames: [String], split: ForecastSplit, scaling: Scaler.Method,
    season: Int?
  ) throws -> ForecastEvaluation {
    precondition(split.count == series.rows && split.horizon == model.horizon && split.lookback == model.lookback,
                 "the split does not match the series or the model")
    if let season, season < 1 {
      throw TimeSeriesError.invalidParameter(InvalidParameter("season", season, expected: ">= 1"))
    }
    guard series.isFinite else {
      throw TimeSeriesError.malformed("the series contains NaN or infinite values; clean or fill them first")
    }
    let scaler = try Scaler(fitting: series, rows: split.train, method: scaling, columnNames: columnNames)
    let scaled = scaler.transform(series)
    let notes = try model.fit(series: scaled, split: split)
    let origins = split.testOrigins
    let forecasts = try model.forecast(series: scaled, origins: origins).unscaled(by: scaler)
    guard forecasts.values.allSatisfy(\.isFinite) else {
      throw ForecastError.invalidArgument(
        "the model's forecasts are not finite numbers (the series' values are too large or too far apart to forecast in double precision); rescale the data")
    }

    let target = series.column(0)
    let h = model.horizon
    var actual: [Double] = [], predicted: [Double] = [], naiveValues: [Double] = [], seasonalValues: [Double] = []
    var predictedByStep = [[Double]](repeating: [], count: h)
    var actualByStep = [[Double]](repeating: [], count: h)
    for (i, t) in origins.enumerated() {
      let naive = ForecastMetrics.naive(series: target, origin: t, horizon: h)
      let seasonal = season.map { ForecastMetrics.seasonalNaive(series: target, origin: t, horizon: h, season: $0) }
      for step in 0..<h {
        let y = target[t + 1 + step], p = forecasts[i, step, 0]
        actual.append(y)
        predicted.append(p)
        naiveValues.append(naive[step])
        if let seasonal { seasonalValues.append(seasonal[step]) }
        predictedByStep[step].append(p)
        actualByStep[step].append(y)
      }
    }
    let training = Array(target[split.train])
    let m = season ?? 1
    return ForecastEvaluation(
      split: split, scaler: scaler, origins: origins, forecasts: forecasts,
      naive: ForecastBatch(origins: origins, horizon: h, features: 1, values: naiveValues),
      seasonalNaive: season == nil ? nil : ForecastBatch(origins: origins, horizon: h, features: 1, values: seasonalValues),
      season: season,
      modelScores: ForecastMetrics.scores(actual: actual, predicted: predicted, training: training, season: m),
      naiveScores: ForecastMetrics.scores(actual: actual, predicted: naiveValues, training: training, season: m),
      seasonalNaiveScores: season == nil ? nil
        : ForecastMetrics.scores(actual: actual, predicted: seasonalValues, training: training, season: m),
      rmseByStep: (0..<h).map { ForecastMetrics.rmse(actual: actualByStep[$0], predicted: predictedByStep[$0]) },
      nrmseByStep: (0..<h).map { ForecastMetrics.nrmse(actual: actualByStep[$0], predicted: predictedByStep[$0]) },
      notes: notes)
  }
}
