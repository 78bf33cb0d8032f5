import CRecurKernels
import Foundation
import Testing
import _RecurTestSupport

@testable import Recur

// Tests of the C kernels (CRecurKernels): every ISA path this CPU can run (forced per thread with
// recur_force_isa), against double-precision references.

// MARK: - Helpers

/// Deterministic inputs (SplitMix64).
private struct SplitMix {
  var state: UInt64

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }

  /// Uniform in [-1, 1).
  mutating func float() -> Float { Float(Int64(next() >> 40) - (1 << 23)) / Float(1 << 23) }
}

/// A 64-byte aligned float buffer (what recur_pack_b requires).
private final class AlignedFloats {
  let count: Int
  let pointer: UnsafeMutablePointer<Float>

  init(_ count: Int, fill: Float = 0) {
    self.count = count
    pointer = UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
      .bindMemory(to: Float.self, capacity: max(1, count))
    pointer.initialize(repeating: fill, count: max(1, count))
  }

  convenience init(_ values: [Float]) {
    self.init(values.count)
    for i in 0..<values.count { pointer[i] = values[i] }
  }

  deinit { UnsafeMutableRawPointer(pointer).deallocate() }

  var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// One C = alpha·op(A)·op(B) + beta·C problem. pad* make the leading dimensions larger than needed.
private struct GemmCase: CustomStringConvertible {
  var transA = false, transB = false
  var m: Int, n: Int, k: Int
  var alpha: Float = 1, beta: Float = 0
  var padA = 0, padB = 0, padC = 0
  /// Put NaN into A (used with alpha == 0: A must not be read).
  var nanA = false

  var lda: Int { (transA ? m : k) + padA }
  var ldb: Int { (transB ? k : n) + padB }
  var ldc: Int { n + padC }
  var rowsA: Int { transA ? k : m }
  var rowsB: Int { transB ? n : k }

  var description: String {
    "\(transA ? "T" : "N")\(transB ? "T" : "N") \(m)x\(n)x\(k) alpha=\(alpha) beta=\(beta) "
      + "lda=\(lda) ldb=\(ldb) ldc=\(ldc)"
  }
}

/// Inputs, the double-precision reference and a rigorous error bound for each element of C.
private struct GemmProblem {
  let c: GemmCase
  let a: [Float], b: [Float], c0: [Float]
  let reference: [Double]  // m x n
  let bound: [Double]  // m x n

  static let sentinel: Float = 12345.5

  /// `bfloat16`: the reference multiplies A and B rounded to bfloat16 as the medium-precision
  /// GEMM does (its products are then exact in float32 and only the sums round, as in float32).
  init(_ c: GemmCase, seed: UInt64, bfloat16: Bool = false) {
    self.c = c
    var rng = SplitMix(state: seed)
    var a = (0..<max(1, c.rowsA * c.lda)).map { _ in rng.float() }
    if c.nanA { for i in stride(from: 0, to: a.count, by: 3) { a[i] = .nan } }
    let b = (0..<max(1, c.rowsB * c.ldb)).map { _ in rng.float() }
    var c0 = [Float](repeating: Self.sentinel, count: max(1, c.m * c.ldc))
    for i in 0..<c.m {
      for j in 0..<c.n {
        // beta == 0 must ignore whatever C holds, NaN included
        c0[i * c.ldc + j] = c.beta == 0 && (i + j) % 3 == 0 ? .nan : rng.float()
      }
    }
    self.a = a
    self.b = b
    self.c0 = c0
    // Each element is a k-term dot product accumulated in float with fused multiply-adds, then
    // scaled by alpha and merged with beta·C, plus one merge per K block (<= 8 here): the
    // classic bound |error| <= gamma_(k+8) * (|alpha| sum |a b| + |beta c|), gamma_j = j u / (1 - j u).
    var reference = [Double](repeating: 0, count: c.m * c.n)
    var bound = [Double](repeating: 0, count: c.m * c.n)
    let u = Double(Float.ulpOfOne) / 2
    let gamma = Double(c.k + 8) * u / (1 - Double(c.k + 8) * u)
    a.withUnsafeBufferPointer { pa in
      b.withUnsafeBufferPointer { pb in
        for i in 0..<c.m {
          for j in 0..<c.n {
            var s = 0.0, sa = 0.0
            if c.alpha != 0 {
              for p in 0..<c.k {
                var x = c.transA ? pa[p * c.lda + i] : pa[i * c.lda + p]
                var y = c.transB ? pb[j * c.ldb + p] : pb[p * c.ldb + j]
                if bfloat16 { (x, y) = (bfloat16Rounded(x), bfloat16Rounded(y)) }
                let (x64, y64) = (Double(x), Double(y))
                s += x64 * y64
                sa += abs(x64 * y64)
              }
            }
            let cb = c.beta == 0 ? 0 : Double(c.beta) * Double(c0[i * c.ldc + j])
            reference[i * c.n + j] = Double(c.alpha) * s + cb
            bound[i * c.n + j] = gamma * (abs(Double(c.alpha)) * sa + abs(cb)) + 1e-30
          }
        }
      }
    }
    self.reference = reference
    self.bound = bound
  }

