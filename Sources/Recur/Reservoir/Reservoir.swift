import CRecurKernels
import Foundation

/// A pool of leaky-integrator tanh units with fixed random sparse recurrent connections: the
/// reservoir of an echo-state network.
///
///     x[t] = (1 - lr) x[t-1] + lr tanh(W x[t-1] + W_in u[t] + b)
///
/// Follows ReservoirPy's `nodes.Reservoir` (0.4.2), with spelled-out names:
///
/// | Recur                   | ReservoirPy          | meaning                                              |
/// |-------------------------|----------------------|------------------------------------------------------|
/// | `units`                 | `units`              | number of reservoir units                            |
/// | `leakRate`              | `lr`                 | leak rate, in (0, 1]                                  |
/// | `spectralRadius`        | `sr`                 | spectral radius W is rescaled to (> 0)               |
/// | `inputScaling`          | `input_scaling`      | W_in entries are ±`inputScaling`                     |
/// | `biasScaling`           | `bias` (initialiser) | b entries are ±`biasScaling` (0: no bias, the 0.4.2 default) |
/// | `inputConnectivity`     | `input_connectivity` | fraction of non-zero W_in entries, in (0, 1]          |
/// | `recurrentConnectivity` | `rc_connectivity`    | fraction of non-zero W entries, in (0, 1]             |
/// | `seed`                  | `seed`               | seed of the weights                                  |
///
/// As in ReservoirPy, W has `round(rc · units²)` non-zero entries at uniformly random positions with
/// standard-normal values, then is scaled so its largest eigenvalue modulus (estimated by Arnoldi
/// iteration on the sparse matrix) equals `spectralRadius`; W_in has `round(ic · units · inputs)`
/// non-zero entries of ±1 (Bernoulli, p = 0.5) times `inputScaling`. The random streams differ from
/// NumPy's, so the same seed gives a different (equally distributed) reservoir than ReservoirPy.
///
/// Shapes: inputs `[T, inputSize]`, states `[T, units]`. The state is never stored in the
/// reservoir: ``run(_:from:)`` takes a start state (zeros by default) and returns the final one.
public struct Reservoir: Sendable {
  /// The most units a reservoir may have here: the ridge read-out solves a units × units system
  /// in double precision (plus a copy), which must fit in half the memory budget.
  public static var maximumUnits: Int { Int((Double(MemoryBudget.bytes) / 2 / 16).squareRoot()) }

  /// Number of reservoir units.
  public let units: Int
  /// Leak rate in (0, 1] (ReservoirPy `lr`).
  public let leakRate: Double
  /// Spectral radius W was scaled to (ReservoirPy `sr`).
  public let spectralRadius: Double
  /// Magnitude of the non-zero W_in entries (ReservoirPy `input_scaling`).
  public let inputScaling: Double
  /// Magnitude of the ±1 bias entries; 0 means no bias.
  public let biasScaling: Double
  /// Fraction of non-zero W_in entries (ReservoirPy `input_connectivity`).
  public let inputConnectivity: Double
  /// Fraction of non-zero W entries (ReservoirPy `rc_connectivity`).
  public let recurrentConnectivity: Double
  /// Seed of every random weight.
  public let seed: UInt64

  /// W `[units, units]`, sparse.
  var recurrent: SparseMatrix
  /// W_in `[units, inputSize]`, dense row-major; empty until ``initialize(inputSize:)``.
  var inputWeights: [Double]
  /// b `[units]`.
  var bias: [Double]
  /// The number of input features, once known.
  public private(set) var inputSize: Int?

