import ArgumentParser
import Foundation
import Recur

/// `recur bench gemm`: SGEMM speed at the shapes of recurrent layers, against the FMA peak.
struct BenchGemm: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gemm",
    abstract: "Time SGEMM at RNN shapes, with pre-packed and unpacked B, as % of the FMA peak.",
    discussion: """
      Shapes M×N×K: M (batch) in 32, 64, 128 and K (hidden) in 128, 256, 512, 1024 with N = 4K \
      (the recurrent GEMM h·W_hhᵀ of an LSTM), plus 6400×2048×512 (the input projection of \
      T·B = 6400 rows). B is a weight stored [N, K] as in PyTorch, used transposed. "packed" times \
      recur_sgemm_packed with B packed once beforehand (what the layers do with W_hh); "unpacked" \
      times recur_sgemm, which packs B on every call. Each figure is the median of repeated runs. \
      The peak is measured on one core with an FMA loop of the active ISA; with T threads, \
      % of peak is against T × that per-core peak. --matmul-precision medium times the bfloat16 path \
      (AVX512_BF16 only; elsewhere it is float32), still against the float32 FMA peak, so it may pass 100 %.
      """
  )

  @Flag(help: "Print JSON instead of a table.") var json = false
  @Option(help: "Thread counts to measure (comma-separated).") var threads = "1,2"
  @Option(help: "Seconds of repeated runs behind each median.") var seconds = 0.3
  @Option(help: "Shapes to run instead of the default set, as MxNxK (comma-separated), e.g. 64x2048x512.") var shapes: String?
  @Option(name: .customLong("matmul-precision"), help: "highest (float32) or medium (bfloat16 products where the CPU has AVX512_BF16; default highest).")
  var matmulPrecision: Kernels.MatmulPrecision = .highest

  static let defaultShapes: [GemmShape] =
    [32, 64, 128].flatMap { m in [128, 256, 512, 1024].map { k in GemmShape(m: m, n: 4 * k, k: k) } }
    + [GemmShape(m: 6400, n: 2048, k: 512)]

  private var threadCounts: [Int] {
    threads.split(separator: ",").compactMap { Int($0.trimmingCharacters(in: .whitespaces)) }
  }

  private var shapeList: [GemmShape] {
    guard let shapes else { return Self.defaultShapes }
    return shapes.split(separator: ",").compactMap { GemmShape(parsing: String($0)) }
  }

  func validate() throws {
    let counts = threads.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
    for c in counts where Int(c).map({ $0 < 1 }) ?? true {
      throw ValidationError("--threads takes thread counts >= 1 separated by commas (e.g. 1,2), got '\(c)'")
    }
    for c in threadCounts where c > Kernels.maximumThreads {
      throw ValidationError("--threads must be at most \(Kernels.maximumThreads) (the kernels' thread pool), got \(c)")
    }
    guard seconds > 0, seconds <= BenchLimits.seconds else {
      throw ValidationError("--seconds must be in (0, \(Int(BenchLimits.seconds))], got \(seconds)")
    }
    if let shapes {
      for s in shapes.split(separator: ",") {
        guard let shape = GemmShape(parsing: String(s)), max(shape.m, shape.n, shape.k) <= Int(Int32.max) else {
          throw ValidationError("bad shape '\(s)': write MxNxK with positive integers up to \(Int32.max), e.g. 64x2048x512")
        }
        var floats = SizeTally()
        floats.add(shape.m, shape.k)
        floats.add(shape.k, shape.n)
        floats.add(2, shape.m, shape.n)
        try BenchLimits.check(floats: floats, what: "the matrices of \(s)", flags: "--shapes")
      }
    }
  }

  func run() throws {
    Kernels.matmulPrecision = matmulPrecision   // before any packing: packed B follows the precision
    let path = matmulPrecision == .medium && Kernels.bfloat16Available ? "bfloat16 products" : "float32"
    let peak = Kernels.measurePeakGFLOPS(seconds: max(0.5, 2 * seconds))
    let blocking = Kernels.gemmBlocking
    if !json {
      print("recur bench gemm — \(Kernels.isa), \(path), per-core float32 FMA peak \(GemmBenchRow.format(peak, 1)) GFLOP/s, median of repeated runs")

      print("blocking: K block ≤ \(blocking.kcMax), M block \(blocking.mc) rows (L1D \(blocking.l1dBytes >> 10) KiB, L2 \(blocking.l2Bytes >> 10) KiB from \(blocking.source))")
      print("(% of peak with T threads is against T × the per-core peak)")
      print(GemmBenchRow.header)
    }
    var rows: [GemmBenchRow] = []
    for shape in shapeList {
      let operands = GemmOperands(shape)
      defer { operands.deallocate() }
      for t in threadCounts {
        Kernels.numThreads = t
        let packed = medianGFLOPS(shape) { operands.runPacked() }
        let unpacked = medianGFLOPS(shape) { operands.runUnpacked() }
        let row = GemmBenchRow(shape: shape, threads: t, packed: packed, unpacked: unpacked, peak: peak * Double(t))
        rows.append(row)
        if !json {
          print(row.tableLine)
          StandardStream.output.flush()
        }
      }
    }
    if json {
      let object: [String: Any] = [
        "isa": Kernels.isa, "matmul_precision": matmulPrecision.rawValue, "path": path, "peak_gflops_per_core": peak,
        "blocking": [
          "kc_max": blocking.kcMax, "mc": blocking.mc, "l1d_bytes": blocking.l1dBytes, "l2_bytes": blocking.l2Bytes,
          "source": blocking.source,
        ] as [String: Any],
        "rows": rows.map(\.json),
      ]
      let data = try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])
      print(String(decoding: data, as: UTF8.self))
    }
  }

  /// GFLOP/s of the median sample; a sample is enough back-to-back calls to last >= 1 ms, and
  /// samples are taken for `seconds` (at least 5).
  private func medianGFLOPS(_ shape: GemmShape, _ body: () -> Void) -> Double {
    body()  // warm-up: caches, pool threads, scratch buffers
    let t0 = now()
    body()
    let once = max(now() - t0, 1e-7)
    let batch = max(1, Int((1e-3 / once).rounded(.up)))
    var samples: [Double] = []
    let start = now()
    repeat {
      let s = now()
      for _ in 0..<batch { body() }
      samples.append((now() - s) / Double(batch))
    } while samples.count < 5 || (now() - start < seconds && samples.count < 1000)
    samples.sort()
    return shape.flops / samples[samples.count / 2] * 1e-9
  }

  private func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) * 1e-9 }
}

