/// Per-feature standardisation of numeric sequences: `(x - mean) / std`, with mean and standard
/// deviation (population, over every step of every item) fitted on the training items only.
/// A feature whose training values are constant gets std 1 (it is only centred). Codable, for
/// model archives.
public struct FeatureStandardizer: Sendable, Codable, Equatable {
  /// The mean of each feature.
  public let mean: [Float]
  /// The standard deviation of each feature (1 for constant features).
  public let std: [Float]

  /// A standardizer with the given statistics (same length, every std > 0).
  public init(mean: [Float], std: [Float]) throws {
    guard mean.count == std.count, std.allSatisfy({ $0 > 0 && $0.isFinite }) else {
      throw DataError.invalidParameter(InvalidParameter(name: "std", value: "\(std.count) values", expected: "\(mean.count) finite values > 0"))
    }
    self.mean = mean
    self.std = std
  }

  /// Decodes and checks the statistics (an archive's std must be as long as its mean, finite and > 0).
  public init(from decoder: any Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    let mean = try c.decode([Float].self, forKey: .mean), std = try c.decode([Float].self, forKey: .std)
    guard mean.count == std.count, std.allSatisfy({ $0 > 0 && $0.isFinite }), mean.allSatisfy(\.isFinite) else {
      throw DecodingError.dataCorruptedError(forKey: .std, in: c, debugDescription:
        "the standardizer has \(mean.count) means and \(std.count) standard deviations; expected as many of each, finite, std > 0")
    }
    self.mean = mean
    self.std = std
  }

  /// Fits the training items of `set` (split `.train` or nil).
  public init(fitting set: NumericSequenceSet) throws {
    let f = set.featureCount
    var sum = [Double](repeating: 0, count: f), squares = [Double](repeating: 0, count: f)
    var n = 0
    for item in set.items(in: .train) {
      for t in 0..<item.steps {
        for k in 0..<f {
          let x = Double(item.values[t * f + k])
          sum[k] += x
          squares[k] += x * x
        }
      }
      n += item.steps
    }
    guard n > 0 else { throw DataError.empty(source: set.source, reason: "has no training items to fit a standardizer on") }
    let mean = sum.map { $0 / Double(n) }
    let std = (0..<f).map { k -> Float in
      let variance = max(0, squares[k] / Double(n) - mean[k] * mean[k])
      let s = variance.squareRoot()
      return s > 1e-12 * max(1, abs(mean[k])) ? Float(s) : 1
    }
    try self.init(mean: mean.map { Float($0) }, std: std)
  }

  /// `values` (`[T, F]` row-major) standardised.
  public func transform(_ values: [Float]) -> [Float] {
    let f = mean.count
    return values.enumerated().map { (i, x) in (x - mean[i % f]) / std[i % f] }
  }

  /// Every item of `set` standardised.
  public func standardized(_ set: NumericSequenceSet) -> NumericSequenceSet {
    var copy = set
    for i in copy.items.indices { copy.items[i].values = transform(copy.items[i].values) }
    return copy
  }
}
