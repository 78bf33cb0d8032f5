import CRecurKernels
import Foundation

// MARK: - Spectral radius of a sparse matrix

/// The spectral radius (largest eigenvalue modulus) of a square sparse matrix, by restarted Arnoldi
/// iteration: the Krylov generalisation of power iteration. Plain power iteration does not settle
/// when the dominant eigenvalues are a complex-conjugate pair, as they usually are for the random
/// non-symmetric matrices of a reservoir; Arnoldi resolves the pair from the same sparse products.
/// This plays the part of `scipy.sparse.linalg.eigs(W, k=1, which="LM")` in ReservoirPy.
///
/// Each cycle builds an orthonormal Krylov basis of up to 64 vectors (re-orthogonalised twice),
/// takes the Ritz value of largest modulus from the small Hessenberg matrix (skipping spurious ones
/// with large residuals), and stops when its residual is below `tolerance` relative to the value
/// or stops improving; otherwise it restarts from the Ritz vector.
func spectralRadius(of matrix: SparseMatrix, tolerance: Double = 1e-10, maxRestarts: Int = 60) -> Double {
  precondition(matrix.rows == matrix.columns, "spectral radius needs a square matrix, got [\(matrix.rows), \(matrix.columns)]")
  let n = matrix.rows
  if n == 0 || matrix.nonzeroCount == 0 { return 0 }
  let m = min(n, 64)

  // Deterministic start vector with components of both signs.
  var generator = RandomGenerator(seed: 0x5EED_A4D1)
  var start = (0..<n).map { _ in generator.nextUniformDouble() - 0.5 }
  var best = (radius: 0.0, residual: Double.infinity)
  var sinceImprovement = 0
  var w = [Double](repeating: 0, count: n)

  for _ in 0..<maxRestarts {
    let norm0 = vectorNorm(start)
    if norm0 == 0 { break }
    var basis: [[Double]] = [start.map { $0 / norm0 }]
    var h = [Double](repeating: 0, count: (m + 1) * m)  // (m + 1) x m, row-major
    var steps = 0
    var breakdown = false
    for j in 0..<m {
      matrix.multiply(basis[j], into: &w)
      let wNorm = vectorNorm(w)
      // Classical Gram-Schmidt, repeated when the first pass cancelled most of w ("twice is
      // enough", Kahan-Parlett criterion).
      var hNext = wNorm
      for _ in 0..<2 {
        let before = hNext
        for i in 0...j {
          let c = dot(basis[i], w)
          h[i * m + j] += c
          axpy(-c, basis[i], &w)
        }
        hNext = vectorNorm(w)
        if hNext > 0.7071 * before { break }
      }
      steps = j + 1
      h[(j + 1) * m + j] = hNext
      if hNext <= 1e-13 * max(wNorm, 1e-300) {
        breakdown = true
        break
      }
      basis.append(w.map { $0 / hNext })
    }

    // Ritz values of the steps x steps Hessenberg block, largest modulus first.
    var hk = [Complex](repeating: .zero, count: steps * steps)
    for r in 0..<steps {
      for c in 0..<steps { hk[r * steps + c] = Complex(h[r * m + c], 0) }
    }
    let ritz = hessenbergEigenvalues(hk, n: steps).sorted { $0.magnitude > $1.magnitude }
    guard let top = ritz.first else { break }
    if breakdown || top.magnitude == 0 { return top.magnitude }  // invariant subspace: exact

    // Residual |h_{k+1,k}| |y_k| / |y| of a Ritz pair (relative to its value). For a non-normal
    // matrix, unconverged Ritz values can lie outside the spectrum (anywhere in the field of
    // values), so the wanted one is the largest Ritz value that is already roughly an eigenvalue.
    func ritzPair(_ lambda: Complex) -> (vector: [Complex], residual: Double) {
      let y = hessenbergEigenvector(hk, n: steps, eigenvalue: lambda)
      let yNorm = y.reduce(0) { $0 + $1.magnitudeSquared }.squareRoot()
      return (y, h[steps * m + steps - 1] * y[steps - 1].magnitude / (yNorm * max(lambda.magnitude, 1e-300)))
    }
    var chosen = (lambda: top, pair: ritzPair(top))
    if chosen.pair.residual > 1e-3 {
      for lambda in ritz.prefix(8).dropFirst() {
        let pair = ritzPair(lambda)
        if pair.residual < chosen.pair.residual { chosen = (lambda, pair) }
        if pair.residual <= 1e-3 { break }
      }
    }
    if chosen.pair.residual < best.residual {
      best = (chosen.lambda.magnitude, chosen.pair.residual)
      sinceImprovement = 0
    } else {
      sinceImprovement += 1
    }
    if best.residual <= tolerance || sinceImprovement >= 4 { break }

    // Restart from Re(x) + Im(x), x = V y: lies in the span of the wanted (pair of) eigenvectors.
    start = [Double](repeating: 0, count: n)
    for i in 0..<steps {
      let y = chosen.pair.vector[i]
      axpy(y.re + y.im, basis[i], &start)
    }
  }
  return best.radius
}

