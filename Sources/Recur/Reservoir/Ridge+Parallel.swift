extension Ridge.NormalEquations {
  /// The normal equations of the rows of every process of `group`, from each process's equations
  /// of its own rows: one sum all-reduce, the same result on every process (so each solves the
  /// same system to the same read-out).
  ///
  /// Centred statistics are combined exactly (Chan, Golub & LeVeque's parallel formula): with n_r
  /// rows, means m_r, ȳ_r and centred Gram G_r and cross products C_r on process r, and the global
  /// means m, ȳ,
  ///
  ///     G = Σ G_r + Σ n_r (m_r − m)(m_r − m)ᵀ,    C = Σ C_r + Σ n_r (m_r − m)(ȳ_r − ȳ)ᵀ
  ///
  /// so no uncentred XᵀX (and its cancellation) is ever formed.
  public func combined(across group: ProcessGroup) throws -> Ridge.NormalEquations {
    guard group.size > 1 else { return self }
    var buffer = packed(part: group.rank, of: group.size)
    try group.allReduceSum(&buffer)
    return Self(summed: buffer, parts: group.size, featureCount: featureCount, targetCount: targetCount, centered: centered)
  }

  /// This system as part `part` of `parts` of a sum: G, C, then one slot (n, m, ȳ) per part, the
  /// other parts' slots zero.
  func packed(part: Int, of parts: Int) -> [Double] {
    let n = featureCount, k = targetCount, slot = 1 + n + k
    var buffer = [Double](repeating: 0, count: n * n + n * k + parts * slot)
    for i in 0..<(n * n) { buffer[i] = gram[i] }
    for i in 0..<(n * k) { buffer[n * n + i] = cross[i] }
    let mine = n * n + n * k + part * slot
    buffer[mine] = Double(sampleCount)
    for i in 0..<n { buffer[mine + 1 + i] = featureMean[i] }
    for j in 0..<k { buffer[mine + 1 + n + j] = targetMean[j] }
    return buffer
  }

  /// The system of all rows from the sum of `parts` packed parts.
  init(summed buffer: [Double], parts: Int, featureCount n: Int, targetCount k: Int, centered: Bool) {
    let slot = 1 + n + k
    let slots = (0..<parts).map { n * n + n * k + $0 * slot }
    let total = slots.reduce(0.0) { $0 + buffer[$1] }
    var mean = [Double](repeating: 0, count: n), yMean = [Double](repeating: 0, count: k)
    var g = Array(buffer[0..<(n * n)]), c = Array(buffer[(n * n)..<(n * n + n * k)])
    if centered {
      for s in slots {
        for i in 0..<n { mean[i] += buffer[s] * buffer[s + 1 + i] / total }
        for j in 0..<k { yMean[j] += buffer[s] * buffer[s + 1 + n + j] / total }
      }
      for s in slots {
        let rows = buffer[s]
        let dm = (0..<n).map { buffer[s + 1 + $0] - mean[$0] }, dy = (0..<k).map { buffer[s + 1 + n + $0] - yMean[$0] }
        for i in 0..<n {
          for j in 0..<n { g[i * n + j] += rows * dm[i] * dm[j] }
          for j in 0..<k { c[i * k + j] += rows * dm[i] * dy[j] }
        }
      }
    }
    self.init(featureCount: n, targetCount: k, sampleCount: Int(total), centered: centered, gram: g, cross: c,
              featureMean: mean, targetMean: yMean)
  }
}