  /// Creates the reservoir and its recurrent weights. Input weights are drawn when the input size is
  /// known (``initialize(inputSize:)``, called by ``EchoStateNetwork`` on the first fit).
  ///
  /// - Parameters:
  ///   - units: number of units (ReservoirPy `units`), >= 1.
  ///   - leakRate: leak rate `lr`, in (0, 1]; 1 means no leak. Default 1.
  ///   - spectralRadius: spectral radius `sr` of W, > 0. Default 1.
  ///   - inputScaling: `input_scaling`. Default 1.
  ///   - biasScaling: scale of the ±1 bias; 0 (default) means no bias, as in ReservoirPy 0.4.2.
  ///   - inputConnectivity: `input_connectivity`, in (0, 1]. Default 0.1.
  ///   - recurrentConnectivity: `rc_connectivity`, in (0, 1]. Default 0.1.
  ///   - seed: seed of every random weight. Default 0.
  /// - Throws: ``ReservoirError/invalidParameter(_:)`` for out-of-range hyper-parameters,
  ///   ``ReservoirError/invalidArgument(_:)`` for a
  ///   recurrent matrix whose spectral radius is 0 (too sparse to rescale).
  public init(
    units: Int, leakRate: Double = 1.0, spectralRadius: Double = 1.0, inputScaling: Double = 1.0,
    biasScaling: Double = 0.0, inputConnectivity: Double = 0.1, recurrentConnectivity: Double = 0.1,
    seed: UInt64 = 0
  ) throws {
    guard units >= 1, units <= Reservoir.maximumUnits else {
      throw ReservoirError.invalidParameter(InvalidParameter(
        "units", units, expected: "in 1...\(Reservoir.maximumUnits) (the read-out's units × units normal equations in double precision "
          + "must fit in half of \(MemoryBudget.describe(bytes: MemoryBudget.bytes)))"))
    }
    guard leakRate > 0, leakRate <= 1 else {
      throw ReservoirError.invalidParameter(InvalidParameter("leakRate", leakRate, expected: "in (0, 1]"))
    }
    guard spectralRadius > 0, spectralRadius.isFinite else {
      throw ReservoirError.invalidParameter(InvalidParameter("spectralRadius", spectralRadius, expected: "a positive number"))
    }
    guard inputScaling.isFinite else {
      throw ReservoirError.invalidParameter(InvalidParameter("inputScaling", inputScaling, expected: "finite"))
    }
    guard biasScaling.isFinite else {
      throw ReservoirError.invalidParameter(InvalidParameter("biasScaling", biasScaling, expected: "finite"))
    }
    guard inputConnectivity > 0, inputConnectivity <= 1 else {
      throw ReservoirError.invalidParameter(InvalidParameter("inputConnectivity", inputConnectivity, expected: "in (0, 1]"))
    }
    guard recurrentConnectivity > 0, recurrentConnectivity <= 1 else {
      throw ReservoirError.invalidParameter(InvalidParameter("recurrentConnectivity", recurrentConnectivity, expected: "in (0, 1]"))
    }
    // Three independent streams (like ReservoirPy's rng.spawn(3)): W, W_in, bias.
    var w = Reservoir.generator(seed: seed, stream: 0)
    let count = Int((recurrentConnectivity * Double(units) * Double(units)).rounded())
    let positions = Reservoir.samplePositions(count: count, total: units * units, generator: &w)
    let entries = positions.map { p in (row: p / units, column: p % units, value: Reservoir.normal(&w)) }
    var matrix = SparseMatrix(rows: units, columns: units, entries: entries)
    let rho = Recur.spectralRadius(of: matrix)
    guard rho > 1e-12 else {
      throw ReservoirError.invalidArgument(
        "the random recurrent matrix (\(units) units, connectivity \(recurrentConnectivity)) has spectral radius 0 and cannot be rescaled; raise recurrentConnectivity or units")
    }
    matrix.scale(by: spectralRadius / rho)
    var bias = [Double](repeating: 0, count: units)
    if biasScaling != 0 {
      var g = Reservoir.generator(seed: seed, stream: 2)
      bias = (0..<units).map { _ in (g.nextUniformDouble() < 0.5 ? 1.0 : -1.0) * biasScaling }
    }
    self.init(units: units, leakRate: leakRate, spectralRadius: spectralRadius, inputScaling: inputScaling, biasScaling: biasScaling,
              inputConnectivity: inputConnectivity, recurrentConnectivity: recurrentConnectivity, seed: seed,
              recurrent: matrix, inputWeights: [], bias: bias, inputSize: nil)
  }