// MARK: - Dense helpers

@inline(__always) private func dot(_ a: [Double], _ b: [Double]) -> Double {
  recur_dot_f64(Int32(a.count), a, b)
}

@inline(__always) private func axpy(_ alpha: Double, _ x: [Double], _ y: inout [Double]) {
  recur_axpy_f64(Int32(y.count), alpha, x, &y)
}

private func vectorNorm(_ v: [Double]) -> Double {
  // Scaled to avoid overflow for large entries.
  let scale = v.reduce(0) { max($0, abs($1)) }
  if scale == 0 || !scale.isFinite { return scale }
  var s = 0.0
  for x in v { let t = x / scale; s += t * t }
  return scale * s.squareRoot()
}

// MARK: - Complex numbers (just what the eigenvalue code needs)

struct Complex: Equatable, Sendable {
  var re: Double, im: Double
  init(_ re: Double, _ im: Double) { self.re = re; self.im = im }
  static let zero = Complex(0, 0)
  var magnitude: Double { hypot(re, im) }
  var magnitudeSquared: Double { re * re + im * im }
  var conjugate: Complex { Complex(re, -im) }
  static func + (a: Complex, b: Complex) -> Complex { Complex(a.re + b.re, a.im + b.im) }
  static func - (a: Complex, b: Complex) -> Complex { Complex(a.re - b.re, a.im - b.im) }
  static func * (a: Complex, b: Complex) -> Complex { Complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re) }
  static func * (a: Double, b: Complex) -> Complex { Complex(a * b.re, a * b.im) }
  static func / (a: Complex, b: Complex) -> Complex {
    // Smith's algorithm.
    if abs(b.re) >= abs(b.im) {
      let r = b.im / b.re, d = b.re + b.im * r
      return Complex((a.re + a.im * r) / d, (a.im - a.re * r) / d)
    } else {
      let r = b.re / b.im, d = b.re * r + b.im
      return Complex((a.re * r + a.im) / d, (a.im * r - a.re) / d)
    }
  }
  static func / (a: Complex, b: Double) -> Complex { Complex(a.re / b, a.im / b) }
  static prefix func - (a: Complex) -> Complex { Complex(-a.re, -a.im) }
  /// Principal square root.
  var squareRoot: Complex {
    let m = magnitude
    if m == 0 { return .zero }
    let r = ((m + abs(re)) / 2).squareRoot()
    if re >= 0 { return Complex(r, im / (2 * r)) }
    return Complex(abs(im) / (2 * r), im >= 0 ? r : -r)
  }
}

// MARK: - Eigenvalues of a small Hessenberg matrix

