/// An exact non-negative fraction of a whole note: note lengths, bar durations and metres.
///
/// Always in lowest terms with a positive denominator. Arithmetic reports overflow by returning
/// nil instead of trapping, so a hostile tune (`A99999999/3333333`, deeply nested tuplets) becomes
/// a reader error, never a crash.
public struct MusicFraction: Hashable, Comparable, Sendable, CustomStringConvertible {
  /// The numerator (≥ 0).
  public let numerator: Int
  /// The denominator (≥ 1).
  public let denominator: Int

  /// `numerator / denominator` in lowest terms, or nil if `denominator` is not positive or
  /// `numerator` is negative.
  public init?(_ numerator: Int, _ denominator: Int) {
    guard denominator > 0, numerator >= 0 else { return nil }
    let g = Self.gcd(numerator, denominator)
    self.numerator = numerator / g
    self.denominator = denominator / g
  }

  /// Zero.
  public static let zero = MusicFraction(0, 1)!
  /// One whole note.
  public static let one = MusicFraction(1, 1)!

  /// The value as a Double.
  public var doubleValue: Double { Double(numerator) / Double(denominator) }

  /// `self + other`, nil on overflow.
  public func adding(_ other: MusicFraction) -> MusicFraction? {
    let g = Self.gcd(denominator, other.denominator)
    let (l, o1) = denominator.multipliedReportingOverflow(by: other.denominator / g)
    let (a, o2) = numerator.multipliedReportingOverflow(by: other.denominator / g)
    let (b, o3) = other.numerator.multipliedReportingOverflow(by: denominator / g)
    guard !o1, !o2, !o3 else { return nil }
    let (n, o4) = a.addingReportingOverflow(b)
    return o4 ? nil : MusicFraction(n, l)
  }

  /// `self × other`, nil on overflow.
  public func multiplied(by other: MusicFraction) -> MusicFraction? {
    let g1 = Self.gcd(numerator, other.denominator), g2 = Self.gcd(other.numerator, denominator)
    let (n, o1) = (numerator / g1).multipliedReportingOverflow(by: other.numerator / g2)
    let (d, o2) = (denominator / g2).multipliedReportingOverflow(by: other.denominator / g1)
    return o1 || o2 ? nil : MusicFraction(n, d)
  }

  /// Exact order (by cross-multiplication; in Double only where that would overflow).
  public static func < (a: MusicFraction, b: MusicFraction) -> Bool {
    let (x, o1) = a.numerator.multipliedReportingOverflow(by: b.denominator)
    let (y, o2) = b.numerator.multipliedReportingOverflow(by: a.denominator)
    if !o1 && !o2 { return x < y }
    return a.doubleValue < b.doubleValue
  }

  /// `3/8`, or `2` for whole numbers.
  public var description: String { denominator == 1 ? "\(numerator)" : "\(numerator)/\(denominator)" }

  static func gcd(_ a: Int, _ b: Int) -> Int {
    var (x, y) = (a, b)
    while y != 0 { (x, y) = (y, x % y) }
    return Swift.max(x, 1)
  }
}
