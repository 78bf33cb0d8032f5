import Foundation

// MARK: - Mackey-Glass

/// The Mackey-Glass chaotic time series, as ReservoirPy's `datasets.mackey_glass` computes it, value
/// for value:
///
///     dx/dt = a x(t - τ) / (1 + x(t - τ)^n) - b x(t)
///
/// discretised with ReservoirPy's RK4 variant (`_mg_rk4`: the delayed term is held fixed over the
/// step and `k2 = 2 k1 + (-b h) k1`, `k3 = 2 k1 + (-b h) k2`, `k4 = k1 + (-b h) k3`,
/// `x += (k1 + k2 + k3 + k4) / 6`). Before the first step a history of `floor(τ / h)` values is
/// drawn as `x0 + 0.2 (U[0, 1) - 0.5)` from `numpy.random.default_rng(seed)`, so the default
/// `seed: 5555` (ReservoirPy's hard-coded default) gives the series every ReservoirPy tutorial and
/// paper uses. The first returned value is `x0`.
///
/// Equal to ReservoirPy 0.4.2 within 1e-14 over 10,000 steps (a few ulps; the tests measure
/// ≤ 8.9e-16): the operations are performed in the same order, which matters because the system is
/// chaotic and a difference in the integration grows to O(1) within a few thousand steps.
///
/// - Parameters:
///   - count: number of values (time steps) to return.
///   - tau: the delay τ (17 gives the classic mildly chaotic series, 30 a more chaotic one).
///   - a: the gain of the delayed term (default 0.2).
///   - b: the decay rate (default 0.1).
///   - n: the exponent of the delayed term's denominator (default 10).
///   - x0: initial condition and centre of the random history (default 1.2).
///   - h: time step (default 1).
///   - seed: seed of the history's generator (default 5555, ReservoirPy's).
/// - Returns: `count` values.
public func mackeyGlass(
  count: Int, tau: Int = 17, a: Double = 0.2, b: Double = 0.1, n: Int = 10, x0: Double = 1.2,
  h: Double = 1.0, seed: UInt64 = 5555
) throws -> [Double] {
  try validateMackeyGlass(count: count, tau: tau, h: h)
  let historyLength = Int((Double(tau) / h).rounded(.down))
  var rng = NumPyRandom(seed: seed)
  let history = (0..<historyLength).map { _ in x0 + 0.2 * (rng.nextDouble() - 0.5) }
  return mackeyGlassIntegrate(count: count, tau: tau, a: a, b: b, n: n, x0: x0, h: h, history: history)
}

/// The Mackey-Glass series from a given history (ReservoirPy's `history=` argument): the last
/// `floor(τ / h)` values of `history` are used as x(t - τ) … x(t - h) for the first steps.
///
/// - Throws: ``ReservoirError`` if `history` is shorter than `floor(τ / h)` or parameters are invalid.
public func mackeyGlass(
  count: Int, tau: Int = 17, a: Double = 0.2, b: Double = 0.1, n: Int = 10, x0: Double = 1.2,
  h: Double = 1.0, history: [Double]
) throws -> [Double] {
  try validateMackeyGlass(count: count, tau: tau, h: h)
  let historyLength = Int((Double(tau) / h).rounded(.down))
  guard history.count >= historyLength else {
    throw ReservoirError.invalidArgument(
      "Mackey-Glass history has \(history.count) values but tau / h = \(tau) / \(h) needs at least \(historyLength); pass a longer history")
  }
  return mackeyGlassIntegrate(count: count, tau: tau, a: a, b: b, n: n, x0: x0, h: h,
                              history: Array(history.suffix(historyLength)))
}

/// The longest series `mackeyGlass` generates: 10^8 values (800 MB); the delay is at most 10^5.
public let mackeyGlassMaximumCount = 100_000_000

private func validateMackeyGlass(count: Int, tau: Int, h: Double) throws {
  guard count >= 0 else {
    throw ReservoirError.invalidParameter(InvalidParameter("count", count, expected: ">= 0"))
  }
  guard count <= mackeyGlassMaximumCount else {
    throw ReservoirError.invalidParameter(InvalidParameter("count", count, expected: "at most \(mackeyGlassMaximumCount)"))
  }
  guard tau >= 0 else {
    throw ReservoirError.invalidParameter(InvalidParameter("tau", tau, expected: ">= 0"))
  }
  guard tau <= 100_000 else {
    throw ReservoirError.invalidParameter(InvalidParameter("tau", tau, expected: "at most 100000"))
  }
  guard h > 0, h.isFinite else {
    throw ReservoirError.invalidParameter(InvalidParameter("h", h, expected: "a positive number (the time step)"))
  }
  guard Double(tau) / h <= Double(mackeyGlassMaximumCount) else {
    throw ReservoirError.invalidParameter(InvalidParameter("h", h, expected: "large enough that tau / h ≤ \(mackeyGlassMaximumCount) (the history length)"))
  }
}

/// One step of ReservoirPy's `_mg_rk4`, operation for operation.
@inline(__always)
private func mackeyGlassRK4(_ xt: Double, _ xtau: Double, a: Double, b: Double, n: Double, h: Double) -> Double {
  let bh = -b * h
  let k1 = bh * xt + a * xtau / (1 + pow(xtau, n))
  let k2 = 2 * k1 + bh * k1
  let k3 = 2 * k1 + bh * k2
  let k4 = k1 + bh * k3
  return xt + (k1 + k2 + k3 + k4) / 6
}

private func mackeyGlassIntegrate(
  count: Int, tau: Int, a: Double, b: Double, n: Int, x0: Double, h: Double, history: [Double]
) -> [Double] {
  let historyLength = history.count
  var x = history + [Double](repeating: 0, count: count)
  var xt = x0
  let nd = Double(n)
  for i in historyLength..<(historyLength + count) {
    x[i] = xt
    let xtau = tau > 0 ? x[i - historyLength] : 0.0
    xt = mackeyGlassRK4(xt, xtau, a: a, b: b, n: nd, h: h)
  }
  return Array(x[historyLength...])
}
