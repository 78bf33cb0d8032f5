import CRecurKernels
import Foundation

// MARK: - Spectral radius of a sparse matrix

/// The spectral radius (largest eigenvalue modulus) of a square sparse matrix, by a thick-restart
/// Krylov method (Rayleigh-Ritz on a Krylov subspace that keeps the wanted Ritz vectors across
/// restarts, the idea of Krylov-Schur). It plays the part of
/// `scipy.sparse.linalg.eigs(W, k=1, which="LM")` (ARPACK) in ReservoirPy.
///
/// Why not plain power iteration: the dominant eigenvalues of a random non-symmetric matrix are
/// usually a complex-conjugate pair, which power iteration cannot resolve, and they are crowded at
/// the edge of the spectrum, so it converges slowly. Why not restarting Arnoldi from the top Ritz
/// vector alone: early on, the top Ritz value can belong to a smaller eigenvalue (or be spurious:
/// Ritz values of a non-normal matrix may lie anywhere in its field of values), and a restart from
/// one vector then loses the dominant direction for good. Keeping the six leading Ritz vectors in
/// the basis avoids both.
///
/// Each cycle extends an orthonormal basis V (re-orthogonalised when needed) to 40 vectors with
/// Krylov directions, forms G = Vᵀ W V, and takes its eigenvalues; it stops when the Ritz pair of
/// largest modulus has a relative residual ‖W x - θ x‖ / (|θ| ‖x‖) below `tolerance`.
func spectralRadius(of matrix: SparseMatrix, tolerance: Double = 1e-9, maxCycles: Int = 100) -> Double {
  precondition(matrix.rows == matrix.columns, "spectral radius needs a square matrix, got [\(matrix.rows), \(matrix.columns)]")
  let n = matrix.rows
  if n == 0 || matrix.nonzeroCount == 0 { return 0 }
  let m = min(n, 40)
  let want = min(6, m)
  var generator = RandomGenerator(seed: 0x5EED_A4D1)
  func randomVector() -> [Double] { (0..<n).map { _ in generator.nextUniformDouble() - 0.5 } }

  var basis: [[Double]] = []   // V, orthonormal columns
  var images: [[Double]] = []  // W V
  var g = [Double](repeating: 0, count: m * m)  // g[i * m + j] = v_i · W v_j
  var next = randomVector()
  var best = 0.0

  for _ in 0..<maxCycles {
    // Extend the basis with Krylov directions.
    var replacements = 0
    while basis.count < m {
      var v = next
      let before = vectorNorm(v)
      var norm = before
      for _ in 0..<2 {
        for q in basis { axpy(-dot(q, v), q, &v) }
        let after = vectorNorm(v)
        let reduced = after < 0.7071 * norm
        norm = after
        if !reduced { break }
      }
      if !(norm > 1e-10 * max(before, 1e-300)) {
        // v lies in the span of the basis (an invariant subspace): continue from a random direction.
        replacements += 1
        if replacements > 2 * m { break }
        next = randomVector()
        continue
      }
      for i in v.indices { v[i] /= norm }
      var av = [Double](repeating: 0, count: n)
      matrix.multiply(v, into: &av)
      let j = basis.count
      basis.append(v)
      images.append(av)
      for i in 0...j {
        g[i * m + j] = dot(basis[i], av)
        if i < j { g[j * m + i] = dot(v, images[i]) }
      }
      next = av
    }
    let k = basis.count
    guard k > 0 else { return best }

    // Ritz values, largest modulus first, and the Ritz pair of the top one.
    var gk = [Complex](repeating: .zero, count: k * k)
    for r in 0..<k {
      for c in 0..<k { gk[r * k + c] = Complex(g[r * m + c], 0) }
    }
    let ritz = hessenbergEigenvalues(hessenbergForm(gk, n: k), n: k).sorted { $0.magnitude > $1.magnitude }
    guard let top = ritz.first else { return best }
    best = top.magnitude
    if k == n || top.magnitude == 0 { return best }  // the whole space: exact
    let y = eigenvector(gk, n: k, eigenvalue: top)
    var xr = [Double](repeating: 0, count: n), xi = xr, rr = xr, ri = xr
    for i in 0..<k {
      axpy(y[i].re, basis[i], &xr)
      axpy(y[i].im, basis[i], &xi)
      axpy(y[i].re, images[i], &rr)
      axpy(y[i].im, images[i], &ri)
    }
    // r = W x - θ x
    for t in 0..<n {
      let pr = top.re * xr[t] - top.im * xi[t], pi = top.re * xi[t] + top.im * xr[t]
      rr[t] -= pr
      ri[t] -= pi
    }
    let xNorm = (dot(xr, xr) + dot(xi, xi)).squareRoot()
    let residual = (dot(rr, rr) + dot(ri, ri)).squareRoot() / (top.magnitude * xNorm)
    if residual <= tolerance { return best }

    // Thick restart: keep an orthonormal real basis of the leading Ritz vectors (real and imaginary
    // parts), in coefficients C of the current basis; V <- V C, W V <- (W V) C, G <- Cᵀ G C.
    var coefficients: [[Double]] = []
    for lambda in ritz.prefix(want) {
      let z = lambda == top ? y : eigenvector(gk, n: k, eigenvalue: lambda)
      for part in [z.map(\.re), z.map(\.im)] {
        var c = part
        let before = vectorNorm(c)
        guard before > 0 else { continue }
        for _ in 0..<2 { for q in coefficients { axpy(-dot(q, c), q, &c) } }
        let norm = vectorNorm(c)
        if norm > 1e-8 * before { coefficients.append(c.map { $0 / norm }) }
      }
    }
    var newBasis: [[Double]] = [], newImages: [[Double]] = []
    for c in coefficients {
      var v = [Double](repeating: 0, count: n), av = v
      for i in 0..<k where c[i] != 0 {
        axpy(c[i], basis[i], &v)
        axpy(c[i], images[i], &av)
      }
      newBasis.append(v)
      newImages.append(av)
    }
    var newG = [Double](repeating: 0, count: m * m)
    for a in coefficients.indices {
      for b in coefficients.indices {
        var s = 0.0
        for i in 0..<k {
          let ci = coefficients[a][i]
          if ci == 0 { continue }
          for j in 0..<k { s += ci * g[i * m + j] * coefficients[b][j] }
        }
        newG[a * m + b] = s
      }
    }
    basis = newBasis
    images = newImages
    g = newG
    // Continue the Krylov sequence from the residual of the top pair.
    next = zip(rr, ri).map { $0 + $1 }
  }
  return best
}

