import CRecurKernels

/// Process-wide settings of the compute kernels, and thin wrappers over the C GEMM for code that
/// works on raw buffers (benchmarks, custom layers).
///
/// The kernels live in the `CRecurKernels` C target: SGEMM with BLIS-style packing and
/// register-blocked micro-kernels, vector exp/sigmoid/tanh and a persistent thread pool, each
/// with an AVX-512, an AVX2+FMA and a portable path chosen once from CPUID.
public enum Kernels {
  /// The instruction-set path in use ("avx512", "avx2" or "portable"); `RECUR_ISA` forces one.
  public static var isa: String { String(cString: recur_isa_name()) }

  /// Threads used by GEMM and pointwise kernels (clamped to 1…``maximumThreads``).
  public static var numThreads: Int {
    get { Int(recur_get_num_threads()) }
    set { recur_set_num_threads(Int32(min(max(1, newValue), maximumThreads))) }
  }

  /// The most threads the kernels' pool runs.
  public static var maximumThreads: Int { Int(recur_max_threads()) }

  /// The paths this build and CPU can run, best first (a subset of avx512, avx2, portable).
  public static var supportedISAs: [String] {
    ["avx512", "avx2", "portable"].filter { recur_isa_supported($0) != 0 }
  }

  /// Runs `body` with the calling thread's kernels on the path `isa`, then restores the
  /// process-wide choice. Returns nil (without running `body`) if the CPU cannot run `isa`.
  /// Per thread: other threads keep their path. A B packed inside is only valid inside.
  @discardableResult
  static func withISA<T>(_ isa: String, _ body: () throws -> T) rethrows -> T? {
    guard recur_force_isa(isa) != 0 else { return nil }
    defer { recur_force_isa(nil) }
    return try body()
  }

  /// How float32 matrix products compute, as `torch.set_float32_matmul_precision`.
  public enum MatmulPrecision: String, Sendable, Codable, CaseIterable {
    /// Products in float32: results agree with PyTorch's float32 to rounding (the default).
    case highest
    /// GEMMs may round their operands to bfloat16 (8 significant bits) and sum the products in
    /// float32: about twice the speed where the CPU has AVX512_BF16 (`bfloat16Available`),
    /// float32 elsewhere. For training, where the noise is far below that of SGD; weights,
    /// activations, gradients and optimiser state stay float32.
    case medium

    /// The RECUR_MATMUL_* constant of the C kernels.
    var kernelValue: Int32 { self == .medium ? Int32(RECUR_MATMUL_MEDIUM) : Int32(RECUR_MATMUL_HIGHEST) }
  }

  /// The precision of GEMMs: setting it sets the process-wide default (`.highest` at start);
  /// reading it gives the one in effect on the calling thread (see `withMatmulPrecision`).
  /// Packed weights are repacked when it changes.
  public static var matmulPrecision: MatmulPrecision {
    get { recur_get_matmul_precision() == Int32(RECUR_MATMUL_MEDIUM) ? .medium : .highest }
    set { recur_set_matmul_precision(newValue.kernelValue) }
  }

  /// Whether `.medium` precision runs bfloat16 GEMMs on this CPU and path (AVX512_BF16).
  public static var bfloat16Available: Bool { recur_bf16_gemm_available() != 0 }

  /// Runs `body` with the calling thread's GEMMs at `precision`, then restores the thread's
  /// previous setting. Per thread: other threads keep theirs.
  public static func withMatmulPrecision<T>(_ precision: MatmulPrecision, _ body: () throws -> T) rethrows -> T {
    let saved = recur_get_thread_matmul_precision()
    recur_set_thread_matmul_precision(precision.kernelValue)
    defer { recur_set_thread_matmul_precision(saved) }
    return try body()
  }

  /// Single-core peak of the active path in GFLOP/s: an FMA loop with enough independent
  /// accumulators to fill every FMA pipe, best ~2 ms burst over about `seconds`.
  public static func measurePeakGFLOPS(seconds: Double = 0.5) -> Double {
    recur_measure_peak_gflops(seconds)
  }

  /// The GEMM blocking the active path uses on this CPU, and the cache sizes it comes from.
  public struct GemmBlocking: Sendable {
    /// Largest K block (a K block × NR panel of B stays in L1).
    public var kcMax: Int
    /// Rows of A per M block (an M block × K block of packed A stays in L2).
    public var mc: Int
    /// L1 data cache and L2 sizes in bytes.
    public var l1dBytes: Int
    public var l2Bytes: Int
    /// Where the sizes come from: "CPUID", "RECUR_L1D_KIB/RECUR_L2_KIB" or "defaults".
    public var source: String
  }

  /// The GEMM blocking of the active ISA and matmul precision.
  public static var gemmBlocking: GemmBlocking {
    var kc: Int32 = 0, mc: Int32 = 0, source: Int32 = 0
    var l1 = 0, l2 = 0
    recur_gemm_blocking(&kc, &mc, &l1, &l2, &source)
    let name = source == 1 ? "CPUID" : source == 2 ? "RECUR_L1D_KIB/RECUR_L2_KIB" : "defaults"
    return GemmBlocking(kcMax: Int(kc), mc: Int(mc), l1dBytes: l1, l2Bytes: l2, source: name)
  }

  // MARK: - GEMM on raw buffers (row-major float32)

  /// C[m,n] = alpha · op(A) · op(B) + beta · C, with op(A) = A[m,k] (lda ≥ k) or, if `transA`,
  /// A stored [k,m] (lda ≥ m); op(B) = B[k,n] (ldb ≥ n) or, if `transB`, B stored [n,k]
  /// (ldb ≥ k). beta == 0 overwrites C (NaNs in C are ignored).
  public static func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int, alpha: Float = 1,
    a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int, beta: Float = 0,
    c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    recur_sgemm(
      transA ? 1 : 0, transB ? 1 : 0, Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b,
      Int32(ldb), beta, c, Int32(ldc))
  }

  /// Floats a packed copy of op(B) [k,n] needs on the active path.
  public static func packedBCount(k: Int, n: Int) -> Int {
    recur_packed_b_size(Int32(k), Int32(n))
  }

  /// Packs op(B) [k,n] (B[k,n] or, if `transB`, B stored [n,k]) into `packed`
  /// (`packedBCount(k:n:)` floats, 64-byte aligned) for repeated `sgemmPacked` calls.
  public static func packB(
    transB: Bool = false, k: Int, n: Int, b: UnsafePointer<Float>, ldb: Int,
    into packed: UnsafeMutablePointer<Float>
  ) {
    recur_pack_b(transB ? 1 : 0, Int32(k), Int32(n), b, Int32(ldb), packed)
  }

  /// C[m,n] = alpha · A[m,k] · B + beta · C with B packed by `packB`.
  public static func sgemmPacked(
    m: Int, n: Int, k: Int, alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    packedB: UnsafePointer<Float>, beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    recur_sgemm_packed(
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), packedB, beta, c, Int32(ldc))
  }
}
