import Foundation
import Testing
import CRecurKernels
@testable import Recur

/// Reads `Fixtures/reservoir/<name>.json` (written by Tools/Reference/mackey_glass.py).
private func reservoirFixture(_ name: String) throws -> [String: Any] {
  guard let root = Bundle.module.url(forResource: "Fixtures", withExtension: nil) else {
    throw FixtureError(description: "the test bundle has no Fixtures directory")
  }
  let url = root.appendingPathComponent("reservoir/\(name).json")
  let data = try Data(contentsOf: url)
  guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
    throw FixtureError(description: "\(url.path) is not a JSON object")
  }
  return object
}

private func doubles(_ any: Any?) -> [Double] { (any as? [NSNumber])?.map(\.doubleValue) ?? [] }

private func maxAbsDiff(_ a: [Double], _ b: [Double]) -> Double {
  precondition(a.count == b.count, "lengths \(a.count) and \(b.count) differ")
  return zip(a, b).reduce(0) { max($0, abs($1.0 - $1.1)) }
}

@Suite("Reservoir")
struct ReservoirTests {
  // MARK: - Mackey-Glass against ReservoirPy

  @Test func numpyDefaultRNGMatchesNumPy() throws {
    let fixture = try reservoirFixture("mackey_glass")
    for case let c as [String: Any] in fixture["numpy_default_rng"] as? [Any] ?? [] {
      let seed = (c["seed"] as! NSNumber).uint64Value
      var g = NumPyRandom(seed: seed)
      let raw = (c["raw"] as! [String]).map { UInt64($0)! }
      #expect((0..<raw.count).map { _ in g.nextUInt64() } == raw, "raw PCG64 outputs for seed \(seed)")
      var g2 = NumPyRandom(seed: seed)
      let randomBits = (c["random_bits"] as! [String]).map { UInt64($0)! }
      #expect((0..<randomBits.count).map { _ in g2.nextDouble().bitPattern } == randomBits, "random() for seed \(seed)")
    }
  }

  @Test func mackeyGlassMatchesReservoirPyWithDefaultSeed() throws {
    let fixture = try reservoirFixture("mackey_glass")
    let reference = doubles(fixture["tau17_default_seed_first2000"])
    let series = try mackeyGlass(count: 10_000)
    let d = maxAbsDiff(Array(series.prefix(2000)), reference)
    #expect(d <= 1e-14, "first 2,000 values: max |diff| \(d)")
    // To a few ulps (measured ≤ 8.9e-16; not bit for bit), and every 500th value up to 10,000: the
    // chaotic system amplifies any deviation in the integration, so differences that stay at this
    // size this late mean the integration is the same; only the last rounding differs.
    let checkpoints = fixture["tau17_default_seed_every500"] as! [String: NSNumber]
    for (index, value) in checkpoints {
      let i = Int(index)!
      #expect(abs(series[i] - value.doubleValue) <= 1e-14, "value \(i): \(series[i]) vs \(value.doubleValue)")
    }
  }

  @Test func mackeyGlassOtherTauSeedAndHistory() throws {
    let fixture = try reservoirFixture("mackey_glass")
    let tau30 = try mackeyGlass(count: 500, tau: 30, seed: 42)
    #expect(maxAbsDiff(tau30, doubles(fixture["tau30_seed42_first500"])) <= 1e-14)

    let h1 = fixture["tau17_history"] as! [String: Any]
    let fromHistory = try mackeyGlass(count: 300, tau: 17, history: doubles(h1["history"]))
    #expect(maxAbsDiff(fromHistory, doubles(h1["values"])) <= 1e-14)

    let h05 = fixture["tau17_h05_history"] as! [String: Any]
    let halfStep = try mackeyGlass(count: 300, tau: 17, h: 0.5, history: doubles(h05["history"]))
    #expect(maxAbsDiff(halfStep, doubles(h05["values"])) <= 1e-14)
  }

  @Test func mackeyGlassRejectsBadArguments() {
    #expect(throws: ReservoirError.self) { try mackeyGlass(count: -1) }
    #expect(throws: ReservoirError.self) { try mackeyGlass(count: 10, tau: -3) }
    #expect(throws: ReservoirError.self) { try mackeyGlass(count: 10, h: 0) }
    #expect(throws: ReservoirError.self) { try mackeyGlass(count: 10, tau: 17, history: [1, 2, 3]) }
  }

