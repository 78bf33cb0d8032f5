import CRecurKernels

/// A linear read-out trained by ridge (Tikhonov) regression in closed form:
///
///     W = (Xcᵀ Xc + λ I)⁻¹ Xcᵀ Yc,   b = mean(Y) - mean(X) W        (fitBias)
///     W = (Xᵀ X + λ I)⁻¹ Xᵀ Y,       b = 0                          (no bias)
///
/// where Xc, Yc are X, Y with their column means removed, so the bias is not penalised: the same
/// solution as ReservoirPy's `nodes.Ridge(ridge=λ, fit_bias=True)`, which subtracts the means from
/// the accumulated XXᵀ instead. Here the Gram matrix is accumulated from already-centred values
/// (better conditioned) in double precision, and the system is solved by Cholesky factorisation.
///
/// Shapes: features X `[T, N]`, targets Y `[T, K]`, ``weights`` `[N, K]` (ReservoirPy's `Wout`),
/// ``bias`` `[K]`; predictions `X W + b`.
///
/// - Parameters:
///   - ridge: the regularisation λ >= 0 (ReservoirPy `ridge`). Default 0.
///   - fitBias: learn the intercept b (ReservoirPy `fit_bias`). Default true.
public struct Ridge: Sendable, Codable, Equatable {
  /// The regularisation λ ≥ 0 (ReservoirPy `ridge`).
  public var ridge: Double
  /// Whether an unpenalised intercept is learned (ReservoirPy `fit_bias`).
  public var fitBias: Bool
  /// W `[N, K]`, nil before fitting.
  public internal(set) var weights: DoubleMatrix?
  /// b `[K]` (zeros without `fitBias`).
  public internal(set) var bias: [Double]

  /// An unfitted read-out with regularisation `ridge`.
  public init(ridge: Double = 0, fitBias: Bool = true) {
    self.ridge = ridge
    self.fitBias = fitBias
    self.weights = nil
    self.bias = []
  }

  /// True once fitted.
  public var isFitted: Bool { weights != nil }

  /// Fits W and b to `features` `[T, N]` and `targets` `[T, K]`.
  /// - Throws: ``ReservoirError`` for mismatched shapes, non-finite values, a negative ridge, or a
  ///   singular system (use ridge > 0).
  public mutating func fit(features: DoubleMatrix, targets: DoubleMatrix) throws {
    let system = try NormalEquations(features: features, targets: targets, centered: fitBias)
    try fit(system)
  }

  /// Fits from precomputed normal equations (solve for several ridges without recomputing them).
  public mutating func fit(_ system: NormalEquations) throws {
    guard ridge >= 0, ridge.isFinite else {
      throw ReservoirError.invalidParameter(InvalidParameter("ridge", ridge, expected: "a finite number >= 0"))
    }
    guard system.centered == fitBias else {
      preconditionFailure("normal equations were built with centered = \(system.centered), Ridge.fitBias = \(fitBias)")
    }
    let n = system.featureCount, k = system.targetCount
    var a = system.gram
    for i in 0..<n { a[i * n + i] += ridge }
    let failed = a.withUnsafeMutableBufferPointer { recur_cholesky_f64(Int32(n), $0.baseAddress, Int32(n)) }
    if failed != 0 {
      throw ReservoirError.singularSystem(
        "the ridge system is singular (\(n) features, \(system.sampleCount) samples, ridge \(ridge)); use a larger ridge (e.g. 1e-6)")
    }
    var w = system.cross
    a.withUnsafeBufferPointer { l in
      w.withUnsafeMutableBufferPointer { b in
        recur_cholesky_solve_f64(Int32(n), l.baseAddress, Int32(n), Int32(k), b.baseAddress, Int32(k))
      }
    }
    guard w.allSatisfy({ $0.isFinite }) else {
      throw ReservoirError.singularSystem("the ridge solution is not finite (ridge \(ridge)); use a larger ridge")
    }
    let weights = DoubleMatrix(rows: n, columns: k, storage: w)
    var b = [Double](repeating: 0, count: k)
    if fitBias {
      for j in 0..<k {
        var s = system.targetMean[j]
        for i in 0..<n { s -= system.featureMean[i] * w[i * k + j] }
        b[j] = s
      }
    }
    self.weights = weights
    self.bias = b
  }

