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
      guard values.allSatisfy(\.isFinite) else {
        throw TimeSeriesError.invalidParameter(InvalidParameter("values", "'\(name)' holding NaN or infinity", expected: "finite numbers"))
      }
      // Statistics of values / m (all in [-1, 1]), scaled back: sums and squares of values near
      // ±1e308 would overflow, these cannot.
      let m = values.map(abs).max()!
      let unit = m > 0 ? values.map { $0 / m } : values
      switch method {
      case .zScore:
        let meanUnit = unit.reduce(0, +) / Double(unit.count)
        var s = 0.0
        for v in unit { s += (v - meanUnit) * (v - meanUnit) }
        let stdUnit = (s / Double(unit.count)).squareRoot()
        let mean = meanUnit * m, std = stdUnit * m
        guard stdUnit > 1e-12 * max(abs(meanUnit), 1e-300), std > 0, (1 / std).isFinite else {
          throw TimeSeriesError.constantSeries(
            "'\(name)' is constant (\(mean)) over the \(values.count) training rows (zero variance) and cannot be scaled or forecast; choose a column that varies")
        }
        shift.append(mean)
        factor.append(1 / std)
        base.append(0)
      case .minMax:
        let lo = values.min()!, hi = values.max()!
        let range = (hi / 2 - lo / 2) * 2  // hi - lo without overflow (as a finite or infinite double)
        let f = (upper - lower) / (hi / 2 - lo / 2) / 2
        guard range > 1e-12 * max(abs(lo), abs(hi)), hi > lo, f.isFinite, f > 0 else {
          throw TimeSeriesError.constantSeries(
            "'\(name)' is constant (\(lo)) over the \(values.count) training rows (zero variance) and cannot be scaled or forecast; choose a column that varies")
        }
        shift.append(lo)
        factor.append(f)
        base.append(lower)
      }
    }
    self.shift = shift
    self.factor = factor
    self.base = base
  }

  /// Restores a scaler from stored parameters (checkpoints). Throws
  /// ``TimeSeriesError/invalidParameter(_:)`` unless the three arrays have one finite value per
  /// column and every factor is positive.
  public init(method: Method, shift: [Double], factor: [Double], base: [Double]) throws {
    guard shift.count == factor.count, factor.count == base.count else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("scaler", "\(shift.count) shifts, \(factor.count) factors and \(base.count) bases",
                                                              expected: "one of each per column"))
    }
    guard (shift + factor + base).allSatisfy(\.isFinite), factor.allSatisfy({ $0 > 0 }) else {
      throw TimeSeriesError.invalidParameter(InvalidParameter("scaler", "a NaN, infinite or non-positive factor",
                                                              expected: "finite shifts and bases and positive finite factors"))
    }
    self.method = method
    self.shift = shift
    self.factor = factor
    self.base = base
  }

  private enum CodingKeys: String, CodingKey { case method, shift, factor, base }

  /// Decodes a stored scaler, checking it as ``init(method:shift:factor:base:)`` does.
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    do {
      try self.init(method: c.decode(Method.self, forKey: .method), shift: c.decode([Double].self, forKey: .shift),
                    factor: c.decode([Double].self, forKey: .factor), base: c.decode([Double].self, forKey: .base))
    } catch let error as TimeSeriesError {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
    }
  }

  /// Number of columns it scales.
  public var columnCount: Int { shift.count }

  /// Scales every row of `data`.
  public func transform(_ data: DoubleMatrix) -> DoubleMatrix {
    precondition(data.columns == columnCount, "scaler has \(columnCount) columns, data \(data.columns)")
    var out = data
    for r in 0..<data.rows {
      for c in 0..<data.columns { out[r, c] = data[r, c] * factor[c] - shift[c] * factor[c] + base[c] }  // no x - shift: it may overflow
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
    // Halves first: (value - base) / factor and shift may each be near ±1.8e308 with a finite sum.
    ((value - base[column]) / 2 / factor[column] + shift[column] / 2) * 2
  }
}