/// An upper-Hessenberg matrix similar to the square matrix `a` (n x n, row-major), by Householder
/// reflections (the eigenvalues are the same).
func hessenbergForm(_ a: [Complex], n: Int) -> [Complex] {
  var h = a
  guard n > 2 else { return h }
  for c in 0..<(n - 2) {
    // Reflector zeroing h[c+2..<n][c].
    var x = (c + 1..<n).map { h[$0 * n + c] }
    let alphaNorm = x.reduce(0) { $0 + $1.magnitudeSquared }.squareRoot()
    if alphaNorm == 0 { continue }
    let x0 = x[0]
    let phase = x0.magnitude == 0 ? Complex(1, 0) : x0 / x0.magnitude
    let alpha = -(alphaNorm * phase)
    x[0] = x[0] - alpha
    let vNorm = x.reduce(0) { $0 + $1.magnitudeSquared }.squareRoot()
    if vNorm == 0 { continue }
    let v = x.map { $0 / vNorm }
    // H <- (I - 2 v vᴴ) H on rows c+1..<n.
    for col in 0..<n {
      var s = Complex.zero
      for (t, r) in (c + 1..<n).enumerated() { s = s + v[t].conjugate * h[r * n + col] }
      for (t, r) in (c + 1..<n).enumerated() { h[r * n + col] = h[r * n + col] - 2 * (v[t] * s) }
    }
    // H <- H (I - 2 v vᴴ) on columns c+1..<n.
    for row in 0..<n {
      var s = Complex.zero
      for (t, col) in (c + 1..<n).enumerated() { s = s + h[row * n + col] * v[t] }
      for (t, col) in (c + 1..<n).enumerated() { h[row * n + col] = h[row * n + col] - 2 * (s * v[t].conjugate) }
    }
    for r in (c + 2)..<n { h[r * n + c] = .zero }
  }
  return h
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
  /// |z| (no overflow guard: the values here are eigenvalues of moderately scaled matrices; libm's
  /// hypot was a measurable share of the time).
  var magnitude: Double { (re * re + im * im).squareRoot() }
  /// |re| + |im|: a cheap norm for comparisons and deflation tests (LAPACK's CABS1).
  var cabs1: Double { abs(re) + abs(im) }
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
      let scale = h[at(k - 1, k - 1)].cabs1 + h[at(k, k)].cabs1
      if h[at(k, k - 1)].cabs1 <= eps * (scale == 0 ? 1 : scale) {
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
      let xm = x.magnitude, norm = (x.magnitudeSquared + y.magnitudeSquared).squareRoot()
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

/// An eigenvector of the n x n matrix `a` (any square matrix) for the (accurate) eigenvalue `lambda`, by two steps of
/// inverse iteration with Gaussian elimination (partial pivoting; tiny pivots are lifted).
func eigenvector(_ a: [Complex], n: Int, eigenvalue lambda: Complex) -> [Complex] {
  var m = a
  var norm = 0.0
  for v in a { norm = max(norm, v.magnitude) }
  let floor = max(norm, 1e-300) * 1e-14
  for i in 0..<n { m[i * n + i] = m[i * n + i] - lambda }
  // LU with partial pivoting.
  var perm = Array(0..<n)
  for col in 0..<n {
    var pivot = col
    for r in (col + 1)..<max(col + 1, n) where m[r * n + col].cabs1 > m[pivot * n + col].cabs1 { pivot = r }
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
