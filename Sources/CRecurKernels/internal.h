// Internal interfaces of CRecurKernels: the per-ISA operation table, the thread pool and
// per-thread scratch memory. Not part of the public header; other C files of this target may use it.
#ifndef RECUR_INTERNAL_H
#define RECUR_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "recur_kernels.h"

// MARK: - Instruction sets

enum recur_isa {
  RECUR_ISA_PORTABLE = 0,
  RECUR_ISA_AVX2 = 1,
  RECUR_ISA_AVX512 = 2,
  RECUR_ISA_COUNT = 3,
};

/// Everything that differs between instruction sets. One constant table per ISA
/// (kernels_portable.c, kernels_avx2.c, kernels_avx512.c); gemm.c is ISA-independent and
/// only talks to the kernels through this table.
///
/// GEMM terms (BLIS): op(A) is cut into MR-row micro-panels, op(B) into NR-column
/// micro-panels, K into blocks of at most kc_max, M into blocks of mc rows per A pack.
typedef struct recur_isa_ops {
  int isa;           // enum recur_isa
  const char *name;  // "portable" | "avx2" | "avx512"
  int bf16;          // 1: GEMM operands are packed as bfloat16 pairs (recur_ops_avx512_bf16)
  int mr, nr;        // micro-tile (rows of A, columns of B)
  int kc_max;        // K block where the cache sizes are unknown (gemm.c derives it from the L1D)
  int mc;            // M block (at most; gemm.c shrinks it to fit the L2), multiple of mr

  /// Packs rows [i0, i0+mc) x columns [k0, k0+kc) of op(A) into ceil(mc/mr) micro-panels of
  /// kc x mr floats (row index fastest), rows past mc zero-filled.
  void (*pack_a)(int transA, const float *A, long lda, int i0, int mc, int k0, int kc, float *Ap);

  /// Packs rows [k0, k0+kc) x columns [j0, j0+nr) of op(B) (nr <= NR) into one kc x NR
  /// micro-panel (column index fastest), columns past nr zero-filled.
  void (*pack_b_panel)(int transB, const float *B, long ldb, int k0, int kc, int j0, int nr,
                       float *Bp);

  /// For one K block: C[0:mc, panels jp0..jp1) (+)= alpha * Ap * Bp.
  /// Ap: packed A block (pack_a layout); Bp: the packed micro-panel jp0 of this K block,
  /// following panels contiguous (kc*NR floats each); C points at row 0 / column 0 of the
  /// block, n = total number of columns of C (to clip the last panel).
  /// beta == 0 overwrites C without reading it. `next`: the panel the caller runs after this
  /// range (NULL: none or unknown), prefetched while the last panel of the range is in use.
  void (*macro_kernel)(int mc, int kc, const float *Ap, const float *Bp, int jp0, int jp1, int n,
                       float *C, long ldc, float alpha, float beta, const float *next);

  void (*vexp)(const float *x, float *y, size_t n);
  void (*vsigmoid)(const float *x, float *y, size_t n);
  void (*vtanh)(const float *x, float *y, size_t n);

  /// Runs `iters` iterations of an FMA loop with enough independent accumulators to fill
  /// every FMA pipe; returns the number of floating-point operations done.
  double (*fma_loop)(long iters);
} recur_isa_ops;

/// The table of one ISA from the functions named after it (gemm_template.h's pack_a_<sfx>,
/// pack_b_panel_<sfx>, macro_kernel_<sfx>, and the file's vexp_<sfx>, vsigmoid_<sfx>,
/// vtanh_<sfx>, fma_loop_<sfx>).
#define RECUR_ISA_OPS_TABLE(sfx, isa_, name_, mr_, nr_, kc_, mc_)                                   \
  {                                                                                                 \
    .isa = (isa_), .name = (name_), .mr = (mr_), .nr = (nr_), .kc_max = (kc_), .mc = (mc_),         \
    .pack_a = pack_a_##sfx, .pack_b_panel = pack_b_panel_##sfx, .macro_kernel = macro_kernel_##sfx, \
    .vexp = vexp_##sfx, .vsigmoid = vsigmoid_##sfx, .vtanh = vtanh_##sfx, .fma_loop = fma_loop_##sfx \
  }

extern const recur_isa_ops recur_ops_portable;
extern const recur_isa_ops recur_ops_avx2;
extern const recur_isa_ops recur_ops_avx512;
/// GEMM-only table (no vector math): the AVX-512 GEMM with bfloat16 operands.
extern const recur_isa_ops recur_ops_avx512_bf16;