  // MARK: - Spectral radius

  @Test func spectralRadiusMatchesNumPyEigvals() throws {
    let fixture = try reservoirFixture("mackey_glass")
    for case let c as [String: Any] in fixture["spectral_radius"] as? [Any] ?? [] {
      let n = (c["n"] as! NSNumber).intValue
      let rows = (c["rows"] as! [NSNumber]).map(\.intValue), cols = (c["cols"] as! [NSNumber]).map(\.intValue)
      let values = doubles(c["values"])
      let entries = (0..<values.count).map { (row: rows[$0], column: cols[$0], value: values[$0]) }
      let matrix = SparseMatrix(rows: n, columns: n, entries: entries)
      let expected = (c["spectral_radius"] as! NSNumber).doubleValue
      let rho = spectralRadius(of: matrix)
      #expect(abs(rho - expected) <= 1e-8 * expected, "n = \(n): \(rho) vs numpy \(expected)")
    }
  }

  @Test func spectralRadiusOfReservoirSizedMatrices() throws {
    // Matrices rebuilt from the fixture's LCG (Tools/Reference/mackey_glass.py, lcg_matrix).
    let fixture = try reservoirFixture("mackey_glass")
    for case let c as [String: Any] in fixture["spectral_radius_lcg"] as? [Any] ?? [] {
      let n = (c["n"] as! NSNumber).intValue, density = (c["density"] as! NSNumber).doubleValue
      var state = (c["seed"] as! NSNumber).uint64Value
      func draw() -> Double {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        return Double(state >> 11) / 9_007_199_254_740_992.0
      }
      var entries: [(row: Int, column: Int, value: Double)] = []
      for i in 0..<n {
        for j in 0..<n where draw() < density { entries.append((i, j, 2 * draw() - 1)) }
      }
      #expect(entries.count == (c["nonzeros"] as! NSNumber).intValue)
      let expected = (c["spectral_radius"] as! NSNumber).doubleValue
      let rho = spectralRadius(of: SparseMatrix(rows: n, columns: n, entries: entries))
      #expect(abs(rho - expected) <= 1e-8 * expected, "n = \(n), seed \(c["seed"]!): \(rho) vs numpy \(expected)")
    }
  }

  @Test func hessenbergEigenvaluesOfKnownMatrix() {
    // Companion-like Hessenberg matrix with eigenvalues 1, 2, 3 and ±2i (x^5 - 6x^4 + 15x^3 - 30x^2 + 44x - 24... built
    // from the polynomial (x-1)(x-2)(x-3)(x^2+4)).
    let coefficients: [Double] = [-6, 15, -30, 44, -24]  // x^5 + c1 x^4 + ... + c5
    let n = 5
    var a = [Complex](repeating: .zero, count: n * n)
    for j in 0..<n { a[j] = Complex(-coefficients[j], 0) }
    for i in 1..<n { a[i * n + i - 1] = Complex(1, 0) }
    let eig = hessenbergEigenvalues(a, n: n)
    let expected = [Complex(1, 0), Complex(2, 0), Complex(3, 0), Complex(0, 2), Complex(0, -2)]
    for e in expected {
      let nearest = eig.map { ($0 - e).magnitude }.min()!
      #expect(nearest < 1e-9, "eigenvalue \(e) missing from \(eig)")
    }
  }

  // MARK: - Reservoir

  @Test func reservoirWeightsFollowTheHyperParameters() throws {
    var r = try Reservoir(units: 200, leakRate: 0.3, spectralRadius: 1.25, inputScaling: 0.5,
                          biasScaling: 0.2, inputConnectivity: 0.2, recurrentConnectivity: 0.1, seed: 7)
    #expect(r.recurrent.nonzeroCount == 4000)
    #expect(abs(spectralRadius(of: r.recurrent) - 1.25) < 1e-8)
    try r.initialize(inputSize: 3)
    #expect(r.inputWeights.filter { $0 != 0 }.count == 120)
    #expect(r.inputWeights.allSatisfy { $0 == 0 || abs($0) == 0.5 })
    #expect(r.bias.allSatisfy { abs($0) == 0.2 })
    #expect(throws: ReservoirError.self) { try r.initialize(inputSize: 2) }
    // Same seed, same reservoir; another seed, another one.
    let again = try Reservoir(units: 200, leakRate: 0.3, spectralRadius: 1.25, seed: 7)
    let other = try Reservoir(units: 200, leakRate: 0.3, spectralRadius: 1.25, seed: 8)
    #expect(again.recurrent == r.recurrent)
    #expect(other.recurrent != r.recurrent)
  }

