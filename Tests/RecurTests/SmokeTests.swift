import Testing
@testable import Recur

@Test func kernelsReportAnISA() {
  #expect(["avx512", "avx2", "portable"].contains(Kernels.isa))
}