  /// Runs the active path (recur_sgemm, or recur_pack_b + recur_sgemm_packed) and describes
  /// any element outside its bound or any write outside the m x n block of C.
  func check(packed: Bool) -> [String] {
    let a = AlignedFloats(self.a), b = AlignedFloats(self.b), cc = AlignedFloats(c0)
    if packed {
      let p = AlignedFloats(recur_packed_b_size(Int32(c.k), Int32(c.n)))
      recur_pack_b(c.transB ? 1 : 0, Int32(c.k), Int32(c.n), b.pointer, Int32(c.ldb), p.pointer)
      recur_sgemm_packed(Int32(c.m), Int32(c.n), Int32(c.k), c.alpha, a.pointer, Int32(c.lda),
                         p.pointer, c.beta, cc.pointer, Int32(c.ldc))
    } else {
      recur_sgemm(c.transA ? 1 : 0, c.transB ? 1 : 0, Int32(c.m), Int32(c.n), Int32(c.k), c.alpha,
                  a.pointer, Int32(c.lda), b.pointer, Int32(c.ldb), c.beta, cc.pointer, Int32(c.ldc))
    }
    var problems: [String] = []
    for i in 0..<c.m {
      for j in 0..<c.ldc {
        let got = cc.pointer[i * c.ldc + j]
        if j >= c.n {
          if got != Self.sentinel { problems.append("C[\(i), \(j)] past column n was written: \(got)") }
          continue
        }
        let want = reference[i * c.n + j]
        if !(abs(Double(got) - want) <= bound[i * c.n + j]) {
          problems.append("C[\(i), \(j)] = \(got), reference \(want) ± \(bound[i * c.n + j])")
        }
      }
      if problems.count > 4 { break }
    }
    return problems
  }
}

/// x rounded to bfloat16 as VCVTNEPS2BF16 rounds: to nearest even, subnormals to zero.
private func bfloat16Rounded(_ x: Float) -> Float {
  let u = x.bitPattern
  if u & 0x7f80_0000 == 0 { return Float(bitPattern: u & 0x8000_0000) }
  if u & 0x7fff_ffff > 0x7f80_0000 { return x }
  return Float(bitPattern: (u &+ 0x7fff &+ ((u >> 16) & 1)) & 0xffff_0000)
}

/// Shapes for the medium-precision GEMM: edge tiles, odd K (a last pair with one half), K over
/// a block (384 for bfloat16), M over an M block, and the recurrent step and weight-gradient shapes.
private let bfloat16GemmCases = transposeCases(
  [(1, 1, 1), (9, 23, 1), (7, 33, 19), (13, 50, 70), (37, 100, 300), (250, 40, 20), (64, 96, 257),
   (17, 49, 385), (300, 130, 801), (32, 500, 512), (100, 60, 1700)], paddings: .alternate)

/// Padded leading dimensions in `transposeCases`: every case both ways, or every other case.
private enum Paddings { case both, alternate }

/// The four transpose combinations of each (m, n, k), cycling through alpha/beta pairs, with
/// leading dimensions larger than needed as `paddings` says.
private func transposeCases(_ sizes: [(Int, Int, Int)], paddings: Paddings) -> [GemmCase] {
  let scalars: [(Float, Float)] = [(1, 0), (1, 1), (-0.5, 0.3), (2.5, -1)]
  var cases: [GemmCase] = []
  var v = 0
  for (m, n, k) in sizes {
    for ta in [false, true] {
      for tb in [false, true] {
        let (alpha, beta) = scalars[v % scalars.count]
        let plain = GemmCase(transA: ta, transB: tb, m: m, n: n, k: k, alpha: alpha, beta: beta)
        var padded = plain
        (padded.padA, padded.padB, padded.padC) = (5, 3, 7)
        switch paddings {
        case .both: cases += [plain, padded]
        case .alternate: cases.append(v % 2 == 1 ? padded : plain)
        }
        v += 1
      }
    }
  }
  return cases
}

/// Runs `body` for every ISA path this CPU has, with each thread count, restoring the settings.
private func forEachPath(threads counts: [Int] = [1, 2], _ body: (_ isa: String, _ threads: Int) -> Void) {
  let saved = Kernels.numThreads
  defer { Kernels.numThreads = saved }
  for isa in Kernels.supportedISAs {
    Kernels.withISA(isa) {
      #expect(Kernels.isa == isa)
      for threads in counts {
        Kernels.numThreads = threads
        body(isa, threads)
      }
    }
  }
}

private func runGemmCases(_ cases: [GemmCase], seed: UInt64, threads: [Int] = [1, 2]) {
  for (index, gc) in cases.enumerated() {
    let problem = GemmProblem(gc, seed: seed &+ UInt64(index))
    forEachPath(threads: threads) { isa, threads in
      for packed in gc.transA ? [false] : [false, true] {
        let problems = problem.check(packed: packed)
        #expect(problems.isEmpty, "\(isa), \(threads) thread(s), \(packed ? "packed" : "unpacked") B, \(gc): \(problems.prefix(4).joined(separator: "; "))")
      }
    }
  }
}

// MARK: - Tests

@Suite(.serialized) struct KernelTests {
  @Test func dispatchReportsAndForcesPaths() {
    let supported = Kernels.supportedISAs
    #expect(supported.contains("portable"))
    #expect(supported.contains(Kernels.isa))
    #expect(recur_force_isa("sse9") == 0)
    #expect(recur_isa_supported("sse9") == 0)
    for isa in ["avx512", "avx2", "portable"] where !supported.contains(isa) {
      #expect(recur_force_isa(isa) == 0, "forcing \(isa) must fail on a CPU without it")
    }
    let before = Kernels.isa
    Kernels.withISA("portable") { #expect(Kernels.isa == "portable") }
    #expect(Kernels.isa == before)
    // a forced path is per thread
    Kernels.withISA("portable") {
      nonisolated(unsafe) var other = ""
      let done = DispatchSemaphore(value: 0)
      Thread {
        other = Kernels.isa
        done.signal()
      }.start()
      done.wait()
      #expect(other == before)
    }
  }

  @Test func threadCountSetting() {
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    #expect(saved >= 1)
    recur_set_num_threads(0)
    #expect(recur_get_num_threads() == 1)
    Kernels.numThreads = 3
    #expect(Kernels.numThreads == 3)
  }

  @Test func gemmTinyAndDegenerateShapes() {
    var cases: [GemmCase] = []
    for ta in [false, true] {
      for tb in [false, true] {
        cases.append(GemmCase(transA: ta, transB: tb, m: 1, n: 1, k: 1))
        cases.append(GemmCase(transA: ta, transB: tb, m: 1, n: 1, k: 1, alpha: -2, beta: 0.5))
        cases.append(GemmCase(transA: ta, transB: tb, m: 1, n: 37, k: 29, beta: 1))  // M = 1
        cases.append(GemmCase(transA: ta, transB: tb, m: 1, n: 70, k: 300))  // M = 1, two K blocks
        cases.append(GemmCase(transA: ta, transB: tb, m: 9, n: 23, k: 1, alpha: 0.5, beta: -1))  // K = 1
        cases.append(GemmCase(transA: ta, transB: tb, m: 17, n: 1, k: 40, beta: 0.25))  // N = 1
        cases.append(GemmCase(transA: ta, transB: tb, m: 5, n: 7, k: 0, beta: 0.5))  // K = 0: beta C
        cases.append(GemmCase(transA: ta, transB: tb, m: 5, n: 7, k: 0, beta: 0))  // K = 0, beta = 0: zeros
        cases.append(GemmCase(transA: ta, transB: tb, m: 6, n: 9, k: 4, alpha: 0, beta: 2, nanA: true))
      }
    }
    runGemmCases(cases, seed: 1)
  }

  @Test func gemmEdgeTilesTransposesAlphaBetaAndStrides() {
    // sizes that are not multiples of any micro-tile (6x16, 8x48, 4x8), K over a K block,
    // M over an M block
    let cases = transposeCases([(7, 33, 19), (13, 50, 70), (37, 100, 300), (250, 40, 20), (64, 96, 257)], paddings: .both)
    runGemmCases(cases, seed: 100)
  }

  @Test(.enabled(if: Kernels.bfloat16Available))
  func bfloat16GemmMultipliesRoundedOperandsAndSumsInFloat32() {
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    Kernels.withMatmulPrecision(.medium) {
      for (index, gc) in bfloat16GemmCases.enumerated() {
        let problem = GemmProblem(gc, seed: 500 &+ UInt64(index), bfloat16: true)
        for threads in [1, 2] {
          Kernels.numThreads = threads
          for packed in gc.transA ? [false] : [false, true] {
            let problems = problem.check(packed: packed)
            #expect(problems.isEmpty, "bfloat16, \(threads) thread(s), \(packed ? "packed" : "unpacked") B, \(gc): \(problems.prefix(4).joined(separator: "; "))")
          }
        }
      }
    }
    // and it is not float32: operands round to 8 significant bits, to nearest, ties to even
    for (x, rounded) in [(1 + 3 / 512.0, 1 + 1 / 128.0), (1 + 1 / 256.0, 1.0), (1 + 3 / 256.0, 1 + 2 / 128.0)] as [(Float, Float)] {
      let a = AlignedFloats([x]), b = AlignedFloats([1]), c = AlignedFloats(1)
      Kernels.withMatmulPrecision(.medium) {
        recur_sgemm(0, 0, 1, 1, 1, 1, a.pointer, 1, b.pointer, 1, 0, c.pointer, 1)
      }
      #expect(c.pointer[0] == rounded, "\(x) · 1 = \(c.pointer[0]) in bfloat16, expected \(rounded)")
    }
  }

  @Test func mediumPrecisionIsFloat32WhereBFloat16CannotRun() {
    // Paths without AVX512_BF16 (AVX2, portable, and AVX-512 on CPUs without it) keep float32
    // products under medium precision: the float32 error bound holds.
    let cases = bfloat16GemmCases.filter { $0.m * $0.n * $0.k < 2_000_000 }
    Kernels.withMatmulPrecision(.medium) {
      for isa in Kernels.supportedISAs where !(isa == "avx512" && Kernels.bfloat16Available) {
        Kernels.withISA(isa) {
          #expect(!Kernels.bfloat16Available)
          for (index, gc) in cases.enumerated() {
            let problems = GemmProblem(gc, seed: 700 &+ UInt64(index)).check(packed: !gc.transA)
            #expect(problems.isEmpty, "\(isa) under medium precision, \(gc): \(problems.prefix(4).joined(separator: "; "))")
          }
        }
      }
    }
  }

  @Test func packedFormatFollowsPathAndPrecision() {
    // a packed B is reused only while this identifier holds: one per path, one more for bfloat16
    var formats: [Int32] = []
    for isa in Kernels.supportedISAs {
      Kernels.withISA(isa) {
        formats.append(Kernels.withMatmulPrecision(.highest) { recur_packed_b_format() })
        let medium = Kernels.withMatmulPrecision(.medium) { recur_packed_b_format() }
        if medium != formats.last { formats.append(medium) }
      }
    }
    #expect(Set(formats).count == formats.count)
    let bfloat16 = Kernels.withISA("avx512") { Kernels.bfloat16Available } ?? false
    #expect(formats.count == Kernels.supportedISAs.count + (bfloat16 ? 1 : 0))
  }

  @Test func gemmLargeMultiThreaded() {
    // The work is cut into units that threads claim: few rows (40) give groups of column panels
    // (each packing its own B panels when B comes unpacked, A packed once per thread for all of
    // K); many rows give row chunks over all columns (B packed whole first); with 3 threads,
    // 140-300 rows give both at once (several row chunks, each split into panel groups).
    runGemmCases([
      GemmCase(transB: true, m: 160, n: 400, k: 300, beta: 1, padA: 3),
      GemmCase(m: 40, n: 400, k: 300, alpha: -1, beta: 0.5),
      GemmCase(transA: true, transB: true, m: 40, n: 400, k: 300),
      GemmCase(m: 420, n: 48, k: 64, alpha: 0.75, beta: 0.5),
      GemmCase(transA: true, transB: true, m: 420, n: 48, k: 64),
      // A for all of K larger than any L2 budget (a quarter of up to 4 MiB): A packed one K
      // block at a time, every panel run over it (the other cases keep A whole, panel by panel)
      GemmCase(transB: true, m: 300, n: 50, k: 1100, beta: 0.5),
    ], seed: 1000)
    runGemmCases([
      GemmCase(transB: true, m: 140, n: 200, k: 100, beta: 0.5),
      GemmCase(m: 240, n: 200, k: 100),
      GemmCase(transA: true, m: 300, n: 200, k: 100, beta: 1),
    ], seed: 2000, threads: [3])
  }

  @Test func packedBufferSizeAndHeader() {
    forEachPath { isa, _ in
      let size = recur_packed_b_size(300, 50)
      #expect(size >= 300 * 50 + 16, "\(isa): packed size \(size) too small")
      #expect(recur_packed_b_size(0, 50) >= 16)
    }
  }

  @Test func cellAndOptimizerKernelsGiveTheSameBitsOnAnyThreadCount() {
    // The pointwise kernels split rows (or columns, or chunks) over the pool; each element must
    // be computed the same way whatever the split.
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    var rng = SplitMix(state: 77)
    func random(_ n: Int) -> [Float] { (0..<n).map { _ in rng.float() } }
    let (B, H) = (37, 200)
    let gates = random(B * 4 * H), bias = random(4 * H), cPrev = random(B * H), dh = random(B * H), dc = random(B * H)
    let gruX = random(B * 3 * H), gruHH = random(B * 3 * H), wide = random(3000 * 130)
    let adam = (theta: random(100_000), grad: random(100_000), m: random(100_000), v: random(100_000).map { $0 * $0 })
    func run(threads: Int) -> [[Float]] {
      Kernels.numThreads = threads
      var g = gates, c = [Float](repeating: 0, count: B * H), tc = c, h = c
      recur_lstm_forward_step(Int32(B), Int32(H), &g, bias, cPrev, &c, &tc, &h)
      var dcv = dc, dg = [Float](repeating: 0, count: B * 4 * H)
      recur_lstm_backward_step(Int32(B), Int32(H), g, cPrev, tc, dh, &dcv, &dg)
      var x = gruX, hh = gruHH, gh = [Float](repeating: 0, count: B * H)
      recur_gru_forward_step(Int32(B), Int32(H), &x, &hh, bias, cPrev, &gh)
      var dgx = [Float](repeating: 0, count: B * 3 * H), dgh = dgx, direct = gh
      recur_gru_backward_step(Int32(B), Int32(H), x, hh, cPrev, dh, &dgx, &dgh, &direct)
      var biased = wide, sums = [Float](repeating: 0, count: 130)
      recur_add_row_bias(3000, 130, &biased, Array(bias.prefix(130)))
      recur_sum_rows(3000, 130, wide, &sums)
      var theta = adam.theta, m = adam.m, v = adam.v
      theta.withUnsafeMutableBufferPointer { t in m.withUnsafeMutableBufferPointer { mp in v.withUnsafeMutableBufferPointer { vp in
        adam.grad.withUnsafeBufferPointer { gp in
          var args = recur_adam_args(n: t.count, theta: t.baseAddress, exp_avg: mp.baseAddress, exp_avg_sq: vp.baseAddress,
                                     max_exp_avg_sq: nil, grad: gp.baseAddress, lerp_weight: 0.1, beta2: 0.999,
                                     one_minus_beta2: 0.001, neg_step_size: -2e-3, bias_correction2_sqrt: 0.05, eps: 1e-8,
                                     decoupled_decay: 0, l2_decay: 0, decay: 1, weight_decay: 0)
          recur_adam_update(&args)
        }
      } } }
      return [g, c, tc, h, dcv, dg, x, hh, gh, dgx, dgh, direct, biased, sums, theta, m, v]
    }
    let one = run(threads: 1), two = run(threads: 2), three = run(threads: 3)
    let names = ["lstm gates", "c", "tanh c", "h", "dc", "dgates", "gru act", "gru hh", "gru h", "dgx", "dgh", "dh direct",
                 "row bias", "row sums", "adam theta", "adam m", "adam v"]
    for i in names.indices {
      #expect(one[i].map(\.bitPattern) == two[i].map(\.bitPattern), "\(names[i]): 1 vs 2 threads")
      #expect(one[i].map(\.bitPattern) == three[i].map(\.bitPattern), "\(names[i]): 1 vs 3 threads")
    }
    // and the row sums are sums
    for j in [0, 64, 129] {
      let want = (0..<3000).map { Double(wide[$0 * 130 + j]) }.reduce(0, +)
      #expect(abs(Double(one[13][j]) - want) < 1e-3, "column \(j)")
    }
  }

  @Test func parallelForCoversEveryIndexOnce() {
    let saved = Kernels.numThreads
    defer { Kernels.numThreads = saved }
    let visit: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32) -> Void = { ctx, begin, end in
      let counts = ctx!.assumingMemoryBound(to: Int32.self)
      for i in Int(begin)..<Int(end) { counts[i] += 1 }
    }
    for threads in [1, 2, 3] {
      Kernels.numThreads = threads
      for n in [0, 1, 2, 3, 7, 100, 1000] {
        var counts = [Int32](repeating: 0, count: n + 1)
        counts.withUnsafeMutableBufferPointer { recur_parallel_for(Int32(n), visit, $0.baseAddress) }
        #expect(counts.prefix(n).allSatisfy { $0 == 1 } && counts[n] == 0, "threads \(threads), n \(n)")
        counts = [Int32](repeating: 0, count: n + 1)
        counts.withUnsafeMutableBufferPointer { recur_parallel_for_grain(Int32(n), 64, visit, $0.baseAddress) }
        #expect(counts.prefix(n).allSatisfy { $0 == 1 } && counts[n] == 0, "grain 64, threads \(threads), n \(n)")
      }
    }
    // a parallel-for inside a parallel-for runs on the calling thread, still covering everything
    Kernels.numThreads = 2
    let nested: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32) -> Void = { ctx, begin, end in
      let counts = ctx!.assumingMemoryBound(to: Int32.self)
      let inner: @convention(c) (UnsafeMutableRawPointer?, Int32, Int32) -> Void = { ctx, b, e in
        let row = ctx!.assumingMemoryBound(to: Int32.self)
        for j in Int(b)..<Int(e) { row[j] += 1 }
      }
      for i in Int(begin)..<Int(end) { recur_parallel_for(10, inner, counts + 10 * i) }
    }
    var grid = [Int32](repeating: 0, count: 100)
    grid.withUnsafeMutableBufferPointer { recur_parallel_for(10, nested, $0.baseAddress) }
    #expect(grid.allSatisfy { $0 == 1 })
  }

