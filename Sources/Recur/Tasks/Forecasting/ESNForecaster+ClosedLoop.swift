import Foundation

// Free-running (closed-loop) forecasts of a fitted ESN forecaster: its own forecasts fed back.
extension ESNForecaster {
  /// Free-running forecasts from each origin t: the reservoir reads the observed rows 0 … t
  /// (teacher-forced, one pass for all origins), then its own forecasts — `horizon` rows per read-out,
  /// each fed back through the reservoir before the next read-out. The first `horizon` rows are
  /// ``forecast(series:origins:)``'s, to the bit. Trajectories run in parallel on
  /// ``Kernels/numThreads`` threads (each is independent: the result does not depend on the count).
  public func closedLoop(series: DoubleMatrix, origins: [Int], steps: Int, range: PlausibleRange) throws -> ClosedLoopForecast {
    guard let network else {
      throw ForecastError.invalidArgument("the ESN forecaster is not fitted; fit it or load a checkpoint first")
    }
    let mode = inputMode ?? .levels
    guard series.columns * (mode == .both ? 2 : 1) == network.reservoir.inputSize else {
      throw ForecastError.invalidArgument("the model forecasts \((network.reservoir.inputSize ?? 0) / (mode == .both ? 2 : 1)) columns, the series has \(series.columns)")
    }
    try ClosedLoopForecast.check(series: series, origins: origins, steps: steps, range: range, lookback: 1)
    guard let last = origins.max() else { return ClosedLoopForecast(origins: [], steps: steps, series: series) }
    let inputs = ESNForecaster.reservoirInputs(series.rows(0..<(last + 1)), mode: mode)
    // The first read-out of each trajectory is the teacher-forced forecast, to the bit.
    let direct = try forecast(series: series, origins: origins)
    return try closedLoop(series: series, origins: origins, states: ESNForecaster.states(of: network.reservoir, inputs: inputs, at: origins),
                          steps: steps, range: range, first: direct)
  }

  /// The teacher-forced reservoir state after reading row t of `inputs`, for each origin t (one pass).
  static func states(of reservoir: Reservoir, inputs: DoubleMatrix, at origins: [Int]) throws -> [[Double]] {
    var originStates = [[Double]](repeating: [], count: origins.count)
    var x = reservoir.zeroState, next = 0
    for i in origins.indices.sorted(by: { origins[$0] < origins[$1] }) {
      let t = origins[i]
      if t >= next {
        x = try reservoir.run(inputs.rows(next..<(t + 1)), from: x).finalState
        next = t + 1
      }
      originStates[i] = x
    }
    return originStates
  }

  /// Closed-loop runs from origins whose teacher-forced states are given (checked arguments).
  /// `first`, when given, holds each origin's first `horizon` rows (the teacher-forced forecast).
  func closedLoop(series: DoubleMatrix, origins: [Int], states originStates: [[Double]], steps: Int,
                  range: PlausibleRange, first: ForecastBatch? = nil) throws -> ClosedLoopForecast {
    let network = network!, mode = inputMode ?? .levels
    var result = ClosedLoopForecast(origins: origins, steps: steps, series: series)
    guard !origins.isEmpty else { return result }
    let inputs = ESNForecaster.reservoirInputs(series.rows(0..<(origins.max()! + 1)), mode: mode)
    let f = series.columns
    let trajectories = UnsafeMutableBufferPointer<ClosedLoopForecast>.allocate(capacity: origins.count)
    defer { trajectories.deallocate() }
    let chunks = max(1, min(Kernels.numThreads, origins.count))
    let box = UncheckedSendable(trajectories)
    DispatchQueue.concurrentPerform(iterations: chunks) { c in
      for i in stride(from: c, to: origins.count, by: chunks) {
        let t = origins[i]
        (box.value.baseAddress! + i).initialize(to: trajectory(
          network: network, mode: mode, series: series, origin: t, state: originStates[i], input: inputs.row(t), steps: steps, range: range,
          first: first.map { b in Array(b.values[(i * horizon * f)..<((i + 1) * horizon * f)]) }))
      }
    }
    for i in origins.indices {
      let one = trajectories[i]
      for s in 0..<steps { for j in 0..<f { result.forecasts[i, s, j] = one.forecasts[0, s, j] } }
      result.divergence[i] = one.divergence[0]
    }
    trajectories.baseAddress!.deinitialize(count: origins.count)
    return result
  }

  /// One free-running trajectory from origin `t`, whose teacher-forced state is `state` after the
  /// reservoir input `input`.
  private func trajectory(network: EchoStateNetwork, mode: InputMode, series: DoubleMatrix, origin t: Int,
                          state: [Double], input: [Double], steps: Int, range: PlausibleRange, first: [Double]?) -> ClosedLoopForecast {
    let f = series.columns
    var one = ClosedLoopForecast(origins: [t], steps: steps, series: series)
    var x = state, u = input, previous = series.row(t)
    var work = [Double](repeating: 0, count: network.reservoir.units)
    var produced = 0
    while produced < steps {
      let given = produced == 0 ? first : nil
      let out = given ?? network.readout.predictOne(network.inputToReadout ? x + u : x)
      let base = previous
      for h in 0..<min(horizon, steps - produced) {
        var row = Array(out[(h * f)..<((h + 1) * f)])
        if configuration.predictDifferences && given == nil { for j in 0..<f { row[j] += base[j] } }
        guard one.record(row, origin: 0, step: produced + h, range: range) else { return one }
        switch mode {
        case .levels: u = row
        case .differences: u = (0..<f).map { row[$0] - previous[$0] }
        case .both: u = row + (0..<f).map { row[$0] - previous[$0] }
        }
        x = network.reservoir.step(u, from: x, work: &work)
        previous = row
      }
      produced += min(horizon, steps - produced)
    }
    return one
  }
}

/// A buffer handed to concurrent workers that each write their own elements.
private struct UncheckedSendable<T>: @unchecked Sendable {
  let value: T
  init(_ value: T) { self.value = value }
}
