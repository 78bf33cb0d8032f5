/// How well a fitted ``Forecaster`` runs free: from each test origin t the model forecasts `steps`
/// rows feeding its own forecasts back (``Forecaster/closedLoop(series:origins:steps:range:)``), and
/// the error of the target column is scored at every step 1 … steps.
///
/// NRMSE at step k is the root mean square over origins of the error k steps ahead divided by the
/// standard deviation of the actual values k steps ahead (over the same origins), as
/// ``ForecastEvaluation/nrmseByStep`` does for the teacher-forced horizon; NRMSE at step 84 is
/// Jaeger's NRMSE84 for Mackey-Glass. A trajectory leaving the ``PlausibleRange`` counts as
/// diverged: it holds its last plausible value from there on (a large, finite error in the scores).
public struct FreeRunEvaluation: Sendable {
  /// Steps forecast from each origin.
  public let steps: Int
  /// Distance between consecutive origins (1: every test origin).
  public let stride: Int
  /// The origins (row of the last observed value), in the test part, each with `steps` actual rows after it.
  public let origins: [Int]
  /// The range a trajectory had to stay in (scaled units).
  public let range: PlausibleRange
  /// The forecasts of the target in original units, `[origins, steps, 1]`.
  public let forecasts: ForecastBatch
  /// RMSE of the target at each step 1 … steps (original units).
  public let rmseByStep: [Double]
  /// NRMSE of the target at each step 1 … steps.
  public let nrmseByStep: [Double]
  /// Where each trajectory diverged (nil: it did not), by origin.
  public let divergence: [ClosedLoopForecast.Divergence?]

  /// The number of trajectories that left the plausible range.
  public var divergedCount: Int { divergence.lazy.filter { $0 != nil }.count }
  /// NRMSE at step 84 (Jaeger's NRMSE84), when `steps` >= 84.
  public var nrmse84: Double? { steps >= 84 ? nrmseByStep[83] : nil }

  /// The most forecast values (origins × steps × columns) one evaluation holds in memory.
  public static let maximumValues = 50_000_000

  /// The test origins a free run of `steps` can be scored from: `split.testOrigins` whose `steps`
  /// following rows exist, every `stride`-th.
  public static func origins(split: ForecastSplit, steps: Int, stride: Int) -> [Int] {
    let first = split.testOrigins.first ?? split.test.lowerBound - 1
    let last = split.count - 1 - steps
    return first <= last ? Array(Swift.stride(from: first, through: last, by: stride)) : []
  }

  /// Runs the fitted `model` free from the test origins of `split` and scores the target column.
  /// - Parameters:
  ///   - model: a fitted forecaster (scaled units, as fitted by ``ForecastEvaluation/run(model:series:columnNames:split:scaling:season:)``).
  ///   - series: the data `[T, F]` in original units.
  ///   - scaler: the scaling the model was fitted with.
  ///   - split: the split it was fitted on; origins come from its test part.
  ///   - steps: rows forecast from each origin, >= 1.
  ///   - stride: distance between origins, >= 1.
  ///   - margin: the ``PlausibleRange`` margin around the rows the model was fitted on (train and validation).
  /// - Throws: ``TimeSeriesError`` for bad steps, stride or margin, or a test part too short for two origins.
  public static func run<M: Forecaster>(
    model: M, series: DoubleMatrix, scaler: Scaler, split: ForecastSplit, steps: Int, stride: Int = 1,
    margin: Double = PlausibleRange.defaultMargin
  ) throws -> FreeRunEvaluation {
    guard steps >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("freeRunSteps", steps, expected: ">= 1")) }
    guard stride >= 1 else { throw TimeSeriesError.invalidParameter(InvalidParameter("freeRunStride", stride, expected: ">= 1")) }
    guard margin >= 0, margin.isFinite else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("margin", margin, expected: "a finite number >= 0"))
    }
    let origins = Self.origins(split: split, steps: steps, stride: stride)
    guard origins.count >= 2 else {
      throw TimeSeriesError.tooShort("the test part (\(split.test.count) rows) holds \(origins.count) origin(s) for a free run of \(steps) steps every \(stride) rows; the NRMSE needs at least 2: use fewer steps, a smaller stride or a larger testFraction")
    }
    guard origins.count * steps <= maximumValues / series.columns else {
      throw TimeSeriesError.invalidArgument("a free run of \(steps) steps from \(origins.count) origins holds more than \(maximumValues) values; use a larger stride or fewer steps")
    }
    let scaled = scaler.transform(series)
    let range = try PlausibleRange(fitting: scaled, rows: 0..<split.validation.upperBound, margin: margin)
    let run = try model.closedLoop(series: scaled, origins: origins, steps: steps, range: range)
    let target = series.column(0)
    var predicted = [[Double]](repeating: [], count: steps), actual = [[Double]](repeating: [], count: steps)
    var values = [Double]()
    values.reserveCapacity(origins.count * steps)
    for (i, t) in origins.enumerated() {
      for s in 0..<steps {
        let p = scaler.inverse(run.forecasts[i, s, 0], column: 0)
        values.append(p)
        predicted[s].append(p)
        actual[s].append(target[t + 1 + s])
      }
    }
    return FreeRunEvaluation(
      steps: steps, stride: stride, origins: origins, range: range,
      forecasts: ForecastBatch(origins: origins, horizon: steps, features: 1, values: values),
      rmseByStep: (0..<steps).map { ForecastMetrics.rmse(actual: actual[$0], predicted: predicted[$0]) },
      nrmseByStep: (0..<steps).map { ForecastMetrics.nrmse(actual: actual[$0], predicted: predicted[$0]) },
      divergence: run.divergence)
  }
}