  @Test func peakMeasurementIsPositive() {
    forEachPath { isa, threads in
      guard threads == 1 else { return }
      let peak = recur_measure_peak_gflops(0.02)
      #expect(peak > 0.1 && peak < 1e5, "\(isa): peak \(peak) GFLOP/s")
    }
  }

  // MARK: Vector math

  /// Every 4099th float bit pattern (all exponents, both signs, subnormals, infinities, NaNs) plus
  /// the edges of each function's branches.
  private static let sweep: [Float] = {
    var xs: [Float] = []
    var u: UInt64 = 0
    while u < 1 << 32 {
      xs.append(Float(bitPattern: UInt32(u)))
      u += 4099
    }
    xs += [0, Float(-0.0), .infinity, -.infinity, .nan, 88.72, 88.7228394, 88.7229, 89, -87.33,
           -87.34, -103.97, -104, -150, 1e-30, -1e-30, .leastNonzeroMagnitude, 0.625, -0.625,
           Float(0.625).nextDown, 9, -9, 44, -44]
    for i in -2000...2000 { xs.append(Float(i) / 100) }  // dense where the gates live
    return xs
  }()

  enum VecFunction: String, CaseIterable, Sendable {
    case exp, sigmoid, tanh

    func reference(_ x: Double) -> Double {
      switch self {
      case .exp: return Foundation.exp(x)
      case .sigmoid: return 1 / (1 + Foundation.exp(-x))
      case .tanh: return Foundation.tanh(x)
      }
    }