  /// Predictions `X W + b`, `[T, K]`.
  public func predict(_ features: DoubleMatrix) throws -> DoubleMatrix {
    guard let weights else {
      throw ReservoirError.invalidArgument("the ridge read-out is not fitted; call fit first")
    }
    guard features.columns == weights.rows else {
      throw ReservoirError.invalidData("the read-out takes \(weights.rows) features, got \(features.columns)")
    }
    return predictUnchecked(features, rowOffset: 0, rows: features.rows)
  }

  /// Predictions for `rows` rows of `features` starting at `rowOffset` (no validation).
  func predictUnchecked(_ features: DoubleMatrix, rowOffset: Int, rows: Int) -> DoubleMatrix {
    let w = weights!
    var out = DoubleMatrix(rows: rows, columns: w.columns)
    if rows == 0 { return out }
    features.withUnsafeBufferPointer { x in
      w.withUnsafeBufferPointer { wp in
        bias.withUnsafeBufferPointer { b in
          out.withUnsafeMutableBufferPointer { o in
            recur_readout_f64(Int32(rows), Int32(w.rows), Int32(w.columns), x.baseAddress! + rowOffset * features.columns,
                              Int32(features.columns), wp.baseAddress, b.baseAddress, o.baseAddress)
          }
        }
      }
    }
    return out
  }

  /// Prediction for one feature vector.
  func predictOne(_ x: [Double]) -> [Double] {
    let w = weights!
    let n = w.rows, k = w.columns
    return (0..<k).map { j in
      var s = bias[j]
      for i in 0..<n { s += x[i] * w.storage[i * k + j] }
      return s
    }
  }
}

// MARK: - Normal equations

extension Ridge {
  /// The sufficient statistics of a ridge fit: Gram matrix Xᵀ X `[N, N]`, cross products Xᵀ Y
  /// `[N, K]` (both of centred data when `centered`) and the column means.
  public struct NormalEquations: Sendable {
    /// N (features), K (targets) and the number of rows accumulated.
    public let featureCount: Int, targetCount: Int, sampleCount: Int
    /// Whether the statistics are of mean-centred data (needed for an unpenalised bias).
    public let centered: Bool
    var gram: [Double]
    var cross: [Double]
    var featureMean: [Double]
    var targetMean: [Double]

    /// Builds them from rows `rowOffset..<rowOffset + rows` of `features` and `targets`.
    public init(features: DoubleMatrix, targets: DoubleMatrix, centered: Bool = true) throws {
      try self.init(features: features, targets: targets, rowOffset: 0, rows: features.rows, centered: centered)
    }

    /// From its parts.
    init(featureCount: Int, targetCount: Int, sampleCount: Int, centered: Bool, gram: [Double], cross: [Double],
         featureMean: [Double], targetMean: [Double]) {
      self.featureCount = featureCount
      self.targetCount = targetCount
      self.sampleCount = sampleCount
      self.centered = centered
      self.gram = gram
      self.cross = cross
      self.featureMean = featureMean
      self.targetMean = targetMean
    }

