import CRecurKernels

/// The parameters of one layer and direction of a recurrent stack, with the packed forms of the
/// recurrent weight that the per-step GEMMs use (rebuilt only when the weight changes, i.e. once
/// per optimiser step, or when the instruction set or matmul precision changes).
final class RecurrentWeights {
  /// W_ih [G·H, I]
  let weightIH: Parameter
  /// W_hh [G·H, H_out]
  let weightHH: Parameter
  /// b_ih [G·H], b_hh [G·H] (nil when bias = false)
  let biasIH: Parameter?
  let biasHH: Parameter?
  /// W_hr [proj, H] (LSTM with projSize > 0)
  let weightHR: Parameter?
  /// Names of the parameters in state-dict order (`weight_ih_l0`, … or `weight_ih` for cells).
  let names: [String]

  private var packedHHT: (version: Int, format: Int32, storage: TensorStorage)?
  private var packedHH: (version: Int, format: Int32, storage: TensorStorage)?
  private var packedSlices: (version: Int, format: Int32, bounds: [Int32], storages: [TensorStorage])?

  init(weightIH: Parameter, weightHH: Parameter, biasIH: Parameter?, biasHH: Parameter?, weightHR: Parameter?, suffix: String) {
    self.weightIH = weightIH
    self.weightHH = weightHH
    self.biasIH = biasIH
    self.biasHH = biasHH
    self.weightHR = weightHR
    var names = ["weight_ih\(suffix)", "weight_hh\(suffix)"]
    if biasIH != nil { names += ["bias_ih\(suffix)", "bias_hh\(suffix)"] }
    if weightHR != nil { names.append("weight_hr\(suffix)") }
    self.names = names
  }

  /// Creates PyTorch-initialised weights: every tensor U(−1/√H, 1/√H).
  convenience init(kind: RecurrentCellKind, inputSize: Int, hiddenSize: Int, projSize: Int, bias: Bool,
                   suffix: String, generator: inout RandomGenerator) {
    let g = kind.gateCount * hiddenSize
    let hOut = projSize > 0 ? projSize : hiddenSize
    let k = 1 / Float(hiddenSize).squareRoot()
    func u(_ shape: [Int]) -> Parameter { Parameter(Tensor.uniform(shape, low: -k, high: k, generator: &generator)) }
    // PyTorch registers w_ih, w_hh, b_ih, b_hh, w_hr and initialises them in that order.
    let wih = u([g, inputSize]), whh = u([g, hOut])
    let bih = bias ? u([g]) : nil, bhh = bias ? u([g]) : nil
    let whr = projSize > 0 ? u([projSize, hiddenSize]) : nil
    self.init(weightIH: wih, weightHH: whh, biasIH: bih, biasHH: bhh, weightHR: whr, suffix: suffix)
  }

  var parameters: [Parameter] { [weightIH, weightHH] + [biasIH, biasHH, weightHR].compactMap { $0 } }
  var namedParameters: [(name: String, parameter: Parameter)] { Array(zip(names, parameters)) }

  /// W_hhᵀ packed as the B operand of h·W_hhᵀ (forward).
  func packedTransposedHH() -> UnsafePointer<Float> { packedHH(transposed: true, cache: &packedHHT) }

  /// W_hh packed as the B operand of dGates·W_hh (backward).
  func packedHHForBackward() -> UnsafePointer<Float> { packedHH(transposed: false, cache: &packedHH) }

  /// An LSTM's W_hh cut by hidden units for recur_lstm_forward_sequence: for each part p and gate
  /// q, rows q·H + bounds[p] ..< q·H + bounds[p+1] packed transposed (the B operand of h·W_hhᵀ for
  /// those units' gate columns), at index 4p + q. Rebuilt only when the weight, the packing format
  /// or the bounds change.
  func packedHiddenSlices(bounds: [Int32]) -> [UnsafePointer<Float>?] {
    let format = recur_packed_b_format()
    if let p = packedSlices, p.version == weightHH.version, p.format == format, p.bounds == bounds {
      return p.storages.map { UnsafePointer($0.pointer) }
    }
    let (hOut, H) = (weightHH.shape[1], weightHH.shape[0] / 4)
    var storages: [TensorStorage] = []
    for p in 0..<bounds.count - 1 {
      let u0 = Int(bounds[p]), n = Int(bounds[p + 1]) - u0
      for q in 0..<4 {
        let s = TensorStorage(uninitializedCount: recur_packed_b_size(Int32(hOut), Int32(n)))
        recur_pack_b(1, Int32(hOut), Int32(n), weightHH.storage.pointer + (q * H + u0) * hOut, Int32(hOut), s.pointer)
        storages.append(s)
      }
    }
    packedSlices = (weightHH.version, format, bounds, storages)
    return storages.map { UnsafePointer($0.pointer) }
  }

  /// W_hh (or W_hhᵀ) packed for the GEMM kernels, rebuilt only when the weight or the packing
  /// format changed since `cache` was filled.
  private func packedHH(transposed: Bool, cache: inout (version: Int, format: Int32, storage: TensorStorage)?) -> UnsafePointer<Float> {
    let format = recur_packed_b_format()
    if let p = cache, p.version == weightHH.version, p.format == format { return UnsafePointer(p.storage.pointer) }
    let (g, h) = (weightHH.shape[0], weightHH.shape[1])
    let (k, n) = transposed ? (h, g) : (g, h)
    let s = TensorStorage(uninitializedCount: recur_packed_b_size(Int32(k), Int32(n)))
    recur_pack_b(transposed ? 1 : 0, Int32(k), Int32(n), weightHH.storage.pointer, Int32(h), s.pointer)
    cache = (weightHH.version, format, s)
    return UnsafePointer(s.pointer)
  }
}