  @Test func reservoirRejectsBadHyperParameters() {
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, spectralRadius: 0) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, spectralRadius: -1) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, leakRate: 0) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, leakRate: 1.5) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 0) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, inputConnectivity: 0) }
    #expect(throws: ReservoirError.self) { try Reservoir(units: 10, recurrentConnectivity: 1.5) }
  }

  @Test func reservoirRunMatchesADenseReference() throws {
    var r = try Reservoir(units: 50, leakRate: 0.4, spectralRadius: 0.9, inputScaling: 0.8,
                          biasScaling: 0.3, inputConnectivity: 0.5, recurrentConnectivity: 0.2, seed: 3)
    try r.initialize(inputSize: 2)
    let steps = 40
    let inputs = DoubleMatrix(rows: steps, columns: 2, storage: (0..<(steps * 2)).map { sin(Double($0) * 0.37) * 2 })
    let start = (0..<50).map { Double($0 % 7) / 10 - 0.3 }
    let (states, final) = try r.run(inputs, from: start)
    let w = r.recurrent.dense()
    var x = start
    var reference: [Double] = []
    for t in 0..<steps {
      var next = [Double](repeating: 0, count: 50)
      for i in 0..<50 {
        var s = r.bias[i]
        for j in 0..<50 { s += w[i * 50 + j] * x[j] }
        for f in 0..<2 { s += r.inputWeights[i * 2 + f] * inputs[t, f] }
        next[i] = (1 - 0.4) * x[i] + 0.4 * tanh(s)
      }
      x = next
      reference += x
    }
    #expect(maxAbsDiff(states.storage, reference) < 1e-12)
    #expect(final == states.row(steps - 1))
    // Inputs of the wrong width, or with NaN, are errors.
    #expect(throws: ReservoirError.self) { try r.run(DoubleMatrix(rows: 3, columns: 1)) }
    #expect(throws: ReservoirError.self) { try r.run(DoubleMatrix(rows: 2, columns: 2, storage: [0, .nan, 1, 2])) }
  }

  @Test func gramAccumulatedWhileRunningMatchesTwoPasses() throws {
    var r = try Reservoir(units: 500, leakRate: 0.3, spectralRadius: 1.1, biasScaling: 0.2, inputConnectivity: 0.5, seed: 4)
    try r.initialize(inputSize: 2)
    let steps = 900
    let inputs = DoubleMatrix(rows: steps, columns: 2, storage: (0..<(steps * 2)).map { sin(Double($0) * 0.011) + 0.3 })
    let gramRows = 120..<steps
    let run = try r.runWithGram(inputs, appendInputs: true, gramRows: gramRows)
    let (states, final) = try r.run(inputs)
    let features = EchoStateNetwork(reservoir: r, readout: Ridge(), inputToReadout: true).readoutFeatures(states: states, inputs: inputs)
    #expect(run.features == features)
    #expect(run.finalState == final)
    let twoPass = try Ridge.NormalEquations(features: features, targets: DoubleMatrix(rows: steps, columns: 1),
                                            rowOffset: gramRows.lowerBound, rows: gramRows.count, centered: true)
    let scale = twoPass.gram.map(abs).max()!
    #expect(maxAbsDiff(run.gram, twoPass.gram) <= 1e-11 * scale, "Gram differs by \(maxAbsDiff(run.gram, twoPass.gram)) (scale \(scale))")
    #expect(maxAbsDiff(run.mean, twoPass.featureMean) <= 1e-13)
  }

  @Test func vectorTanhIsAccurate() {
    let xs = (0..<20_001).map { Double($0 - 10_000) * 0.0023 } + [0, -0.0, 1e-300, 0.625, 0.6249999999999999, 40, -800, 1e10]
    var ys = [Double](repeating: 0, count: xs.count)
    recur_vtanh_f64(xs, &ys, xs.count)
    for (x, y) in zip(xs, ys) {
      let exact = tanh(x)
      #expect(abs(y - exact) <= 4e-16 * max(abs(exact), 1e-300) || abs(y - exact) < 1e-320, "tanh(\(x)) = \(y), libm \(exact)")
    }
  }

  // MARK: - Ridge

  @Test func ridgeRecoversLinearWeightsAndBias() throws {
    var g = RandomGenerator(seed: 11)
    let t = 300, n = 6, k = 2
    let x = DoubleMatrix(rows: t, columns: n, storage: (0..<(t * n)).map { _ in g.nextUniformDouble() * 2 - 1 })
    let trueW = (0..<(n * k)).map { Double($0) / 3 - 1 }
    let trueB = [0.7, -2.5]
    var y = DoubleMatrix(rows: t, columns: k)
    for r in 0..<t {
      for j in 0..<k {
        var s = trueB[j]
        for i in 0..<n { s += x[r, i] * trueW[i * k + j] }
        y[r, j] = s
      }
    }
    var ridge = Ridge(ridge: 1e-10)
    try ridge.fit(features: x, targets: y)
    #expect(maxAbsDiff(ridge.weights!.storage, trueW) < 1e-8)
    #expect(maxAbsDiff(ridge.bias, trueB) < 1e-8)
    #expect(maxAbsDiff(try ridge.predict(x).storage, y.storage) < 1e-8)

    // Without a bias the intercept is not learned; with a large ridge the weights shrink.
    var noBias = Ridge(ridge: 1e-10, fitBias: false)
    try noBias.fit(features: x, targets: y)
    #expect(noBias.bias == [0, 0])
    var strong = Ridge(ridge: 1e6)
    try strong.fit(features: x, targets: y)
    #expect(strong.weights!.storage.allSatisfy { abs($0) < 1e-2 })
  }

  @Test func ridgeMatchesTheClosedFormWithRegularisation() throws {
    // Compare with (Xcᵀ Xc + λ I)⁻¹ Xcᵀ yc computed by plain Gaussian elimination.
    var g = RandomGenerator(seed: 5)
    let t = 40, n = 5
    let x = DoubleMatrix(rows: t, columns: n, storage: (0..<(t * n)).map { _ in g.nextUniformDouble() })
    let y = DoubleMatrix(column: (0..<t).map { _ in g.nextUniformDouble() })
    let lambda = 0.3
    var ridge = Ridge(ridge: lambda)
    try ridge.fit(features: x, targets: y)
    let xm = (0..<n).map { j in x.column(j).reduce(0, +) / Double(t) }
    let ym = y.column(0).reduce(0, +) / Double(t)
    var a = [[Double]](repeating: [Double](repeating: 0, count: n + 1), count: n)
    for i in 0..<n {
      for j in 0..<n {
        a[i][j] = (0..<t).reduce(0) { $0 + (x[$1, i] - xm[i]) * (x[$1, j] - xm[j]) } + (i == j ? lambda : 0)
      }
      a[i][n] = (0..<t).reduce(0) { $0 + (x[$1, i] - xm[i]) * (y[$1, 0] - ym) }
    }
    for c in 0..<n {
      for r in (c + 1)..<n {
        let f = a[r][c] / a[c][c]
        for k in c...n { a[r][k] -= f * a[c][k] }
      }
    }
    var w = [Double](repeating: 0, count: n)
    for r in stride(from: n - 1, through: 0, by: -1) {
      w[r] = (a[r][n] - ((r + 1)..<n).reduce(0) { $0 + a[r][$1] * w[$1] }) / a[r][r]
    }
    #expect(maxAbsDiff(ridge.weights!.storage, w) < 1e-12)
    #expect(abs(ridge.bias[0] - (ym - zip(xm, w).reduce(0) { $0 + $1.0 * $1.1 })) < 1e-12)
  }

  @Test func ridgeReportsSingularSystemsAndBadData() {
    // Two identical columns without regularisation.
    let x = DoubleMatrix(rows: 4, columns: 2, storage: [1, 1, 2, 2, 3, 3, 4, 4])
    let y = DoubleMatrix(column: [1, 2, 3, 4])
    var ridge = Ridge(ridge: 0)
    #expect(throws: ReservoirError.self) { try ridge.fit(features: x, targets: y) }
    var negative = Ridge(ridge: -1)
    #expect(throws: ReservoirError.self) { try negative.fit(features: x, targets: y) }
    var ok = Ridge(ridge: 1e-3)
    #expect(throws: ReservoirError.self) { try ok.fit(features: x, targets: DoubleMatrix(column: [1, 2, .nan, 4])) }
    #expect(throws: ReservoirError.self) { try ok.fit(features: x, targets: DoubleMatrix(column: [1, 2, 3])) }
  }

  // MARK: - Echo-state network

  @Test func esnLearnsASineAndGeneratesItClosedLoop() throws {
    let series = (0..<1200).map { sin(Double($0) * 2 * Double.pi / 40) }
    let inputs = DoubleMatrix(column: Array(series[0..<999]))
    let targets = DoubleMatrix(column: Array(series[1..<1000]))
    let reservoir = try Reservoir(units: 100, leakRate: 0.5, spectralRadius: 0.9, inputConnectivity: 1, seed: 1)
    var esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(ridge: 1e-8))
    let state = try esn.fit(inputs: inputs, targets: targets, warmup: 100)
    // Teacher-forced on the next 100 steps, continuing from the training state.
    let (predicted, last) = try esn.predict(inputs: DoubleMatrix(column: Array(series[999..<1099])), from: state)
    #expect(maxAbsDiff(predicted.storage, Array(series[1000..<1100])) < 1e-3)
    // Closed loop for 100 steps after that: `last` has read series[1098], so the first generated value
    // is the forecast of series[1099].
    let (generated, _) = try esn.generate(steps: 100, from: last)
    #expect(maxAbsDiff(generated.storage, Array(series[1099..<1199])) < 1e-2)

    var multi = EchoStateNetwork(reservoir: reservoir, readout: Ridge(ridge: 1e-8))
    _ = try multi.fit(inputs: inputs, targets: DoubleMatrix(rows: 999, columns: 2), warmup: 10)
    #expect(throws: ReservoirError.self) { try multi.generate(steps: 3, from: last) }
    var esn2 = EchoStateNetwork(reservoir: reservoir, readout: Ridge(ridge: 1e-8))
    #expect(throws: ReservoirError.self) { try esn2.fit(inputs: inputs, targets: targets, warmup: 999) }
    #expect(throws: ReservoirError.self) { try esn2.predict(inputs: inputs) }
  }

  /// ReservoirPy's Mackey-Glass protocol (its tutorial's settings): 10,000 steps scaled to [-1, 1],
  /// train on the first 5,000 with 1,000 warm-up steps discarded, test teacher-forced on the rest,
  /// 1 and 20 steps ahead; 500 units, sr 1.25, lr 0.3, input scaling 1, ridge 1e-7, ReservoirPy's
  /// default connectivities (0.1); median NRMSE (RMSE / std) over seeds 0…4.
  /// ReservoirPy 0.4.2 measures medians of 1.9e-3 (1 step) and 3.3e-3 (20 steps) with the same settings
  /// (Tools/Benchmarks/compare_reservoirpy.py); Recur must do no worse.
  @Test func mackeyGlassProtocolNRMSE() throws {
    let raw = try mackeyGlass(count: 10_000, tau: 17)
    let lo = raw.min()!, hi = raw.max()!
    let series = raw.map { 2 * ($0 - lo) / (hi - lo) - 1 }
    var medians: [Int: Double] = [:]
    var perSeed: [Int: [Double]] = [1: [], 20: []]
    for seed in 0..<5 {
      let reservoir = try Reservoir(units: 500, leakRate: 0.3, spectralRadius: 1.25, inputScaling: 1.0,
                                    seed: UInt64(seed))
      for horizon in [1, 20] {
        let x = Array(series[0..<(series.count - horizon)]), y = Array(series[horizon...])
        var esn = EchoStateNetwork(reservoir: reservoir, readout: Ridge(ridge: 1e-7))
        let state = try esn.fit(inputs: DoubleMatrix(column: Array(x[0..<5000])),
                                targets: DoubleMatrix(column: Array(y[0..<5000])), warmup: 1000)
        let (predicted, _) = try esn.predict(inputs: DoubleMatrix(column: Array(x[5000...])), from: state)
        let truth = Array(y[5000...])
        perSeed[horizon]!.append(ForecastMetrics.nrmse(actual: truth, predicted: predicted.storage))
      }
    }
    for horizon in [1, 20] {
      medians[horizon] = perSeed[horizon]!.sorted()[2]
    }
    print("Mackey-Glass NRMSE per seed: 1 step \(perSeed[1]!), 20 steps \(perSeed[20]!)")
    #expect(medians[1]! <= 1.9e-3, "1-step median NRMSE \(medians[1]!) (ReservoirPy 1.9e-3)")
    #expect(medians[20]! <= 3.3e-3, "20-step median NRMSE \(medians[20]!) (ReservoirPy 3.3e-3)")
  }

  // MARK: - Every ISA path

  /// Everything the reservoir kernels compute, on the calling thread's path.
  private struct KernelResults {
    var states: [Double] = [], gramRun: [Double] = [], meanRun: [Double] = [], predicted: [Double] = []
    var predicted3: [Double] = [], ridgeWeights: [Double] = [], tanh: [Double] = [], gram: [Double] = []
    var cross: [Double] = [], readout: [Double] = [], matvec: [Double] = [], dots: [Double] = []
  }

  private func reservoirKernelResults(inputSize: Int) throws -> KernelResults {
    var out = KernelResults()
    // 300 units at connectivity 0.1: 9,000 non-zeros, enough for the two-thread step split; 800 steps
    // run the Gram matrix concurrently. Spectral radius < 1, so rounding differences fade.
    var r = try Reservoir(units: 300, leakRate: 0.3, spectralRadius: 0.9, biasScaling: 0.2, inputConnectivity: 0.5, seed: 9)
    try r.initialize(inputSize: inputSize)
    let steps = 800
    let inputs = DoubleMatrix(rows: steps, columns: inputSize,
                              storage: (0..<(steps * inputSize)).map { sin(Double($0) * 0.021) + 0.2 * cos(Double($0) * 0.37) })
    let targets3 = DoubleMatrix(rows: steps, columns: 3, storage: (0..<(steps * 3)).map { cos(Double($0) * 0.013) })
    let targets1 = DoubleMatrix(column: (0..<steps).map { sin(Double($0) * 0.021 + 0.1) })
    out.states = try r.run(inputs).states.storage
    let run = try r.runWithGram(inputs, appendInputs: true, gramRows: 100..<steps)
    out.gramRun = run.gram
    out.meanRun = run.mean
    var esn = EchoStateNetwork(reservoir: r, readout: Ridge(ridge: 1e-4), inputToReadout: true)
    try esn.fit(inputs: inputs, targets: targets1, warmup: 100)
    out.predicted = try esn.predict(inputs: inputs).outputs.storage
    var esn3 = EchoStateNetwork(reservoir: r, readout: Ridge(ridge: 1e-4))
    try esn3.fit(inputs: inputs, targets: targets3, warmup: 100, from: r.zeroState)  // two-pass Gram, cross products
    out.predicted3 = try esn3.predict(inputs: inputs).outputs.storage
    out.ridgeWeights = esn3.readout.weights!.storage
    // The entry points one by one, at lengths that leave every kind of tail.
    let xs = (0..<1037).map { Double($0 - 518) * 0.0137 } + [0, -0.0, 0.625, 40, -800, .nan]
    out.tanh = [Double](repeating: 0, count: xs.count)
    recur_vtanh_f64(xs, &out.tanh, xs.count)
    let x = DoubleMatrix(rows: 301, columns: 21, storage: (0..<(301 * 21)).map { sin(Double($0) * 0.7) })
    let mean = (0..<21).map { Double($0) * 0.01 }
    out.gram = [Double](repeating: 0, count: 21 * 21)
    recur_gram_f64(301, 21, x.storage, 21, mean, &out.gram, 21)
    let y = (0..<(301 * 7)).map { cos(Double($0) * 0.3) }
    out.cross = [Double](repeating: 0, count: 21 * 7)
    recur_cross_f64(301, 21, 7, x.storage, 21, mean, y, 7, nil, &out.cross, 7)
    let w = (0..<(21 * 7)).map { Double($0 % 11) * 0.1 - 0.5 }, b = (0..<7).map { Double($0) }
    out.readout = [Double](repeating: 0, count: 301 * 7)
    recur_readout_f64(301, 21, 7, x.storage, 21, w, b, &out.readout)
    out.matvec = [Double](repeating: 0, count: 300)
    let state = Array(out.states[0..<300])
    r.recurrent.rowStart.withUnsafeBufferPointer { rs in
      recur_csr_matvec_f64(300, rs.baseAddress!, r.recurrent.columnIndex, r.recurrent.values, state, &out.matvec)
    }
    out.dots = (0..<40).map { n in recur_dot_f64(Int32(n), x.storage, y) }
    return out
  }

  /// How close each result of a SIMD path must be to the portable one, relative to its scale. The
  /// ridge solve multiplies rounding differences by the condition number of the system (~1e8 here):
  /// its weights, and the predictions made with them, agree to ~1e-8.
  private static var pathTolerances: [(String, KeyPath<KernelResults, [Double]>, Double)] {
    [
    ("states", \.states, 1e-13), ("Gram matrix of the run", \.gramRun, 1e-12), ("feature means of the run", \.meanRun, 1e-13),
    ("teacher-forced predictions (1 output)", \.predicted, 1e-7), ("teacher-forced predictions (3 outputs)", \.predicted3, 1e-7),
    ("ridge weights", \.ridgeWeights, 1e-7), ("tanh", \.tanh, 4e-16), ("Gram matrix", \.gram, 1e-14),
    ("cross products", \.cross, 1e-14), ("read-out", \.readout, 1e-14), ("sparse product", \.matvec, 1e-14),
    ("dot products", \.dots, 1e-14),
    ]
  }

  @Test func reservoirKernelsAgreeOnEveryISAPath() throws {
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var results: [String: KernelResults] = [:]
    for isa in Kernels.supportedISAs {
      for threads in [1, 2] {
        Kernels.numThreads = threads
        try Kernels.withISA(isa) {
          #expect(Reservoir.kernelISA == isa)
          let got = try reservoirKernelResults(inputSize: threads)  // one input, then two
          let key = "\(isa)/\(threads)"
          results[key] = got
        }
      }
    }
    #expect(results.count == 2 * Kernels.supportedISAs.count)
    for threads in [1, 2] {
      guard let reference = results["portable/\(threads)"] else { Issue.record("no portable path"); return }
      func close(_ a: [Double], _ b: [Double], _ tolerance: Double, _ what: String, _ isa: String) {
        let scale = max(b.map(abs).max() ?? 0, 1)
        let diff = zip(a, b).reduce(0.0) { max($0, $1.0.isNaN && $1.1.isNaN ? 0 : abs($1.0 - $1.1)) }
        #expect(a.count == b.count && diff <= tolerance * scale, "\(isa), \(threads) thread(s): \(what) differs from portable by \(diff) (scale \(scale))")
      }
      for isa in Kernels.supportedISAs where isa != "portable" {
        let got = results["\(isa)/\(threads)"]!
        for (what, field, tolerance) in Self.pathTolerances {
          close(got[keyPath: field], reference[keyPath: field], tolerance, what, isa)
        }
      }
      // The SIMD paths share their algorithms: tanh and the Gram, cross and read-out products
      // (the same chains of fused multiply-adds in the same order) agree bit for bit.
      if let a = results["avx2/\(threads)"], let b = results["avx512/\(threads)"] {
        #expect(a.tanh.map(\.bitPattern) == b.tanh.map(\.bitPattern), "tanh: avx2 and avx512 differ")
        #expect(a.gram == b.gram && a.cross == b.cross && a.readout == b.readout, "Gram/cross/read-out: avx2 and avx512 differ")
      }
    }
  }
}