    func run(_ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
      switch self {
      case .exp: recur_vexp(x, y, n)
      case .sigmoid: recur_vsigmoid(x, y, n)
      case .tanh: recur_vtanh(x, y, n)
      }
    }
  }

  @Test(arguments: VecFunction.allCases)
  func vectorMathMatchesDouble(_ f: VecFunction) {
    let xs = Self.sweep
    let reference = xs.map { f.reference(Double($0)) }
    let subnormalStep = Double(Float.leastNonzeroMagnitude)
    for isa in Kernels.supportedISAs {
      Kernels.withISA(isa) {
        var ys = [Float](repeating: 0, count: xs.count)
        xs.withUnsafeBufferPointer { x in
          ys.withUnsafeMutableBufferPointer { y in f.run(x.baseAddress!, y.baseAddress!, xs.count) }
        }
        var maxRel = 0.0, worst: Float = 0
        var bad: [String] = []
        for i in 0..<xs.count {
          let r = reference[i], y = Double(ys[i])
          if r.isNaN {
            if !y.isNaN { bad.append("\(f)(\(xs[i])) = \(y), want NaN") }
          } else if Float(r).isInfinite {
            // beyond the float range: the correctly rounded result overflows
            if Float(y) != Float(r) { bad.append("\(f)(\(xs[i])) = \(y), want \(Float(r))") }
          } else if abs(r) < Double(Float.leastNormalMagnitude) {
            // subnormal results carry few bits: allow two steps of the subnormal grid
            if !(abs(y - r) <= 2 * subnormalStep) { bad.append("\(f)(\(xs[i])) = \(y), want \(r)") }
          } else {
            let rel = abs(y - r) / abs(r)
            if !(rel <= maxRel) { maxRel = rel; worst = xs[i] }
          }
          if bad.count > 4 { break }
        }
        #expect(bad.isEmpty, "\(isa): \(bad.joined(separator: "; "))")
        #expect(maxRel <= 1e-6, "\(isa): \(f) max relative error \(maxRel) at x = \(worst)")
        // the sign of tanh(-0) and exact zero/one points
        if f == .tanh {
          var z = Float(-0.0), out: Float = 1
          recur_vtanh(&z, &out, 1)
          #expect(out == 0 && out.sign == .minus, "\(isa): tanh(-0) = \(out)")
        }
      }
    }
  }

