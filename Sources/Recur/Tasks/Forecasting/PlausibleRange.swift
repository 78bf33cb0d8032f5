/// The values a fed-back forecast may take before it counts as diverged: per column, the range of
/// the training rows widened by `margin` times its width on each side,
///
///     [min − margin · (max − min), max + margin · (max − min)]
///
/// (a constant column is widened by margin · max(|value|, 1)).
///
/// With the default margin 1 the plausible range is three times as wide as the training range: room
/// for a trend or a larger swing, but a trajectory that runs off to ±37,000 for a series living in
/// [0.4, 1.3] is stopped (``ForecastError/diverged(step:column:value:lower:upper:)``) instead of being
/// printed as a forecast. Used by closed-loop generation (``Forecaster/closedLoop(series:origins:steps:range:)``).
public struct PlausibleRange: Codable, Sendable, Equatable {
  /// The smallest value of each column on the rows the range was fitted on.
  public let minimum: [Double]
  /// The largest value of each column on those rows.
  public let maximum: [Double]
  /// The widening factor.
  public let margin: Double

  /// The default widening factor: the plausible range is three times the training range.
  public static let defaultMargin = 1.0

  /// The range of `rows` of `series`, widened by `margin` (see the type).
  /// - Throws: ``ForecastError/invalidArgument(_:)`` for a negative or non-finite margin, no rows, or
  ///   bounds beyond the double-precision range.
  public init(fitting series: DoubleMatrix, rows: Range<Int>, margin: Double = PlausibleRange.defaultMargin) throws {
    guard margin >= 0, margin.isFinite else {
      throw ForecastError.invalidArgument("the plausible-range margin must be a finite number >= 0, got \(margin)")
    }
    guard !rows.isEmpty, rows.lowerBound >= 0, rows.upperBound <= series.rows else {
      throw ForecastError.invalidArgument("the plausible range needs rows of the series (0..<\(series.rows)), got \(rows)")
    }
    var minimum = [Double](), maximum = [Double]()
    for j in 0..<series.columns {
      var lo = Double.infinity, hi = -Double.infinity
      for t in rows { lo = min(lo, series[t, j]); hi = max(hi, series[t, j]) }
      minimum.append(lo)
      maximum.append(hi)
    }
    self.init(minimum: minimum, maximum: maximum, margin: margin)
    guard isValid else {
      throw ForecastError.invalidArgument("the plausible range (margin \(margin)) exceeds the double-precision range; use a smaller margin")
    }
  }

  /// A range from the observed extremes of each column (`minimum[j] <= maximum[j]`) and the margin.
  public init(minimum: [Double], maximum: [Double], margin: Double) {
    precondition(minimum.count == maximum.count && zip(minimum, maximum).allSatisfy { $0 <= $1 }, "bad plausible range")
    self.minimum = minimum
    self.maximum = maximum
    self.margin = margin
  }

  /// The number of columns.
  public var columns: Int { minimum.count }

  /// The width each side is widened by, per unit of margin: max − min, or max(|max|, 1) for a constant column.
  private func width(_ j: Int) -> Double { maximum[j] > minimum[j] ? maximum[j] - minimum[j] : max(abs(maximum[j]), 1) }

  /// The lowest plausible value of each column.
  public var lower: [Double] { (0..<columns).map { minimum[$0] - margin * width($0) } }
  /// The highest plausible value of each column.
  public var upper: [Double] { (0..<columns).map { maximum[$0] + margin * width($0) } }

  /// The first column of `row` outside the range (a NaN is outside), or nil when the row is plausible.
  public func violation(in row: ArraySlice<Double>) -> Int? {
    for (j, v) in zip(0..., row) {
      let w = margin * width(j)
      if !(v >= minimum[j] - w && v <= maximum[j] + w) { return j }
    }
    return nil
  }

  /// The same observed range widened by `margin` instead.
  public func withMargin(_ margin: Double) -> PlausibleRange {
    PlausibleRange(minimum: minimum, maximum: maximum, margin: margin)
  }

  /// The range covering both ranges' observed values (same columns), widened by the margin of `self`.
  public func union(_ other: PlausibleRange) -> PlausibleRange {
    precondition(other.columns == columns, "ranges of different columns")
    return PlausibleRange(minimum: zip(minimum, other.minimum).map { min($0, $1) },
                          maximum: zip(maximum, other.maximum).map { max($0, $1) }, margin: margin)
  }

  /// Whether the stored values are usable (finite, ordered, finite bounds): a check for ranges read from files.
  public var isValid: Bool {
    minimum.count == maximum.count && !minimum.isEmpty && margin >= 0 && margin.isFinite
      && zip(minimum, maximum).allSatisfy { $0.isFinite && $1.isFinite && $0 <= $1 }
      && lower.allSatisfy(\.isFinite) && upper.allSatisfy(\.isFinite)
  }
}
