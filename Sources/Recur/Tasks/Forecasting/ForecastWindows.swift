/// A chronological train / validation / test split of a series of `count` rows, for forecasting
/// `horizon` steps from windows of `lookback` steps.
///
/// Rows `0..<trainEnd` train the model, `trainEnd..<validationEnd` validate it (model selection,
/// early stopping; may be empty), `validationEnd..<count` test it. A forecast from origin t (the
/// last observed row) covers rows t+1 … t+horizon; the test origins are those whose whole horizon
/// lies in the test part, `validationEnd - 1 ... count - 1 - horizon`, and likewise for validation.
public struct ForecastSplit: Sendable, Codable, Equatable {
  /// Rows in the series.
  public let count: Int
  /// Rows of history of each window.
  public let lookback: Int
  /// Rows forecast from each origin.
  public let horizon: Int
  /// The training rows, `0..<trainEnd`.
  public let train: Range<Int>
  /// The validation rows, `trainEnd..<validationEnd` (may be empty).
  public let validation: Range<Int>
  /// The test rows, `validationEnd..<count`.
  public let test: Range<Int>

  /// Splits `count` rows: the last `round(count · testFraction)` rows test, the
  /// `round(count · validationFraction)` before them validate, the rest trains.
  /// - Throws: ``TimeSeriesError`` when fractions are out of range or the rows do not cover one
  ///   training window (lookback + horizon rows), the validation part (>= horizon rows when asked
  ///   for) and a test part of at least `horizon` rows.
  public init(count: Int, lookback: Int, horizon: Int, testFraction: Double, validationFraction: Double = 0) throws {
    // A window never spans more than the series: this also keeps every sum below from overflowing.
    guard lookback >= 1, lookback < max(count, 1) else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("lookback", lookback, expected: "in 1..<\(max(count, 2)) (shorter than the series of \(count) rows)"))
    }
    guard horizon >= 1, horizon < max(count, 1) else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("horizon", horizon, expected: "in 1..<\(max(count, 2)) (shorter than the series of \(count) rows)"))
    }
    guard testFraction > 0, testFraction < 1 else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("testFraction", testFraction, expected: "in (0, 1)"))
    }
    guard validationFraction >= 0, validationFraction + testFraction < 1 else {
      throw TimeSeriesError.invalidParameter(InvalidParameter(
        "validationFraction", validationFraction,
        expected: "in [0, \(1 - testFraction)) (the test part takes \(testFraction) and rows must remain for training)"))
    }
    let testCount = max(Int((Double(count) * testFraction).rounded()), horizon)
    let validationCount = validationFraction > 0 ? max(Int((Double(count) * validationFraction).rounded()), horizon) : 0
    let needed = lookback + horizon + validationCount + testCount
    guard count >= needed else {
      throw TimeSeriesError.seriesTooShort(rows: count, needed: needed, lookback: lookback, horizon: horizon,
                                           validationRows: validationCount, testRows: testCount)
    }
    self.count = count
    self.lookback = lookback
    self.horizon = horizon
    let validationEnd = count - testCount
    let trainEnd = validationEnd - validationCount
    train = 0..<trainEnd
    validation = trainEnd..<validationEnd
    test = validationEnd..<count
  }

  /// Origins whose `horizon` targets all lie in `part` (and that have `lookback` rows of history).
  public func origins(in part: Range<Int>) -> [Int] {
    let first = max(part.lowerBound - 1, lookback - 1)
    let last = part.upperBound - 1 - horizon
    return first <= last ? Array(first...last) : []
  }

  /// Training origins: history and targets inside the training part.
  public var trainOrigins: [Int] {
    let last = train.upperBound - 1 - horizon
    return lookback - 1 <= last ? Array((lookback - 1)...last) : []
  }

  /// Validation origins: targets inside the validation part (empty without one).
  public var validationOrigins: [Int] { validation.isEmpty ? [] : origins(in: validation) }
  /// Test origins: targets inside the test part.
  public var testOrigins: [Int] { origins(in: test) }
}

/// Sliding windows over a series `[T, F]`: for origin t, the input is rows t-lookback+1 … t and the
/// target rows t+1 … t+horizon. What windowed models (LSTM, GRU) train and forecast on.
public struct ForecastWindows: Sendable {
  /// Rows of each input window.
  public let lookback: Int
  /// Rows of each target window.
  public let horizon: Int
  /// The origin t of each window: the row of its last input.
  public let origins: [Int]
  /// Inputs `[origins.count, lookback, F]`, row-major.
  public let inputs: [Double]
  /// Targets `[origins.count, horizon, F]`, row-major (empty when the targets are beyond the data).
  public let targets: [Double]
  /// F, the columns of the series.
  public let features: Int

  /// Windows at `origins` of `series`; targets are included when every origin has `horizon` rows
  /// after it.
  public init(series: DoubleMatrix, lookback: Int, horizon: Int, origins: [Int]) {
    precondition(lookback >= 1 && horizon >= 1, "lookback and horizon must be >= 1")
    precondition(origins.allSatisfy { $0 >= lookback - 1 && $0 < series.rows }, "an origin lacks \(lookback) rows of history")
    self.lookback = lookback
    self.horizon = horizon
    self.origins = origins
    features = series.columns
    var x = [Double]()
    x.reserveCapacity(origins.count * lookback * series.columns)
    for t in origins {
      x.append(contentsOf: series.storage[((t - lookback + 1) * series.columns)..<((t + 1) * series.columns)])
    }
    inputs = x
    if origins.allSatisfy({ $0 + horizon < series.rows }) {
      var y = [Double]()
      y.reserveCapacity(origins.count * horizon * series.columns)
      for t in origins {
        y.append(contentsOf: series.storage[((t + 1) * series.columns)..<((t + 1 + horizon) * series.columns)])
      }
      targets = y
    } else {
      targets = []
    }
  }

  /// The number of windows.
  public var count: Int { origins.count }
}