  @Test(arguments: VecFunction.allCases)
  func vectorMathTailsAndInPlace(_ f: VecFunction) {
    for isa in Kernels.supportedISAs {
      Kernels.withISA(isa) {
        // every length up to a few vectors, at an odd offset, must touch exactly n elements
        for n in 0..<70 {
          var buf = [Float](repeating: -7, count: 80)
          let xs = (0..<80).map { Float($0) * 0.37 - 12 }
          xs.withUnsafeBufferPointer { x in
            buf.withUnsafeMutableBufferPointer { y in f.run(x.baseAddress! + 1, y.baseAddress! + 1, n) }
          }
          for i in 0..<80 {
            let want = i >= 1 && i <= n ? Float(f.reference(Double(xs[i]))) : -7
            #expect(abs(buf[i] - want) <= 1e-6 * abs(want), "\(isa) \(f) n=\(n) i=\(i): \(buf[i]) vs \(want)")
          }
        }
        // in place (x == y), across the parallel split of long arrays
        let n = 300_001
        var data = (0..<n).map { Float($0 % 1000) * 0.01 - 5 }
        let expected = data.map { Float(f.reference(Double($0))) }
        data.withUnsafeMutableBufferPointer { p in f.run(p.baseAddress!, p.baseAddress!, n) }
        var worst: Float = 0
        for i in 0..<n { worst = max(worst, abs(data[i] - expected[i]) / max(abs(expected[i]), 1e-30)) }
        #expect(worst <= 1e-6, "\(isa) \(f) in place: relative error \(worst)")
      }
    }
  }