/// M×N×K of C[M,N] = A[M,K] · B[K,N].
struct GemmShape {
  var m: Int, n: Int, k: Int

  init(m: Int, n: Int, k: Int) {
    self.m = m
    self.n = n
    self.k = k
  }

  init?(parsing text: String) {
    let parts = text.trimmingCharacters(in: .whitespaces).lowercased().split(separator: "x").compactMap { Int($0) }
    guard parts.count == 3, parts.allSatisfy({ $0 > 0 }) else { return nil }
    self.init(m: parts[0], n: parts[1], k: parts[2])
  }

  var flops: Double { 2 * Double(m) * Double(n) * Double(k) }
  var label: String { "\(m)x\(n)x\(k)" }
}

/// A, a weight W stored [N, K] (B = Wᵀ), its packed copy and C, 64-byte aligned.
private struct GemmOperands {
  let shape: GemmShape
  let a: UnsafeMutablePointer<Float>
  let w: UnsafeMutablePointer<Float>
  let packed: UnsafeMutablePointer<Float>
  let c: UnsafeMutablePointer<Float>

  init(_ shape: GemmShape) {
    self.shape = shape
    a = Self.allocate(shape.m * shape.k)
    w = Self.allocate(shape.n * shape.k)
    c = Self.allocate(shape.m * shape.n)
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    for (p, count) in [(a, shape.m * shape.k), (w, shape.n * shape.k)] {
      for i in 0..<count {
        state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        p[i] = Float(Int64(bitPattern: state >> 11) % 2001 - 1000) / 1000
      }
    }
    c.initialize(repeating: 0, count: shape.m * shape.n)
    packed = Self.allocate(Kernels.packedBCount(k: shape.k, n: shape.n))
    Kernels.packB(transB: true, k: shape.k, n: shape.n, b: w, ldb: shape.k, into: packed)
  }

  private static func allocate(_ count: Int) -> UnsafeMutablePointer<Float> {
    UnsafeMutableRawPointer.allocate(byteCount: max(1, count) * 4, alignment: 64)
      .bindMemory(to: Float.self, capacity: max(1, count))
  }

  func runPacked() {
    Kernels.sgemmPacked(m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, packedB: packed, c: c, ldc: shape.n)
  }

  func runUnpacked() {
    Kernels.sgemm(transB: true, m: shape.m, n: shape.n, k: shape.k, a: a, lda: shape.k, b: w, ldb: shape.k, c: c, ldc: shape.n)
  }

  func deallocate() {
    for p in [a, w, packed, c] { UnsafeMutableRawPointer(p).deallocate() }
  }
}

/// One line of `recur bench gemm`.
struct GemmBenchRow {
  var shape: GemmShape
  var threads: Int
  var packed: Double
  var unpacked: Double
  /// Peak of `threads` cores.
  var peak: Double

  static let header = pad("shape (MxNxK)", 18, left: true) + pad("threads", 8) + pad("packed GFLOP/s", 16)
    + pad("% peak", 8) + pad("unpacked GFLOP/s", 18) + pad("% peak", 8)

  var tableLine: String {
    let (pad, format) = (Self.pad, Self.format)
    return pad(shape.label, 18, true) + pad("\(threads)", 8, false) + pad(format(packed, 1), 16, false)
      + pad(format(100 * packed / peak, 1), 8, false) + pad(format(unpacked, 1), 18, false)
      + pad(format(100 * unpacked / peak, 1), 8, false)
  }

  static func format(_ x: Double, _ digits: Int) -> String { String(format: "%.\(digits)f", x) }

  static func pad(_ s: String, _ width: Int, left: Bool = false) -> String {
    let fill = String(repeating: " ", count: max(0, width - s.count))
    return left ? s + fill : fill + s
  }

  var json: [String: Any] {
    [
      "m": shape.m, "n": shape.n, "k": shape.k, "threads": threads,
      "packed_gflops": packed, "packed_pct_of_peak": 100 * packed / peak,
      "unpacked_gflops": unpacked, "unpacked_pct_of_peak": 100 * unpacked / peak,
    ]
  }
}