  /// Restores a reservoir from stored weights (checkpoints).
  init(units: Int, leakRate: Double, spectralRadius: Double, inputScaling: Double, biasScaling: Double,
       inputConnectivity: Double, recurrentConnectivity: Double, seed: UInt64,
       recurrent: SparseMatrix, inputWeights: [Double], bias: [Double], inputSize: Int) throws {
    guard recurrent.rows == units, recurrent.columns == units, bias.count == units,
          inputSize >= 1, inputWeights.count == units * inputSize, leakRate > 0, leakRate <= 1
    else {
      throw ReservoirError.invalidData("stored reservoir weights do not match \(units) units; the checkpoint is damaged")
    }
    self.init(units: units, leakRate: leakRate, spectralRadius: spectralRadius, inputScaling: inputScaling, biasScaling: biasScaling,
              inputConnectivity: inputConnectivity, recurrentConnectivity: recurrentConnectivity, seed: seed,
              recurrent: recurrent, inputWeights: inputWeights, bias: bias, inputSize: Optional(inputSize))
  }

  /// Every field as given (validated by the callers).
  private init(units: Int, leakRate: Double, spectralRadius: Double, inputScaling: Double, biasScaling: Double,
               inputConnectivity: Double, recurrentConnectivity: Double, seed: UInt64,
               recurrent: SparseMatrix, inputWeights: [Double], bias: [Double], inputSize: Int?) {
    self.units = units
    self.leakRate = leakRate
    self.spectralRadius = spectralRadius
    self.inputScaling = inputScaling
    self.biasScaling = biasScaling
    self.inputConnectivity = inputConnectivity
    self.recurrentConnectivity = recurrentConnectivity
    self.seed = seed
    self.recurrent = recurrent
    self.inputWeights = inputWeights
    self.bias = bias
    self.inputSize = inputSize
  }

  /// Draws the input weights for `inputSize` features (once; the same size again is a no-op).
  /// - Throws: ``ReservoirError/invalidData(_:)`` if the reservoir was initialised for another size.
  public mutating func initialize(inputSize: Int) throws {
    if let current = self.inputSize {
      guard current == inputSize else {
        throw ReservoirError.invalidData("the reservoir takes \(current) input features, got \(inputSize); pass inputs with \(current) columns")
      }
      return
    }
    guard inputSize >= 1 else {
      throw ReservoirError.invalidData("inputs need at least one feature column, got \(inputSize)")
    }
    var g = Reservoir.generator(seed: seed, stream: 1)
    let total = units * inputSize
    let count = max(1, Int((inputConnectivity * Double(total)).rounded()))
    var weights = [Double](repeating: 0, count: total)
    for p in Reservoir.samplePositions(count: count, total: total, generator: &g) {
      weights[p] = (g.nextUniformDouble() < 0.5 ? 1.0 : -1.0) * inputScaling
    }
    inputWeights = weights
    self.inputSize = inputSize
  }

  /// Non-zero entries of the recurrent matrix W.
  public var recurrentNonZeros: Int { recurrent.values.count }

  /// The instruction-set path of the double-precision reservoir kernels ("avx512", "avx2" or
  /// "portable"): the kernels' process-wide ISA choice (CPUID at start-up, `RECUR_ISA`).
  public static var kernelISA: String { String(cString: recur_reservoir_isa_name()) }

  /// The zero state, `units` values.
  public var zeroState: [Double] { [Double](repeating: 0, count: units) }

  /// Runs the reservoir over `inputs` `[T, inputSize]` starting from `state` (zeros if nil).
  /// - Returns: the states `[T, units]` (row t is x[t], after reading u[t]) and the final state.
  /// - Throws: ``ReservoirError/invalidData(_:)`` if the inputs have the wrong width or non-finite values.
  public func run(_ inputs: DoubleMatrix, from state: [Double]? = nil) throws -> (states: DoubleMatrix, finalState: [Double]) {
    guard let inputSize else {
      preconditionFailure("Reservoir.run before initialize(inputSize:)")
    }
    guard inputs.columns == inputSize else {
      throw ReservoirError.invalidData("the reservoir takes \(inputSize) input features, got \(inputs.columns); pass inputs with \(inputSize) columns")
    }
    guard inputs.isFinite else {
      throw ReservoirError.invalidData("inputs contain NaN or infinite values; clean or fill them first")
    }
    let start = state ?? zeroState
    guard start.count == units else {
      throw ReservoirError.invalidData("the start state has \(start.count) values, the reservoir has \(units) units")
    }
    if inputs.rows == 0 { return (DoubleMatrix(rows: 0, columns: units), start) }
    var states = DoubleMatrix(uninitializedRows: inputs.rows, columns: units)  // the kernel writes every row
    runKernel(inputs: inputs, start: start, into: &states)
    return (states, states.row(inputs.rows - 1))
  }