  // MARK: AVX-512 path on CPUs without AVX-512

  /// The toolchain's clang, if on PATH.
  static let clang: String? = {
    let path = ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin"
    for dir in path.split(separator: ":") {
      let candidate = "\(dir)/clang"
      if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
    }
    return nil
  }()

  /// Where the CPU has AVX-512 every other test here runs that path for real. Elsewhere this
  /// compiles the AVX-512 sources against Sources/CRecurKernels/avx512_model/immintrin.h (a
  /// software model of the intrinsics) and checks the forced "avx512" path against double
  /// precision: GEMM edge tiles, transposes, packing, both thread counts, vector math and tails;
  /// and the one-pass LSTM/GRU/Elman cell rows against the portable passes, bit for bit.
  @Test(.enabled(if: recur_isa_supported("avx512") == 0 && KernelTests.clang != nil))
  func avx512PathAgainstSoftwareModel() throws {
    #if arch(x86_64)
    let clang = Self.clang!
    let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Sources/CRecurKernels")
    let work = try makeTemporaryDirectory("recur-avx512-model")
    defer { try? FileManager.default.removeItem(at: work) }
    try Self.avx512ModelDriver.write(to: work.appendingPathComponent("model_check.c"), atomically: true, encoding: .utf8)
    let common = ["-O0", "-fno-math-errno", "-I", sources.appendingPathComponent("include").path, "-I", sources.path]
    var compiles: [(name: String, flags: [String])] = [
      ("dispatch", ["-DRECUR_AVX512_MODEL"]), ("gemm", []), ("gemm_blocking", []), ("cache_info", []), ("threadpool", []), ("kernels_portable", []),
      ("kernels_avx2", []),
      ("kernels_avx512", ["-I", sources.appendingPathComponent("avx512_model").path, "-DRECUR_AVX512_MODEL",
                          "-DRECUR_TARGET_AVX512="]),
      ("recurrent_rows", ["-I", sources.appendingPathComponent("avx512_model").path, "-DRECUR_AVX512_MODEL",
                          "-DRECUR_TARGET_AVX512="]),
    ]
    var objects: [String] = []
    var running: [(Process, String)] = []
    func finish(_ p: Process, _ what: String) {
      p.waitUntilExit()
      #expect(p.terminationStatus == 0, "clang failed on \(what)")
    }
    while !compiles.isEmpty || !running.isEmpty {
      if let next = compiles.first, running.count < 2 {
        compiles.removeFirst()
        let object = work.appendingPathComponent(next.name + ".o").path
        objects.append(object)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: clang)
        p.arguments = common + next.flags + ["-c", sources.appendingPathComponent(next.name + ".c").path, "-o", object]
        try p.run()
        running.append((p, next.name))
      } else {
        let (p, name) = running.removeFirst()
        finish(p, name)
      }
    }
    let link = Process()
    link.executableURL = URL(fileURLWithPath: clang)
    let binary = work.appendingPathComponent("model_check").path
    link.arguments = common + [work.appendingPathComponent("model_check.c").path] + objects + ["-o", binary, "-lpthread", "-lm"]
    try link.run()
    finish(link, "model_check.c")
    let run = Process()
    run.executableURL = URL(fileURLWithPath: binary)
    let out = Pipe()
    run.standardOutput = out
    try run.run()
    let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    run.waitUntilExit()
    #expect(run.terminationStatus == 0 && output.contains("cases right") && !output.contains("FAIL"), "\(output)")
    #endif
  }

  static let avx512ModelDriver = #"""
