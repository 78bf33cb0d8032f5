/// Per-column affine scaling of a time series, fitted on the training part only and stored with the
/// model so forecasts can be mapped back to the original units.
///
/// - z-score: (x - mean) / std (population std of the training rows);
/// - min-max: maps [min, max] of the training rows to [lower, upper] (default [-1, 1], the range of
///   the reservoir literature; later values may fall outside it).
///
/// Stored as `scaled = (x - shift) * factor + base` per column.
public struct Scaler: Codable, Sendable, Equatable {
  /// How a scaler maps values: z-score or min-max.
  public enum Method: String, Codable, Sendable, CaseIterable {
    case zScore = "zscore"
    case minMax = "minmax"
  }

  /// The method the scaler was fitted with.
  public let method: Method
  /// Per column: the mean (z-score) or minimum (min-max) of the training rows.
  public let shift: [Double]
  /// Per column: 1 / std or (upper - lower) / (max - min).
  public let factor: [Double]
  /// Per column: 0 (z-score) or `lower` (min-max).
  public let base: [Double]

  /// Fits the scaling on `rows` of `data` (the training part).
  /// - Throws: ``TimeSeriesError/constantSeries(_:)`` when a column has zero variance on those rows,
  ///   ``TimeSeriesError/invalidParameter(_:)`` for an empty range or `lower >= upper`.
  public init(fitting data: DoubleMatrix, rows: Range<Int>, method: Method, lower: Double = -1, upper: Double = 1,
              columnNames: [String]? = nil) throws {
    guard !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= data.rows else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("rows", rows, expected: "a non-empty range of the series' rows 0..<\(data.rows)"))
    }
    guard lower < upper else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("lower", lower, expected: "below upper (\(upper))"))
    }
    self.method = method
    var shift: [Double] = [], factor: [Double] = [], base: [Double] = []
    for c in 0..<data.columns {
      let values = rows.map { data[$0, c] }
      let name = columnNames.map { $0[c] } ?? "column \(c)"
      switch method {
      case .zScore:
        let mean = values.reduce(0, +) / Double(values.count)
        var s = 0.0
        for v in values { s += (v - mean) * (v - mean) }
        let std = (s / Double(values.count)).squareRoot()
        guard std > 1e-12 * max(abs(mean), 1e-300), std > 0 else {
          throw TimeSeriesError.constantSeries(
            "'\(name)' is constant (\(mean)) over the \(values.count) training rows (zero variance) and cannot be scaled or forecast; choose a column that varies")
        }
        shift.append(mean)
        factor.append(1 / std)
        base.append(0)
      case .minMax:
        let lo = values.min()!, hi = values.max()!
        guard hi - lo > 1e-12 * max(abs(lo), abs(hi)), hi > lo else {
          throw TimeSeriesError.constantSeries(
            "'\(name)' is constant (\(lo)) over the \(values.count) training rows (zero variance) and cannot be scaled or forecast; choose a column that varies")
        }
        shift.append(lo)
        factor.append((upper - lower) / (hi - lo))
        base.append(lower)
      }
    }
    self.shift = shift
    self.factor = factor
    self.base = base
  }

  /// Restores a scaler from stored parameters (checkpoints).
  public init(method: Method, shift: [Double], factor: [Double], base: [Double]) {
    precondition(shift.count == factor.count && factor.count == base.count, "scaler parameters differ in length")
    self.method = method
    self.shift = shift
    self.factor = factor
    self.base = base
  }

  /// Number of columns it scales.
  public var columnCount: Int { shift.count }

  /// Scales every row of `data`.
  public func transform(_ data: DoubleMatrix) -> DoubleMatrix {
    precondition(data.columns == columnCount, "scaler has \(columnCount) columns, data \(data.columns)")
    var out = data
    for r in 0..<data.rows {
      for c in 0..<data.columns { out[r, c] = (data[r, c] - shift[c]) * factor[c] + base[c] }
    }
    return out
  }

  /// Maps scaled rows back to original units.
  public func inverseTransform(_ data: DoubleMatrix) -> DoubleMatrix {
    precondition(data.columns == columnCount, "scaler has \(columnCount) columns, data \(data.columns)")
    var out = data
    for r in 0..<data.rows {
      for c in 0..<data.columns { out[r, c] = inverse(data[r, c], column: c) }
    }
    return out
  }

  /// One scaled value of `column` back in original units.
  public func inverse(_ value: Double, column: Int) -> Double {
    (value - base[column]) / factor[column] + shift[column]
  }
}