    /// From a centred Gram matrix and feature means computed elsewhere (while running the
    /// reservoir) for rows `rowOffset..<rowOffset + rows` of `features`.
    init(features: DoubleMatrix, targets: DoubleMatrix, rowOffset: Int, rows: Int, centeredGram: [Double],
         featureMean: [Double]) throws {
      let n = features.columns, k = targets.columns
      precondition(centeredGram.count == n * n && featureMean.count == n, "Gram matrix does not match \(n) features")
      guard features.rows == targets.rows, rows >= 1, rowOffset >= 0, rowOffset + rows <= features.rows else {
        throw ReservoirError.invalidData("features have \(features.rows) rows but targets \(targets.rows); pass one target row per feature row")
      }
      guard centeredGram.allSatisfy({ $0.isFinite }), featureMean.allSatisfy({ $0.isFinite }) else {
        throw ReservoirError.invalidData("reservoir states are not finite; check the inputs and the input scaling")
      }
      featureCount = n
      targetCount = k
      sampleCount = rows
      centered = true
      var ym = [Double](repeating: 0, count: k)
      for t in rowOffset..<(rowOffset + rows) {
        for j in 0..<k { ym[j] += targets[t, j] }
      }
      for j in 0..<k { ym[j] /= Double(rows) }
      guard ym.allSatisfy({ $0.isFinite }) else {
        throw ReservoirError.invalidData("targets contain NaN or infinite values; clean or fill them first")
      }
      self.featureMean = featureMean
      targetMean = ym
      gram = centeredGram
      var c = [Double](repeating: 0, count: n * k)
      features.withUnsafeBufferPointer { x in
        targets.withUnsafeBufferPointer { y in
          featureMean.withUnsafeBufferPointer { m in
            ym.withUnsafeBufferPointer { my in
              c.withUnsafeMutableBufferPointer { cp in
                recur_cross_f64(Int32(rows), Int32(n), Int32(k), x.baseAddress! + rowOffset * n, Int32(n), m.baseAddress,
                                y.baseAddress! + rowOffset * k, Int32(k), my.baseAddress, cp.baseAddress, Int32(k))
              }
            }
          }
        }
      }
      cross = c
    }

    init(features: DoubleMatrix, targets: DoubleMatrix, rowOffset: Int, rows: Int, centered: Bool) throws {
      guard features.rows == targets.rows else {
        throw ReservoirError.invalidData("features have \(features.rows) rows but targets \(targets.rows); pass one target row per feature row")
      }
      guard rows >= 1, rowOffset >= 0, rowOffset + rows <= features.rows else {
        throw ReservoirError.invalidData("no training rows left (\(features.rows) rows, \(rowOffset) skipped); pass more data or a shorter warm-up")
      }
      guard features.columns >= 1, targets.columns >= 1 else {
        throw ReservoirError.invalidData("features and targets need at least one column")
      }
      let n = features.columns, k = targets.columns
      featureCount = n
      targetCount = k
      sampleCount = rows
      self.centered = centered
      var xm = [Double](repeating: 0, count: n), ym = [Double](repeating: 0, count: k)
      var finite = true
      features.withUnsafeBufferPointer { x in
        for t in rowOffset..<(rowOffset + rows) {
          let r = x.baseAddress! + t * n
          for i in 0..<n { xm[i] += r[i] }
        }
      }
      targets.withUnsafeBufferPointer { y in
        for t in rowOffset..<(rowOffset + rows) {
          let r = y.baseAddress! + t * k
          for j in 0..<k { ym[j] += r[j] }
        }
      }
      finite = xm.allSatisfy { $0.isFinite } && ym.allSatisfy { $0.isFinite }
      guard finite else {
        throw ReservoirError.invalidData("features or targets contain NaN or infinite values; clean or fill them first")
      }
      let invT = 1.0 / Double(rows)
      for i in 0..<n { xm[i] *= invT }
      for j in 0..<k { ym[j] *= invT }
      featureMean = centered ? xm : [Double](repeating: 0, count: n)
      targetMean = centered ? ym : [Double](repeating: 0, count: k)
      var g = [Double](repeating: 0, count: n * n)
      var c = [Double](repeating: 0, count: n * k)
      let fm = featureMean, tm = targetMean
      features.withUnsafeBufferPointer { x in
        targets.withUnsafeBufferPointer { y in
          fm.withUnsafeBufferPointer { m in
            tm.withUnsafeBufferPointer { my in
              g.withUnsafeMutableBufferPointer { gp in
                recur_gram_f64(Int32(rows), Int32(n), x.baseAddress! + rowOffset * n, Int32(n),
                               centered ? m.baseAddress : nil, gp.baseAddress, Int32(n))
              }
              c.withUnsafeMutableBufferPointer { cp in
                recur_cross_f64(Int32(rows), Int32(n), Int32(k), x.baseAddress! + rowOffset * n, Int32(n),
                                centered ? m.baseAddress : nil, y.baseAddress! + rowOffset * k, Int32(k),
                                centered ? my.baseAddress : nil, cp.baseAddress, Int32(k))
              }
            }
          }
        }
      }
      gram = g
      cross = c
    }
  }
}
