import Foundation

// MARK: - Initialisation helpers users of RNNs reach for

extension RecurrentLayer {
  /// Re-initialises every recurrent weight W_hh with an orthogonal matrix per gate block
  /// (Saxe et al. 2014), scaled by `gain`: keeps ‖W_hh h‖ ≈ ‖h‖, so gradients neither vanish nor
  /// explode through the recurrence at initialisation. Like `torch.nn.init.orthogonal_` applied to
  /// each [H, H_out] block.
  public func initializeRecurrentWeightsOrthogonally(gain: Float = 1, seed: UInt64 = 0) {
    var generator = RandomGenerator(seed: seed)
    for w in stack.weights {
      let blocks = kind.gateCount
      let rows = hiddenSize, cols = w.weightHH.shape[1]
      var values: [Float] = []
      for _ in 0..<blocks { values += orthogonalMatrix(rows: rows, cols: cols, gain: gain, generator: &generator) }
      w.weightHH.assign(Tensor(shape: w.weightHH.shape, scalars: values))
    }
  }

  /// Sets the forget-gate part of the LSTM biases so that b_if + b_hf = `value` (b_ih gets `value`,
  /// b_hh gets 0), as Jozefowicz et al. 2015 recommend (1.0): the cell starts by remembering.
  public func initializeForgetGateBias(_ value: Float = 1) {
    precondition(kind == .lstm, "forget-gate bias applies to LSTM only")
    for w in stack.weights {
      guard let bih = w.biasIH, let bhh = w.biasHH else { continue }
      let h = hiddenSize
      bih.update { for j in h..<(2 * h) { $0[j] = value } }
      bhh.update { for j in h..<(2 * h) { $0[j] = 0 } }
    }
  }
}

/// A `rows × cols` matrix with orthonormal rows or columns (whichever are fewer), times `gain`:
/// QR (modified Gram–Schmidt) of a Gaussian matrix with the sign correction of `orthogonal_`.
public func orthogonalMatrix(rows: Int, cols: Int, gain: Float = 1, generator: inout RandomGenerator) -> [Float] {
  let transpose = rows < cols
  let (n, m) = transpose ? (cols, rows) : (rows, cols)  // n ≥ m: orthonormalise m columns of length n
  var a = [[Double]](repeating: [Double](repeating: 0, count: n), count: m)
  for j in 0..<m { for i in 0..<n { a[j][i] = Double(generator.nextNormal()) } }
  for j in 0..<m {
    for k in 0..<j {
      var dot = 0.0
      for i in 0..<n { dot += a[j][i] * a[k][i] }
      for i in 0..<n { a[j][i] -= dot * a[k][i] }
    }
    var norm = 0.0
    for i in 0..<n { norm += a[j][i] * a[j][i] }
    norm = norm.squareRoot()
    for i in 0..<n { a[j][i] /= Swift.max(norm, 1e-12) }
  }
  var out = [Float](repeating: 0, count: rows * cols)
  for i in 0..<n {
    for j in 0..<m {
      let v = Float(a[j][i]) * gain
      if transpose { out[j * cols + i] = v } else { out[i * cols + j] = v }
    }
  }
  return out
}