// Checks the forced "avx512" path (built against avx512_model/immintrin.h) against double references.
#include "recur_kernels.h"
#include "recurrent_rows.h"
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static unsigned long long state = 0x9E3779B97F4A7C15ULL;
static float rnd(void) {
  state ^= state << 13; state ^= state >> 7; state ^= state << 17;
  return (float)((double)(state >> 11) / 9007199254740992.0) * 2 - 1;
}
static float *alloc(size_t n) {
  void *p = NULL;
  if (posix_memalign(&p, 64, (n + 16) * sizeof(float)) != 0) abort();
  return p;
}

static int gemm_case(int ta, int tb, int M, int N, int K, float alpha, float beta, int pad, int packed) {
  int lda = (ta ? M : K) + pad, ldb = (tb ? K : N) + pad, ldc = N + pad;
  size_t na = (size_t)(ta ? K : M) * lda, nb = (size_t)(tb ? N : K) * ldb, nc = (size_t)M * ldc;
  float *A = alloc(na), *B = alloc(nb), *C = alloc(nc), *C0 = alloc(nc);
  for (size_t i = 0; i < na; i++) A[i] = rnd();
  for (size_t i = 0; i < nb; i++) B[i] = rnd();
  for (size_t i = 0; i < nc; i++) C0[i] = C[i] = (beta == 0 && i % 3 == 0) ? NAN : rnd();
  if (packed) {
    float *P = alloc(recur_packed_b_size(K, N));
    recur_pack_b(tb, K, N, B, ldb, P);
    recur_sgemm_packed(M, N, K, alpha, A, lda, P, beta, C, ldc);
    free(P);
  } else {
    recur_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
  }
  int bad = 0;
  double u = FLT_EPSILON / 2, gamma = (K + 8) * u / (1 - (K + 8) * u);
  for (int i = 0; i < M; i++) {
    for (int j = 0; j < ldc; j++) {
      size_t at = (size_t)i * ldc + j;
      if (j >= N) {
        if (memcmp(&C[at], &C0[at], sizeof(float)) != 0) bad++;
        continue;
      }
      double s = 0, sa = 0;
      for (int k = 0; k < K; k++) {
        double x = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
        double y = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
        s += x * y;
        sa += fabs(x * y);
      }
      double cb = beta == 0 ? 0 : (double)beta * C0[at];
      double want = (double)alpha * s + cb;
      if (!(fabs(C[at] - want) <= gamma * (fabs(alpha) * sa + fabs(cb)) + 1e-30)) bad++;
    }
  }
  if (bad) printf("FAIL gemm ta=%d tb=%d %dx%dx%d alpha=%g beta=%g pad=%d packed=%d threads=%d: %d wrong\n",
                  ta, tb, M, N, K, alpha, beta, pad, packed, recur_get_num_threads(), bad);
  free(A); free(B); free(C); free(C0);
  return bad == 0;
}

static int vecmath(void) {
  int ok = 1;
  size_t n = 0, cap = 70000;
  float *x = alloc(cap), *y = alloc(cap);
  for (unsigned long long u = 0; u < 0x100000000ULL; u += 65537) { unsigned v = (unsigned)u; memcpy(&x[n++], &v, 4); }
  const float special[] = {0.0f, -0.0f, INFINITY, -INFINITY, NAN, 88.72f, 88.7228394f, 88.7229f, -87.33f,
                           -103.97f, -104.0f, 1e-30f, -1e-30f, 1e-45f, 0.625f, -0.625f, 9.0f, -9.0f, 0.5f, -3.0f};
  for (size_t i = 0; i < sizeof special / sizeof special[0]; i++) x[n++] = special[i];
  for (int f = 0; f < 3; f++) {
    if (f == 0) recur_vexp(x, y, n); else if (f == 1) recur_vsigmoid(x, y, n); else recur_vtanh(x, y, n);
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
      double xd = x[i], r = f == 0 ? exp(xd) : f == 1 ? 1 / (1 + exp(-xd)) : tanh(xd), yd = y[i];
      int bad;
      if (isnan(r)) bad = !isnan(yd);
      else if (isinf((float)r)) bad = yd != (float)r;
      else if (fabs(r) < FLT_MIN) bad = !(fabs(yd - r) <= 2 * 1.401298464324817e-45);
      else { double rel = fabs(yd - r) / fabs(r); if (rel > worst) worst = rel; bad = !(rel <= 1e-6) || signbit(yd) != signbit(r); }
      if (bad && ok) printf("FAIL %s(%.9g) = %.9g, want %.9g\n", f == 0 ? "exp" : f == 1 ? "sigmoid" : "tanh", x[i], yd, r);
      if (bad) ok = 0;
    }
    if (worst > 1e-6) { printf("FAIL vector math %d: relative error %g\n", f, worst); ok = 0; }
  }
  // every tail length at an odd offset touches exactly n elements
  for (size_t len = 0; len < 70; len++) {
    float a[80], b[80];
    for (int i = 0; i < 80; i++) { a[i] = (float)i * 0.37f - 12; b[i] = -7; }
    recur_vtanh(a + 1, b + 1, len);
    for (size_t i = 0; i < 80; i++) {
      float want = i >= 1 && i < len + 1 ? (float)tanh(a[i]) : -7;
      if (!(fabsf(b[i] - want) <= 1e-6f * fabsf(want))) { if (ok) printf("FAIL tail %zu at %zu\n", len, i); ok = 0; }
    }
  }
  free(x); free(y);
  return ok;
}