  /// Runs the reservoir over `inputs` from the zero state and returns the read-out features
  /// `[T, units]` (or `[T, units + inputSize]` with the inputs appended), the final state, and the
  /// centred Gram matrix and column means of the feature rows in `gramRows`, accumulated while the
  /// reservoir runs (on a second thread when one is free).
  func runWithGram(_ inputs: DoubleMatrix, appendInputs: Bool, gramRows: Range<Int>) throws
    -> (features: DoubleMatrix, finalState: [Double], gram: [Double], mean: [Double]) {
    guard let inputSize, inputs.columns == inputSize else {
      throw ReservoirError.invalidData("the reservoir takes \(self.inputSize ?? 0) input features, got \(inputs.columns)")
    }
    guard inputs.isFinite else {
      throw ReservoirError.invalidData("inputs contain NaN or infinite values; clean or fill them first")
    }
    precondition(!gramRows.isEmpty && gramRows.lowerBound >= 0 && gramRows.upperBound <= inputs.rows, "bad Gram rows \(gramRows)")
    let width = units + (appendInputs ? inputSize : 0)
    // The kernel writes columns 0..<units of every row; the input columns are written here.
    var features = DoubleMatrix(uninitializedRows: inputs.rows, columns: width)
    if appendInputs {
      for t in 0..<inputs.rows {
        for f in 0..<inputSize { features[t, units + f] = inputs[t, f] }
      }
    }
    var gram = [Double](repeating: 0, count: width * width), mean = [Double](repeating: 0, count: width)
    var work = [Double](repeating: 0, count: units)
    withKernelArguments(inputs: inputs.storage, start: zeroState, work: &work) { k in
      features.withUnsafeMutableBufferPointer { s in
        gram.withUnsafeMutableBufferPointer { g in
          mean.withUnsafeMutableBufferPointer { m in
            recur_esn_run_gram_f64(
              Int32(units), Int32(inputSize), Int32(inputs.rows), k.rowStart, k.columnIndex, k.values, k.inputWeights, k.bias,
              leakRate, k.inputs, Int32(inputSize), k.start, s.baseAddress, Int32(width), k.work,
              Int32(gramRows.lowerBound), Int32(gramRows.upperBound), Int32(width), m.baseAddress, g.baseAddress, Int32(width))
          }
        }
      }
    }
    let final = Array(features.storage[((inputs.rows - 1) * width)..<((inputs.rows - 1) * width + units)])
    return (features, final, gram, mean)
  }

  /// Runs the reservoir over `inputs` from `state` and applies a linear read-out at every step
  /// without keeping the states: outputs `[T, K]` = `[x_t; u_t] W + b` (u_t only with `withInput`).
  func runReadout(_ inputs: DoubleMatrix, from state: [Double], weights: DoubleMatrix, bias outputBias: [Double],
                  withInput: Bool) throws -> (outputs: DoubleMatrix, finalState: [Double]) {
    guard let inputSize, inputs.columns == inputSize else {
      throw ReservoirError.invalidData("the reservoir takes \(self.inputSize ?? 0) input features, got \(inputs.columns)")
    }
    guard inputs.isFinite else {
      throw ReservoirError.invalidData("inputs contain NaN or infinite values; clean or fill them first")
    }
    precondition(state.count == units && weights.rows == units + (withInput ? inputSize : 0) && outputBias.count == weights.columns,
                 "read-out shapes do not match the reservoir")
    var outputs = DoubleMatrix(uninitializedRows: inputs.rows, columns: weights.columns)
    var final = [Double](repeating: 0, count: units), work = final
    withKernelArguments(inputs: inputs.storage, start: state, work: &work) { k in
      weights.withUnsafeBufferPointer { wo in
        outputBias.withUnsafeBufferPointer { bo in
          outputs.withUnsafeMutableBufferPointer { o in
            final.withUnsafeMutableBufferPointer { xf in
              recur_esn_run_readout_f64(
                Int32(units), Int32(inputSize), Int32(inputs.rows), k.rowStart, k.columnIndex, k.values, k.inputWeights, k.bias,
                leakRate, k.inputs, Int32(inputSize), k.start, wo.baseAddress, bo.baseAddress, Int32(weights.columns),
                withInput ? 1 : 0, o.baseAddress, xf.baseAddress, k.work)
            }
          }
        }
      }
    }
    return (outputs, final)
  }

