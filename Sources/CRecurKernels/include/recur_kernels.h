#ifndef RECUR_KERNELS_H
#define RECUR_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

// MARK: - CPU dispatch

/// Name of the instruction-set path in use: "avx512", "avx2" or "portable".
/// Chosen once from CPUID; the environment variable RECUR_ISA=avx512|avx2|portable forces one
/// (a forced ISA the CPU lacks falls back to the best available).
const char *recur_isa_name(void);

/// 1 if this build and this CPU can run the path `name` ("avx512", "avx2" or "portable"), else 0.
int recur_isa_supported(const char *name);

/// Makes the calling thread use the path `name` ("avx512", "avx2", "portable") for every kernel it
/// calls from now on (including the work those kernels hand to the pool); NULL or "auto" returns
/// it to the process-wide choice. Returns 1 on success, 0 (and changes nothing) if the name is
/// unknown or the CPU lacks that ISA. Per thread, so tests of each path can run while other
/// threads compute. For tests and benchmarks: a B packed by recur_pack_b is only valid for the
/// path that packed it (recur_sgemm_packed stops with a message if they differ).
int recur_force_isa(const char *name);

// MARK: - Matmul precision

/// How float32 GEMMs compute, as torch.set_float32_matmul_precision: RECUR_MATMUL_HIGHEST
/// multiplies in float32 (the default); RECUR_MATMUL_MEDIUM lets GEMMs round their operands to
/// bfloat16 and sum the products in float32 (about twice the speed, ~3 significant digits per
/// operand) where the CPU has AVX512_BF16, and changes nothing elsewhere. A B packed by
/// recur_pack_b is only valid for the precision it was packed under (recur_packed_b_format).
enum { RECUR_MATMUL_HIGHEST = 0, RECUR_MATMUL_MEDIUM = 1 };

/// The process-wide precision (threads without their own setting follow it).
void recur_set_matmul_precision(int precision);

/// The calling thread's own precision for the GEMMs it starts (including the work they hand to
/// the pool), overriding the process-wide one; -1 returns the thread to the process-wide one.
void recur_set_thread_matmul_precision(int precision);
/// The calling thread's own setting, -1 if none.
int recur_get_thread_matmul_precision(void);

/// The precision in effect on the calling thread.
int recur_get_matmul_precision(void);

/// 1 if medium precision takes effect on this CPU and path (AVX512_BF16 on the avx512 path).
int recur_bf16_gemm_available(void);

/// An identifier of the packed-B format recur_pack_b would write now (instruction set and
/// precision): a cached packed B is still valid while this is unchanged.
int recur_packed_b_format(void);

// MARK: - Thread pool

/// Sets the number of threads GEMM and the pointwise kernels may use (>= 1). Default: the number of cores.
void recur_set_num_threads(int n);
/* The most threads the pool runs (workers + the caller). */
int recur_max_threads(void);
int recur_get_num_threads(void);

/// Runs fn(ctx, begin, end) over T = min(n, recur_get_num_threads()) contiguous chunks
/// [t*n/T, (t+1)*n/T) that cover [0, n) exactly once, in parallel on the calling thread and the
/// pool's workers (each chunk runs on whichever thread takes it first, so a core that is busy
/// elsewhere does not hold the call up), and returns when all are done. If the pool is busy (a
/// call from inside a pool task, or from another thread during a GEMM) everything runs on the
/// calling thread as fn(ctx, 0, n). fn must not depend on how [0, n) is cut or on which thread
/// runs a chunk.
void recur_parallel_for(int n, void (*fn)(void *ctx, int begin, int end), void *ctx);

/// recur_parallel_for with at least `grain` indices per chunk (fewer threads for small n), so
/// small pointwise jobs stay on the calling thread: recur_parallel_for_grain(n, 4096, ...).
void recur_parallel_for_grain(int n, int grain, void (*fn)(void *ctx, int begin, int end),
                              void *ctx);

// MARK: - GEMM (row-major, float32)

/// C[M,N] = alpha * op(A) * op(B) + beta * C.
/// op(A) is A[M,K] (lda >= K) or, if transA, A stored as [K,M] (lda >= M).
/// op(B) is B[K,N] (ldb >= N) or, if transB, B stored as [N,K] (ldb >= K).
/// beta == 0 overwrites C (NaNs in C are ignored); beta == 1 accumulates.
void recur_sgemm(int transA, int transB, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb,
                 float beta, float *C, int ldc);

/// The GEMM blocking of the active path (ISA and matmul precision) on this CPU: the largest K
/// block, the M block, and the L1D and L2 sizes in bytes they are derived from (`source`: 0
/// built-in defaults, 1 CPUID, 2 RECUR_L1D_KIB / RECUR_L2_KIB). Any pointer may be NULL.
void recur_gemm_blocking(int *kc_max, int *mc, long *l1d_bytes, long *l2_bytes, int *source);

/// Number of floats a packed copy of op(B) [K,N] needs (for the active ISA path: its panel width
/// differs; the size includes a 16-float header that records ISA and shape).
size_t recur_packed_b_size(int K, int N);

/// Packs op(B) [K,N] (B[K,N] or, if transB, B stored [N,K]) into `packed` (recur_packed_b_size floats,
/// 64-byte aligned) for repeated use by recur_sgemm_packed.
void recur_pack_b(int transB, int K, int N, const float *B, int ldb, float *packed);

/// C[M,N] = alpha * A[M,K] * Bpacked[K,N] + beta * C.
void recur_sgemm_packed(int M, int N, int K, float alpha, const float *A, int lda,
                        const float *packed, float beta, float *C, int ldc);

/// C[s][M,N_s] = A[M,K] * Bpacked[s][K,N_s] + beta * C[s] for s < count (N_s: the width B s was
/// packed with), on the calling thread alone: A is packed once for all of them. For callers that
/// split their work over threads themselves (the LSTM recurrence, by hidden units); each element
/// is summed in the order recur_sgemm_packed sums it.
void recur_sgemm_packed_multi(int M, int K, const float *A, int lda, int count,
                              const float *const *packed, float beta, float *const *C, int ldc);

// MARK: - Vector math (max relative error <= 1e-6 against double precision)

void recur_vexp(const float *x, float *y, size_t n);
void recur_vsigmoid(const float *x, float *y, size_t n);
void recur_vtanh(const float *x, float *y, size_t n);

// MARK: - Benchmark support

/// Measures the single-core FMA peak of the active ISA in GFLOP/s (runs ~`seconds`).
double recur_measure_peak_gflops(double seconds);

#ifdef __cplusplus
}
#endif

#endif