/// The table of the calling thread's ISA: the process-wide choice (CPUID once, RECUR_ISA), unless
/// recur_force_isa changed it for this thread. Code with its own per-ISA variants (for example
/// fused cell kernels using vecmath_avx2.h / vecmath_avx512.h) should switch on
/// recur_active_ops()->isa, so that RECUR_ISA and recur_force_isa reach it too.
const recur_isa_ops *recur_active_ops(void);

/// The table GEMM and B packing use: the calling thread's ISA table, or its bfloat16 form when
/// the matmul precision is medium and the CPU can run it (see recur_set_matmul_precision).
const recur_isa_ops *recur_gemm_ops(void);

// MARK: - Thread pool

/// A pool task: called once for each part of the job, part in [0, nparts).
typedef void (*recur_task_fn)(void *ctx, int part, int nparts);

/// Runs fn(ctx, p, nthreads) for every part p = 0..nthreads-1, each exactly once, on the calling
/// thread and up to nthreads-1 pool workers (whichever claims a part first runs it: a part is not
/// tied to a thread), and returns when all are done. Runs everything on the caller as
/// fn(ctx, 0, 1) if nthreads <= 1 or if the pool is busy (another thread's job, or a nested call
/// from inside a task). nthreads is clipped to recur_get_num_threads().
void recur_pool_run(int nthreads, recur_task_fn fn, void *ctx);

// MARK: - Scratch memory

enum {
  RECUR_SCRATCH_PACK_A = 0,  // a thread's packed A block
  RECUR_SCRATCH_PACK_B = 1,  // the caller's packed B of an unpacked recur_sgemm
  RECUR_SCRATCH_PANEL = 2,   // a thread's single packed B panel (unpacked calls, one M block)
  RECUR_SCRATCH_SLOTS = 3,
};

/// A 64-byte aligned buffer of at least `nfloats` floats owned by the calling thread
/// (kept and reused; freed when the thread exits). Contents are not preserved when it grows.
float *recur_scratch(int slot, size_t nfloats);

/// A thread's own kernel settings (recur_force_isa, recur_set_thread_matmul_precision). The pool
/// runs every part of a job under the dispatching thread's settings, so that a kernel called
/// inside a part (nested kernels run on the part's thread) follows what its caller chose.
typedef struct {
  const struct recur_isa_ops *forced;  // NULL: the process-wide ISA
  int matmul_precision;                // -1: the process-wide precision
} recur_thread_settings;

/// The variant of `name` (name_avx512, name_avx2, name_portable: loops compiled once per
/// instruction set from one source) for `isa`, usually recur_active_ops()->isa.
#if defined(__x86_64__)
#define RECUR_PICK(isa, name) \
  ((isa) == RECUR_ISA_AVX512 ? name##_avx512 : (isa) == RECUR_ISA_AVX2 ? name##_avx2 : name##_portable)
#else
#define RECUR_PICK(isa, name) name##_portable
#endif

recur_thread_settings recur_get_thread_settings(void);
void recur_set_thread_settings(recur_thread_settings settings);

/// Prefetches into L2 every cache line of [p, p + n) (n floats; nothing when n <= 0). The GEMM
/// micro-kernels fetch the next B panel with it in equal spans, one span every 4 steps of k:
/// with few rows of A a panel has few such steps, so a span covers several lines.
static inline __attribute__((always_inline)) void recur_prefetch_span(const float *p, long n) {
  const char *line = (const char *)((uintptr_t)p & ~(uintptr_t)63), *end = (const char *)(p + n);
  for (; line < end; line += 64) __builtin_prefetch(line, 0, 2);
}

/// The L1 data cache and L2 sizes in bytes (CPUID, overridden by RECUR_L1D_KIB / RECUR_L2_KIB),
/// read once; `source`: 0 defaults, 1 CPUID, 2 environment. Any pointer may be NULL.
void recur_cache_sizes(size_t *l1d, size_t *l2, int *source);

/// GEMM blocking (gemm_blocking.c): bytes per packed operand element; the K block for K (equal
/// blocks of at most the L1D-derived maximum); the bytes of L2 a thread's packed A may take; the
/// rows per M block for a K block of kc.
int recur_gemm_element_bytes(const recur_isa_ops *ops);
int recur_gemm_kc_for(const recur_isa_ops *ops, int K);
size_t recur_gemm_a_budget(void);
int recur_gemm_mc_for(const recur_isa_ops *ops, int kc);

/// 64-byte aligned allocation (abort on failure); free with free().
void *recur_aligned_alloc(size_t bytes);

#endif