  /// Advances one step from `state` with input `u` (`inputSize` values); no validation (hot loop of
  /// closed-loop generation).
  func step(_ u: [Double], from state: [Double], work: inout [Double]) -> [Double] {
    var out = [Double](repeating: 0, count: units)
    withKernelArguments(inputs: u, start: state, work: &work) { k in
      out.withUnsafeMutableBufferPointer { o in
        recur_esn_run_f64(Int32(units), Int32(inputSize!), 1, k.rowStart, k.columnIndex, k.values, k.inputWeights, k.bias,
                          leakRate, k.inputs, Int32(inputSize!), k.start, o.baseAddress, k.work)
      }
    }
    return out
  }

  private func runKernel(inputs: DoubleMatrix, start: [Double], into states: inout DoubleMatrix) {
    var work = [Double](repeating: 0, count: units)
    withKernelArguments(inputs: inputs.storage, start: start, work: &work) { k in
      states.withUnsafeMutableBufferPointer { s in
        recur_esn_run_f64(Int32(units), Int32(inputs.columns), Int32(inputs.rows), k.rowStart, k.columnIndex, k.values,
                          k.inputWeights, k.bias, leakRate, k.inputs, Int32(inputs.columns), k.start, s.baseAddress, k.work)
      }
    }
  }

  /// The reservoir's arrays, the inputs, the start state and a scratch row as the C kernels take them.
  struct KernelArguments {
    let rowStart: UnsafePointer<Int32>?, columnIndex: UnsafePointer<Int32>?, values: UnsafePointer<Double>?
    let inputWeights: UnsafePointer<Double>?, bias: UnsafePointer<Double>?
    let inputs: UnsafePointer<Double>?, start: UnsafePointer<Double>?, work: UnsafeMutablePointer<Double>
  }

  /// Calls `body` with every array a reservoir kernel reads (the bias is nil when `biasScaling` is
  /// 0); `work` is the kernels' scratch row (`units` values), kept by callers that step in a loop.
  private func withKernelArguments<R>(inputs: [Double], start: [Double], work: inout [Double],
                                      _ body: (KernelArguments) -> R) -> R {
    precondition(work.count >= units, "the scratch row needs \(units) values")
    return recurrent.rowStart.withUnsafeBufferPointer { rs in
      recurrent.columnIndex.withUnsafeBufferPointer { ci in
        recurrent.values.withUnsafeBufferPointer { v in
          inputWeights.withUnsafeBufferPointer { win in
            bias.withUnsafeBufferPointer { b in
              inputs.withUnsafeBufferPointer { up in
                start.withUnsafeBufferPointer { x0 in
                  work.withUnsafeMutableBufferPointer { wk in
                    body(KernelArguments(rowStart: rs.baseAddress, columnIndex: ci.baseAddress, values: v.baseAddress,
                                         inputWeights: win.baseAddress, bias: biasScaling != 0 ? b.baseAddress : nil,
                                         inputs: up.baseAddress, start: x0.baseAddress, work: wk.baseAddress!))
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  // MARK: - Random weights

  static func generator(seed: UInt64, stream: UInt64) -> RandomGenerator {
    RandomGenerator(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ stream &* 0xD1B5_4A32_D192_ED03 &+ 0x1234_5678)
  }

  /// `count` distinct positions in 0..<total, ascending.
  static func samplePositions(count: Int, total: Int, generator g: inout RandomGenerator) -> [Int] {
    let count = min(count, total)
    if count == total { return Array(0..<total) }
    var chosen = [Bool](repeating: false, count: total)
    let pickComplement = count > total / 2
    let picks = pickComplement ? total - count : count
    var picked = 0
    while picked < picks {
      let p = Int(g.next() % UInt64(total))
      if !chosen[p] {
        chosen[p] = true
        picked += 1
      }
    }
    return (0..<total).filter { chosen[$0] != pickComplement }
  }

  /// A standard-normal draw (Box-Muller, double precision).
  static func normal(_ g: inout RandomGenerator) -> Double {
    let u1 = max(g.nextUniformDouble(), 1e-300)
    let u2 = g.nextUniformDouble()
    return (-2 * Foundation.log(u1)).squareRoot() * Foundation.cos(2 * Double.pi * u2)
  }
}
