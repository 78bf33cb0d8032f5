/// An echo-state network: a fixed random ``Reservoir`` and a linear ``Ridge`` read-out trained in
/// closed form on the reservoir's states (ReservoirPy's `reservoir >> readout`).
///
///     x[t] = (1 - lr) x[t-1] + lr tanh(W x[t-1] + W_in u[t] + b)
///     y[t] = W_out [x[t]; u[t]] + b_out          (u[t] only with `inputToReadout`)
///
/// Training is teacher-forced: the reservoir reads the true inputs, the first `warmup` states are
/// discarded (ReservoirPy's `fit(..., warmup=)`), and the read-out is fitted to the targets of the
/// remaining steps. ``predict(inputs:from:)`` is teacher-forced too (true inputs, one output per
/// step); ``generate(steps:from:lastInput:)`` runs closed-loop, feeding each output back as the next
/// input (outputs must then have as many columns as inputs).
///
/// The reservoir state is passed explicitly: ``fit(inputs:targets:warmup:from:)`` returns the state
/// after the last training step, which ``predict(inputs:from:)`` continues from, as ReservoirPy's
/// `esn.fit(x_train, y_train); esn.run(x_test)` does.
///
/// Shapes: inputs `[T, F]`, targets and outputs `[T, K]`, states `[units]`.
public struct EchoStateNetwork: Sendable {
  /// The fixed random reservoir.
  public var reservoir: Reservoir
  /// The trained linear read-out.
  public var readout: Ridge
  /// Whether the read-out also sees the input u[t] next to the state x[t].
  public var inputToReadout: Bool

  /// An echo-state network from a reservoir and an (unfitted or fitted) read-out.
  public init(reservoir: Reservoir, readout: Ridge, inputToReadout: Bool = false) {
    self.reservoir = reservoir
    self.readout = readout
    self.inputToReadout = inputToReadout
  }

  /// Number of read-out features per step.
  var featureCount: Int { reservoir.units + (inputToReadout ? (reservoir.inputSize ?? 0) : 0) }

  /// Runs the reservoir over `inputs` and fits the read-out to `targets` (row t of `targets` is the
  /// wanted output after reading row t of `inputs`), skipping the first `warmup` steps.
  /// - Returns: the reservoir state after the last input (continue prediction from it).
  /// - Throws: ``ReservoirError`` for mismatched shapes, non-finite values, a warm-up that leaves no
  ///   training rows, or a singular system.
  @discardableResult
  public mutating func fit(inputs: DoubleMatrix, targets: DoubleMatrix, warmup: Int = 0,
                           from state: [Double]? = nil) throws -> [Double] {
    guard inputs.rows == targets.rows else {
      throw ReservoirError.invalidData("inputs have \(inputs.rows) steps but targets \(targets.rows); pass one target row per input row")
    }
    guard warmup >= 0, warmup < inputs.rows else {
      throw ReservoirError.invalidData("warm-up of \(warmup) steps leaves no training steps out of \(inputs.rows); use a warm-up below \(inputs.rows)")
    }
    guard targets.isFinite else {
      throw ReservoirError.invalidData("targets contain NaN or infinite values; clean or fill them first")
    }
    try reservoir.initialize(inputSize: inputs.columns)
    if readout.fitBias && state == nil && inputs.rows - warmup >= 2 {
      // Centred Gram matrix accumulated while the reservoir runs.
      let run = try reservoir.runWithGram(inputs, appendInputs: inputToReadout, gramRows: warmup..<inputs.rows)
      let system = try Ridge.NormalEquations(features: run.features, targets: targets, rowOffset: warmup,
                                             rows: inputs.rows - warmup, centeredGram: run.gram, featureMean: run.mean)
      try readout.fit(system)
      return run.finalState
    }
    let (states, final) = try reservoir.run(inputs, from: state)
    let features = readoutFeatures(states: states, inputs: inputs)
    let system = try Ridge.NormalEquations(features: features, targets: targets, rowOffset: warmup,
                                           rows: inputs.rows - warmup, centered: readout.fitBias)
    try readout.fit(system)
    return final
  }

  /// Teacher-forced outputs for `inputs`, starting from `state` (zeros if nil).
  public func predict(inputs: DoubleMatrix, from state: [Double]? = nil) throws -> (outputs: DoubleMatrix, finalState: [Double]) {
    try checkReady()
    let start = state ?? reservoir.zeroState
    guard start.count == reservoir.units else {
      throw ReservoirError.invalidData("the start state has \(start.count) values, the reservoir has \(reservoir.units) units")
    }
    // The read-out is applied step by step; the states are not kept.
    return try reservoir.runReadout(inputs, from: start, weights: readout.weights!, bias: readout.bias,
                                    withInput: inputToReadout)
  }

  /// Closed-loop generation of `steps` outputs: starting from `state` (the state after reading
  /// `lastInput`), each output is fed back as the next input.
  /// - Parameters:
  ///   - steps: number of outputs to generate.
  ///   - state: the reservoir state to start from, e.g. the final state of `fit` or `predict`.
  ///   - lastInput: the input that produced `state`; needed only with `inputToReadout`.
  /// - Returns: outputs `[steps, K]` and the state after reading the last output.
  public func generate(steps: Int, from state: [Double], lastInput: [Double]? = nil) throws -> (outputs: DoubleMatrix, finalState: [Double]) {
    try checkReady()
    let inputSize = reservoir.inputSize!
    guard let w = readout.weights, w.columns == inputSize else {
      throw ReservoirError.invalidArgument(
        "closed-loop generation feeds outputs back as inputs, but the read-out has \(readout.weights?.columns ?? 0) outputs for \(inputSize) inputs; fit targets with \(inputSize) columns")
    }
    guard steps >= 0 else { throw ReservoirError.invalidParameter(InvalidParameter("steps", steps, expected: ">= 0")) }
    guard state.count == reservoir.units else {
      throw ReservoirError.invalidData("the start state has \(state.count) values, the reservoir has \(reservoir.units) units")
    }
    var u = lastInput ?? [Double](repeating: 0, count: inputSize)
    guard u.count == inputSize else {
      throw ReservoirError.invalidData("lastInput has \(u.count) values, the reservoir takes \(inputSize)")
    }
    var x = state
    var outputs = DoubleMatrix(rows: 0, columns: inputSize)
    var work = [Double](repeating: 0, count: reservoir.units)
    for _ in 0..<steps {
      let y = readout.predictOne(inputToReadout ? x + u : x)
      outputs.append(row: y)
      x = reservoir.step(y, from: x, work: &work)
      u = y
    }
    return (outputs, x)
  }

  private func checkReady() throws {
    guard readout.isFitted, reservoir.inputSize != nil else {
      throw ReservoirError.invalidArgument("the echo-state network is not fitted; call fit first")
    }
  }

  /// [states | inputs] when the read-out sees the input, else the states.
  func readoutFeatures(states: DoubleMatrix, inputs: DoubleMatrix) -> DoubleMatrix {
    guard inputToReadout else { return states }
    let n = states.columns, f = inputs.columns
    var storage = [Double]()
    storage.reserveCapacity(states.rows * (n + f))
    for t in 0..<states.rows {
      storage.append(contentsOf: states.storage[(t * n)..<((t + 1) * n)])
      storage.append(contentsOf: inputs.storage[(t * f)..<((t + 1) * f)])
    }
    return DoubleMatrix(rows: states.rows, columns: n + f, storage: storage)
  }
}