/// Eigenvalues of an upper-Hessenberg matrix `a` (n x n, row-major) by the shifted QR algorithm in
/// complex arithmetic: Givens rotations, Wilkinson shifts, deflation of negligible sub-diagonal
/// entries.
func hessenbergEigenvalues(_ a: [Complex], n: Int) -> [Complex] {
  var h = a
  var eigenvalues: [Complex] = []
  eigenvalues.reserveCapacity(n)
  let eps = Double.ulpOfOne
  var hi = n - 1
  var iterations = 0
  var rotC = [Double](repeating: 0, count: max(n, 1))
  var rotS = [Complex](repeating: .zero, count: max(n, 1))
  @inline(__always) func at(_ r: Int, _ c: Int) -> Int { r * n + c }

  while hi >= 0 {
    if hi == 0 {
      eigenvalues.append(h[0])
      break
    }
    // Find the start of the active unreduced block.
    var lo = 0
    var k = hi
    while k > 0 {
      let scale = h[at(k - 1, k - 1)].magnitude + h[at(k, k)].magnitude
      if h[at(k, k - 1)].magnitude <= eps * (scale == 0 ? 1 : scale) {
        h[at(k, k - 1)] = .zero
        lo = k
        break
      }
      k -= 1
    }
    if lo == hi {
      eigenvalues.append(h[at(hi, hi)])
      hi -= 1
      iterations = 0
      continue
    }
    iterations += 1
    if iterations > 60 * n {
      // Not converging (should not happen); report the diagonal of the remaining block.
      for i in stride(from: hi, through: 0, by: -1) { eigenvalues.append(h[at(i, i)]) }
      break
    }

    // Wilkinson shift: eigenvalue of the trailing 2x2 block nearer to its last diagonal entry.
    let p = h[at(hi - 1, hi - 1)], q = h[at(hi - 1, hi)], r = h[at(hi, hi - 1)], s = h[at(hi, hi)]
    var mu: Complex
    if iterations % 11 == 10 {
      mu = s + Complex(0.75 * r.magnitude, 0.25 * r.magnitude)  // exceptional shift
    } else {
      let half = 0.5 * (p - s)
      let disc = (half * half + q * r).squareRoot
      let mu1 = s + half + disc, mu2 = s + half - disc
      mu = (mu1 - s).magnitude < (mu2 - s).magnitude ? mu1 : mu2
    }

    for i in lo...hi { h[at(i, i)] = h[at(i, i)] - mu }
    // H - mu I = Q R: rotations from the left.
    for k in lo..<hi {
      let x = h[at(k, k)], y = h[at(k + 1, k)]
      let xm = x.magnitude, norm = hypot(xm, y.magnitude)
      var c = 1.0, sn = Complex.zero
      if norm != 0 {
        if xm == 0 {
          c = 0
          sn = y.conjugate / y.magnitude
        } else {
          c = xm / norm
          sn = (x / xm) * y.conjugate / norm
        }
      }
      rotC[k] = c
      rotS[k] = sn
      for j in k...hi {
        let u = h[at(k, j)], v = h[at(k + 1, j)]
        h[at(k, j)] = c * u + sn * v
        h[at(k + 1, j)] = c * v - sn.conjugate * u
      }
    }
    // R Q + mu I: the adjoint rotations from the right.
    for k in lo..<hi {
      let c = rotC[k], sn = rotS[k]
      for i in lo...min(k + 1, hi) {
        let u = h[at(i, k)], v = h[at(i, k + 1)]
        h[at(i, k)] = c * u + sn.conjugate * v
        h[at(i, k + 1)] = c * v - sn * u
      }
    }
    for i in lo...hi { h[at(i, i)] = h[at(i, i)] + mu }
  }
  return eigenvalues
}

/// An eigenvector of the n x n matrix `a` for the (accurate) eigenvalue `lambda`, by two steps of
/// inverse iteration with Gaussian elimination (partial pivoting; tiny pivots are lifted).
func hessenbergEigenvector(_ a: [Complex], n: Int, eigenvalue lambda: Complex) -> [Complex] {
  var m = a
  var norm = 0.0
  for v in a { norm = max(norm, v.magnitude) }
  let floor = max(norm, 1e-300) * 1e-14
  for i in 0..<n { m[i * n + i] = m[i * n + i] - lambda }
  // LU with partial pivoting.
  var perm = Array(0..<n)
  for col in 0..<n {
    var pivot = col
    for r in (col + 1)..<max(col + 1, n) where m[r * n + col].magnitude > m[pivot * n + col].magnitude { pivot = r }
    if pivot != col {
      for c in 0..<n { m.swapAt(col * n + c, pivot * n + c) }
      perm.swapAt(col, pivot)
    }
    if m[col * n + col].magnitude < floor { m[col * n + col] = Complex(floor, 0) }
    let d = m[col * n + col]
    for r in (col + 1)..<max(col + 1, n) {
      let f = m[r * n + col] / d
      if f == .zero { continue }
      m[r * n + col] = f
      for c in (col + 1)..<n { m[r * n + c] = m[r * n + c] - f * m[col * n + c] }
    }
  }
  var x = [Complex](repeating: Complex(1, 0), count: n)
  for _ in 0..<2 {
    var b = perm.map { x[$0] }
    for r in 0..<n {
      for c in 0..<r { b[r] = b[r] - m[r * n + c] * b[c] }
    }
    for r in stride(from: n - 1, through: 0, by: -1) {
      for c in (r + 1)..<max(r + 1, n) { b[r] = b[r] - m[r * n + c] * b[c] }
      b[r] = b[r] / m[r * n + r]
    }
    let s = b.reduce(0) { max($0, $1.magnitude) }
    x = b.map { $0 / (s == 0 ? 1 : s) }
  }
  return x
}