/// The one-pass AVX-512 cell rows give the portable passes' bits (the portable passes call the
/// forced avx512 vector math), for every tail length, with and without b_hh, and leave the
/// floats past the row untouched. Buffers: 4 gate blocks of S = n + 3 ≤ 43 floats + 6 guard floats.
static int rows(void) {
  enum { N = 4 * 43 + 6 };
  float a[7][N], b[7][N];
  int ok = 1;
  for (int n = 1; n <= 40; n++) {
    for (int bias = 0; bias <= 1; bias++) {
      for (int kind = 0; kind < 4; kind++) {  // LSTM (S = n + 3), GRU, Elman tanh, Elman ReLU
        for (int k = 0; k < 7; k++) for (int i = 0; i < N; i++) a[k][i] = b[k][i] = 4 * rnd();
        a[1][0] = b[1][0] = NAN;  // a NaN pre-activation goes through both paths alike
        const float *bhh = bias ? a[6] : NULL;
        if (kind == 0) {
          recur_lstm_row_portable(n, n + 3, a[1], bhh, a[2], a[3], a[4], a[5]);
          recur_lstm_row_avx512(n, n + 3, b[1], bhh, b[2], b[3], b[4], b[5]);
        } else if (kind == 1) {
          recur_gru_row_portable(n, a[1], a[2], bhh, a[3], a[4]);
          recur_gru_row_avx512(n, b[1], b[2], bhh, b[3], b[4]);
        } else {
          recur_rnn_row_portable(n, a[1], bhh, kind == 3, a[4]);
          recur_rnn_row_avx512(n, b[1], bhh, kind == 3, b[4]);
        }
        if (memcmp(a, b, sizeof a) != 0) {
          if (ok) printf("FAIL cell row kind %d n %d bias %d differs from the portable passes\n", kind, n, bias);
          ok = 0;
        }
      }
    }
  }
  return ok;
}

int main(void) {
  if (!recur_force_isa("avx512")) { printf("FAIL: the avx512 path is not available in this build\n"); return 1; }
  if (strcmp(recur_isa_name(), "avx512") != 0) { printf("FAIL: forced path reports %s\n", recur_isa_name()); return 1; }
  const int sizes[][3] = {{1, 1, 1}, {1, 37, 29}, {9, 23, 1}, {17, 1, 40}, {13, 50, 70}, {8, 48, 16},
                          {37, 100, 300}, {250, 40, 20}, {64, 96, 257}, {20, 130, 16}};
  const float scalars[][2] = {{1, 0}, {1, 1}, {-0.5f, 0.3f}, {2.5f, -1}};
  int total = 0, passed = 0, v = 0;
  for (int threads = 1; threads <= 2; threads++) {
    recur_set_num_threads(threads);
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++) {
      for (int ta = 0; ta < 2; ta++) {
        for (int tb = 0; tb < 2; tb++) {
          for (int packed = 0; packed <= !ta; packed++) {
            const float *ab = scalars[v++ % 4];
            total++;
            passed += gemm_case(ta, tb, sizes[s][0], sizes[s][1], sizes[s][2], ab[0], ab[1], (int)(s % 2) * 5, packed);
          }
        }
      }
    }
    total += 4;
    passed += gemm_case(0, 0, 5, 7, 0, 1, 0.5f, 0, 0);
    passed += gemm_case(0, 1, 420, 48, 64, 0.75f, 0.5f, 0, 0);  // row chunks
    passed += gemm_case(0, 1, 40, 400, 300, -1, 0.5f, 0, 0);    // panel groups
    passed += gemm_case(0, 0, 40, 400, 300, 1, 0, 0, 1);
  }
  recur_set_num_threads(3);  // several row chunks, each cut into panel groups
  total += 2;
  passed += gemm_case(0, 1, 300, 200, 100, 1, 0.5f, 0, 0);
  passed += gemm_case(1, 0, 300, 200, 100, 1, 1, 0, 0);
  total += 2;
  passed += vecmath();
  passed += rows();
  printf("avx512 model check: %d of %d cases right\n", passed, total);
  return passed != total;
}
"""#

  // MARK: CLI

  @Test func benchGemmPrintsJSON() throws {
    let run = try runRecur(["bench", "gemm", "--json", "--threads", "1,2", "--seconds", "0.01",
                            "--shapes", "32x64x16,7x50x33"])
    #expect(run.status == 0, "\(run.stderr)")
    let object = try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any]
    let rows = object?["rows"] as? [[String: Any]] ?? []
    #expect(rows.count == 4)
    #expect((object?["peak_gflops_per_core"] as? Double ?? 0) > 0)
    for row in rows {
      #expect((row["packed_gflops"] as? Double ?? 0) > 0)
      #expect((row["unpacked_gflops"] as? Double ?? 0) > 0)
    }
    // RECUR_ISA picks the path at start-up
    let portable = try runRecur(["bench", "gemm", "--json", "--threads", "1", "--seconds", "0.01",
                                 "--shapes", "8x16x8"], environment: ["RECUR_ISA": "portable"])
    let isa = (try JSONSerialization.jsonObject(with: Data(portable.stdout.utf8)) as? [String: Any])?["isa"] as? String
    #expect(isa == "portable")
    // --matmul-precision medium names the path it timed (bfloat16 only where the CPU has it).
    let medium = try runRecur(["bench", "gemm", "--json", "--threads", "1", "--seconds", "0.01", "--shapes", "16x32x16",
                               "--matmul-precision", "medium"])
    let m = try JSONSerialization.jsonObject(with: Data(medium.stdout.utf8)) as? [String: Any]
    #expect(m?["matmul_precision"] as? String == "medium")
    #expect(m?["path"] as? String == (Kernels.bfloat16Available ? "bfloat16 products" : "float32"))
    #expect((m?["rows"] as? [[String: Any]])?.count == 1)
  }
}
