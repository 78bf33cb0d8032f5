import CRecurKernels

/// Process-wide settings of the compute kernels.
public enum Kernels {
  /// The instruction-set path in use ("avx512", "avx2" or "portable"); `RECUR_ISA` forces one.
  public static var isa: String { String(cString: recur_isa_name()) }

  /// Threads used by GEMM and pointwise kernels.
  public static var numThreads: Int {
    get { Int(recur_get_num_threads()) }
    set { recur_set_num_threads(Int32(max(1, newValue))) }
  }
}
