// SGEMM driver: argument checks, the packed-B format and the split of the work over the thread
// pool (K/M blocking: gemm_blocking.c). ISA-independent: the packing routines and the micro-kernels come from
// the active recur_isa_ops table (gemm_template.h instantiated per ISA).
//
// Work split: C is cut into units, row chunks x groups of column panels, that the threads claim
// one at a time from an atomic counter (about 8 units per thread), so the split balances itself
// and a thread the OS deschedules holds up at most one unit. Many rows (the input projection
// T*B x 4H): row chunks of at most MC rows spanning all columns, B packed whole beforehand. Few
// rows (the recurrent h * W_hh^T, B x 4H): groups of panels, every thread packing the rows of A
// it needs once.
//
// Loop nest of a unit (BLIS): for each K block (kc): A rows packed into MR-row micro-panels (L2);
// for each B panel of the unit (kc x NR, stays in L1; when the call was given B unpacked and
// panels are not shared, packed right here into a buffer that stays in L1): the macro-kernel
// runs every MR-row micro-panel of A over it with the register-blocked micro-kernel.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

// MARK: - Packed B format

/// Packed B = a 64-byte header (so a buffer packed for another ISA or shape is caught instead of
/// silently misread) followed by the panels: for each K block kb (rows k0..k0+kcb), for each
/// column panel jp, a kcb x NR micro-panel at data + k0*Npad + jp*kcb*NR (Npad = NR*panels).
typedef struct {
  uint32_t magic;
  uint32_t isa;
  int32_t K, N;
  int32_t nr, kc;
  uint32_t bf16;  // operands packed as bfloat16 pairs
  uint32_t reserved[9];
} recur_packed_header;

_Static_assert(sizeof(recur_packed_header) == 64, "the header keeps the panels 64-byte aligned");

#define RECUR_PACKED_MAGIC 0x42504352u  // "RCPB"
#define RECUR_HEADER_FLOATS 16

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

static int min_int(int a, int b) { return a < b ? a : b; }

size_t recur_packed_b_size(int K, int N) {
  const recur_isa_ops *ops = recur_gemm_ops();
  if (K < 0) K = 0;
  if (N < 0) N = 0;
  size_t npad = (size_t)ceil_div(N, ops->nr) * ops->nr;
  return RECUR_HEADER_FLOATS + (size_t)K * npad;
}

/// Packs column panels [jp0, jp1) of every K block of op(B) into `data`.
static void pack_b_panels(const recur_isa_ops *ops, int transB, int K, int N, const float *B,
                          long ldb, int kc, int jp0, int jp1, float *data) {
  size_t npad = (size_t)ceil_div(N, ops->nr) * ops->nr;
  for (int k0 = 0; k0 < K; k0 += kc) {
    int kcb = min_int(kc, K - k0);
    for (int jp = jp0; jp < jp1; jp++) {
      int j0 = jp * ops->nr;
      ops->pack_b_panel(transB, B, ldb, k0, kcb, j0, min_int(ops->nr, N - j0),
                        data + (size_t)k0 * npad + (size_t)jp * kcb * ops->nr);
    }
  }
}

typedef struct {
  const recur_isa_ops *ops;
  int transB, K, N, kc, panels;
  const float *B;
  long ldb;
  float *data;
} recur_pack_job;

static void pack_task(void *p, int tid, int nthreads) {
  recur_pack_job *job = p;
  int jp0 = (int)((long)job->panels * tid / nthreads);
  int jp1 = (int)((long)job->panels * (tid + 1) / nthreads);
  pack_b_panels(job->ops, job->transB, job->K, job->N, job->B, job->ldb, job->kc, jp0, jp1,
                job->data);
}

/// Packs all of op(B), over the pool when it is large.
static void pack_b_all(const recur_isa_ops *ops, int transB, int K, int N, const float *B,
                       long ldb, int kc, float *data) {
  recur_pack_job job = {ops, transB, K, N, kc, ceil_div(N, ops->nr), B, ldb, data};
  int nthreads = (double)K * N >= (1 << 18) ? recur_get_num_threads() : 1;
  if (nthreads > job.panels) nthreads = job.panels;
  recur_pool_run(nthreads, pack_task, &job);
}

static void fail(const char *fn, const char *what) {
  fprintf(stderr, "CRecurKernels: %s: %s\n", fn, what);
  abort();
}

static void check_ld(const char *fn, const char *name, long ld, int need, const char *why) {
  if (ld < need || ld < 1) {
    char msg[200];
    snprintf(msg, sizeof msg, "%s = %ld, but must be >= %d (%s)", name, ld, need < 1 ? 1 : need, why);
    fail(fn, msg);
  }
}

void recur_pack_b(int transB, int K, int N, const float *B, int ldb, float *packed) {
  if (K < 0 || N < 0) fail("recur_pack_b", "K and N must be >= 0");
  if (((uintptr_t)packed & 63) != 0) fail("recur_pack_b", "`packed` must be 64-byte aligned");
  if (K > 0 && N > 0) {
    check_ld("recur_pack_b", "ldb", ldb, transB ? K : N,
             transB ? "B is stored [N, K] when transB" : "B is stored [K, N]");
  }
  const recur_isa_ops *ops = recur_gemm_ops();
  recur_packed_header h;
  memset(&h, 0, sizeof h);
  h.magic = RECUR_PACKED_MAGIC;
  h.isa = (uint32_t)ops->isa;
  h.K = K;
  h.N = N;
  h.nr = ops->nr;
  h.kc = recur_gemm_kc_for(ops, K);
  h.bf16 = (uint32_t)ops->bf16;
  memcpy(packed, &h, sizeof h);
  if (K > 0 && N > 0) pack_b_all(ops, transB, K, N, B, ldb, h.kc, packed + RECUR_HEADER_FLOATS);
}

// MARK: - Work split

typedef struct {
  const recur_isa_ops *ops;
  int transA, M, N, K;
  float alpha, beta;
  const float *A;
  long lda;
  float *C;
  long ldc;
  const float *Bdata;  // packed B panels (after the header); NULL if pack_self
  int kc;
  // an unpacked call whose panels are each used by one unit: packed by that unit, into L1
  int pack_self, transB;
  const float *B;
  long ldb;
  // units: row_chunks x panel_groups, unit u = (u / panel_groups, u % panel_groups)
  int chunk_rows, row_chunks;     // rows per chunk (a multiple of MR), chunks
  int group_panels, panel_groups;  // panels per group, groups
  int units;
  int whole_k;  // A packed for all of K, C updated panel by panel (see gemm_unit)
  const float *next_panel;  // whole_k: prefetched during the unit's last panel (NULL: none)
  _Alignas(64) atomic_int next_unit;
} recur_gemm_job;

/// Units per thread: enough that the last claims even out, few enough that each unit keeps a
/// B panel busy over many rows and repacks little; and units of at least ~2 MFLOP (~20 us), so
/// small GEMMs do not spend their time claiming.
enum { RECUR_UNITS_PER_THREAD = 8 };
#define RECUR_MIN_UNIT_FLOPS 2e6

/// Cuts C into units for `nthreads` threads (see the top of this file).
static void plan_units(recur_gemm_job *job, int nthreads) {
  const recur_isa_ops *ops = job->ops;
  int mt = ceil_div(job->M, ops->mr), np = ceil_div(job->N, ops->nr);
  int target = 1;
  if (nthreads > 1) {
    double flops = 2.0 * job->M * (double)job->N * job->K;
    double by_size = flops / RECUR_MIN_UNIT_FLOPS;
    target = RECUR_UNITS_PER_THREAD * nthreads;
    if (by_size < target) target = by_size < 2 * nthreads ? 2 * nthreads : (int)by_size;
  }
  // row chunks of ~M/target rows, at least 8 micro-panels (a B panel must serve enough rows to
  // pay for streaming it) and at most one M block
  int per = ceil_div(mt, target);
  int min_tiles = 8, max_tiles = recur_gemm_mc_for(ops, job->kc) / ops->mr;
  if (per < min_tiles) per = min_tiles;
  if (per > max_tiles) per = max_tiles;
  int chunks = ceil_div(mt, per);
  if (chunks >= 2 * nthreads || nthreads == 1) {
    // rows only (one M block per unit, equal sizes)
    job->row_chunks = chunks;
    job->chunk_rows = ceil_div(mt, chunks) * ops->mr;
    job->panel_groups = 1;
    job->group_panels = np;
  } else {
    // row chunks of at most one M block, split further into panel groups
    job->row_chunks = ceil_div(mt, max_tiles);
    job->chunk_rows = ceil_div(mt, job->row_chunks) * ops->mr;
    int groups = ceil_div(target, job->row_chunks);
    if (groups > np) groups = np;
    job->group_panels = ceil_div(np, groups);
    job->panel_groups = ceil_div(np, job->group_panels);
  }
  job->units = job->row_chunks * job->panel_groups;
  // A packed for all of K when it takes several K blocks and fits the L2 budget, or when units
  // split columns (a thread's next unit usually has the same rows, see gemm_unit)
  size_t a_bytes = (size_t)job->chunk_rows * (size_t)job->K * (size_t)recur_gemm_element_bytes(ops);
  job->whole_k = job->panel_groups > 1 || (job->K > job->kc && a_bytes <= recur_gemm_a_budget());
  atomic_init(&job->next_unit, 0);
}

/// Runs unit `u`, one of two loop orders:
/// - whole_k (A packed for all of K, cached in `Ap` for the thread's next unit with the same row
///   chunk `*cached`): column panels outside, K blocks inside, so a panel's C tile stays in L1
///   over all of K instead of going to L3 and back once per K block (a 32 x 4096 C is 512 KiB);
///   A (a quarter of L2 at most) is read from L2 once per panel.
/// - otherwise (many rows): K blocks outside, A packed one M x kc block at a time, and every
///   panel of the unit run over it.
static void gemm_unit(const recur_gemm_job *job, int u, float *Ap, int *cached) {
  const recur_isa_ops *ops = job->ops;
  const int nr = ops->nr, K = job->K, kc = job->kc;
  const size_t npad = (size_t)ceil_div(job->N, nr) * nr;
  int r = u / job->panel_groups, g = u % job->panel_groups;
  int i0 = r * job->chunk_rows, rows = min_int(job->chunk_rows, job->M - i0);
  int jp0 = g * job->group_panels, jp1 = min_int(jp0 + job->group_panels, ceil_div(job->N, nr));
  size_t rows_pad = (size_t)ceil_div(rows, ops->mr) * ops->mr;
  float *C = job->C + (size_t)i0 * job->ldc;
  float *panel_buf = job->pack_self ? recur_scratch(RECUR_SCRATCH_PANEL, (size_t)kc * nr) : NULL;
  if (job->whole_k) {
    if (*cached != r) {
      for (int k0 = 0; k0 < K; k0 += kc) {
        ops->pack_a(job->transA, job->A, job->lda, i0, rows, k0, min_int(kc, K - k0),
                    Ap + (size_t)k0 * rows_pad);
      }
      *cached = r;
    }
    for (int jp = jp0; jp < jp1; jp++) {
      int j0 = jp * nr;
      for (int k0 = 0; k0 < K; k0 += kc) {
        int kcb = min_int(kc, K - k0);
        float beta = k0 == 0 ? job->beta : 1.0f;
        const float *b, *after = NULL;
        if (job->pack_self) {
          ops->pack_b_panel(job->transB, job->B, job->ldb, k0, kcb, j0, min_int(nr, job->N - j0),
                            panel_buf);
          b = panel_buf;
        } else {
          b = job->Bdata + (size_t)k0 * npad + (size_t)jp * kcb * nr;
          if (k0 + kc < K) {
            after = job->Bdata + (size_t)(k0 + kc) * npad + (size_t)jp * min_int(kc, K - k0 - kc) * nr;
          } else if (jp + 1 < jp1) {
            after = job->Bdata + (size_t)(jp + 1) * min_int(kc, K) * nr;
          } else {
            after = job->next_panel;
          }
        }
        ops->macro_kernel(rows, kcb, Ap + (size_t)k0 * rows_pad, b, jp, jp + 1, job->N, C,
                          job->ldc, job->alpha, beta, after);
      }
    }
    return;
  }
  for (int k0 = 0; k0 < K; k0 += kc) {
    int kcb = min_int(kc, K - k0);
    float beta = k0 == 0 ? job->beta : 1.0f;
    ops->pack_a(job->transA, job->A, job->lda, i0, rows, k0, kcb, Ap);
    if (job->pack_self) {
      for (int jp = jp0; jp < jp1; jp++) {
        int j0 = jp * nr;
        ops->pack_b_panel(job->transB, job->B, job->ldb, k0, kcb, j0, min_int(nr, job->N - j0),
                          panel_buf);
        ops->macro_kernel(rows, kcb, Ap, panel_buf, jp, jp + 1, job->N, C, job->ldc, job->alpha,
                          beta, NULL);
      }
    } else {
      const float *Bk = job->Bdata + (size_t)k0 * npad + (size_t)jp0 * kcb * nr;
      ops->macro_kernel(rows, kcb, Ap, Bk, jp0, jp1, job->N, C, job->ldc, job->alpha, beta, NULL);
    }
  }
}

/// A part of the pool job: claims units until none is left.
static void gemm_task(void *p, int part, int nparts) {
  (void)part;
  (void)nparts;
  recur_gemm_job *job = p;
  const recur_isa_ops *ops = job->ops;
  float *Ap = NULL;
  int cached = -1;
  for (;;) {
    int u = atomic_fetch_add_explicit(&job->next_unit, 1, memory_order_relaxed);
    if (u >= job->units) return;
    if (Ap == NULL) {
      size_t rows_pad = (size_t)ceil_div(job->chunk_rows, ops->mr) * ops->mr;
      Ap = recur_scratch(RECUR_SCRATCH_PACK_A, rows_pad * (size_t)(job->whole_k ? job->K : job->kc));
    }
    gemm_unit(job, u, Ap, &cached);
  }
}

/// Threads worth using: one for small problems (< 0.5 MFLOP, where a dispatch would cost more
/// than it saves), else all, but no more than there are tiles.
static int threads_for(const recur_isa_ops *ops, int M, int N, int K) {
  double flops = 2.0 * M * N * (double)K;
  if (flops < 5e5) return 1;
  int n = recur_get_num_threads();
  long tiles = (long)ceil_div(M, ops->mr) * ceil_div(N, ops->nr);
  if (tiles < n) n = (int)tiles;
  return n < 1 ? 1 : n;
}

/// C = beta * C (beta == 0: zeros, whatever C held).
static void scale_c(int M, int N, float beta, float *C, long ldc) {
  if (beta == 1.0f) return;
  for (int i = 0; i < M; i++) {
    float *c = C + (size_t)i * ldc;
    if (beta == 0.0f) {
      memset(c, 0, sizeof(float) * (size_t)N);
    } else {
      for (int j = 0; j < N; j++) c[j] *= beta;
    }
  }
}

// MARK: - Entry points

void recur_sgemm(int transA, int transB, int M, int N, int K, float alpha, const float *A,
                 int lda, const float *B, int ldb, float beta, float *C, int ldc) {
  static const char *fn = "recur_sgemm";
  if (M < 0 || N < 0 || K < 0) fail(fn, "M, N and K must be >= 0");
  if (M == 0 || N == 0) return;
  check_ld(fn, "ldc", ldc, N, "C is stored [M, N]");
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  check_ld(fn, "lda", lda, transA ? M : K,
           transA ? "A is stored [K, M] when transA" : "A is stored [M, K]");
  check_ld(fn, "ldb", ldb, transB ? K : N,
           transB ? "B is stored [N, K] when transB" : "B is stored [K, N]");

  const recur_isa_ops *ops = recur_gemm_ops();
  int nthreads = threads_for(ops, M, N, K);
  recur_gemm_job job = {.ops = ops, .transA = transA != 0, .M = M, .N = N, .K = K,
                        .alpha = alpha, .beta = beta, .A = A, .lda = lda, .C = C, .ldc = ldc,
                        .kc = recur_gemm_kc_for(ops, K), .transB = transB != 0, .B = B, .ldb = ldb};
  plan_units(&job, nthreads);
  if (job.row_chunks == 1) {
    // each panel is used by one unit: packed there, one at a time, into L1
    job.pack_self = 1;
    job.Bdata = NULL;
  } else {
    // panels are shared by the row chunks: pack B whole first (in parallel)
    size_t npad = (size_t)ceil_div(N, ops->nr) * ops->nr;
    float *Bdata = recur_scratch(RECUR_SCRATCH_PACK_B, (size_t)K * npad);
    pack_b_all(ops, transB != 0, K, N, B, ldb, job.kc, Bdata);
    job.Bdata = Bdata;
  }
  recur_pool_run(nthreads, gemm_task, &job);
}

/// The header of `packed`, stopping with a message if it was not packed by recur_pack_b as a
/// [K, N] matrix (N < 0: any N) for the current instruction set and precision.
static recur_packed_header checked_header(const char *fn, const recur_isa_ops *ops,
                                          const float *packed, int K, int N) {
  recur_packed_header h;
  memcpy(&h, packed, sizeof h);
  if (h.magic != RECUR_PACKED_MAGIC) {
    fail(fn, "`packed` does not hold a B packed by recur_pack_b");
  }
  if (h.K != K || (N >= 0 && h.N != N)) {
    char msg[200];
    snprintf(msg, sizeof msg, "B was packed as [K=%d, N=%d] but is used as [K=%d, N=%d]", h.K, h.N, K,
             N >= 0 ? N : h.N);
    fail(fn, msg);
  }
  if (h.isa != (uint32_t)ops->isa || h.nr != ops->nr || h.kc != recur_gemm_kc_for(ops, K)) {
    fail(fn, "B was packed for another instruction set (recur_force_isa was called in between): "
             "pack it again");
  }
  if (h.bf16 != (uint32_t)ops->bf16) {
    fail(fn, "B was packed under another matmul precision (recur_set_matmul_precision was called "
             "in between): pack it again");
  }
  if (((uintptr_t)packed & 63) != 0) fail(fn, "`packed` must be 64-byte aligned");
  return h;
}

void recur_sgemm_packed(int M, int N, int K, float alpha, const float *A, int lda,
                        const float *packed, float beta, float *C, int ldc) {
  static const char *fn = "recur_sgemm_packed";
  if (M < 0 || N < 0 || K < 0) fail(fn, "M, N and K must be >= 0");
  const recur_isa_ops *ops = recur_gemm_ops();
  recur_packed_header h = checked_header(fn, ops, packed, K, N);
  if (M == 0 || N == 0) return;
  check_ld(fn, "ldc", ldc, N, "C is stored [M, N]");
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  check_ld(fn, "lda", lda, K, "A is stored [M, K]");
  int nthreads = threads_for(ops, M, N, K);
  recur_gemm_job job = {.ops = ops, .M = M, .N = N, .K = K, .alpha = alpha, .beta = beta,
                        .A = A, .lda = lda, .C = C, .ldc = ldc,
                        .Bdata = packed + RECUR_HEADER_FLOATS, .kc = h.kc};
  plan_units(&job, nthreads);
  recur_pool_run(nthreads, gemm_task, &job);
}

void recur_sgemm_packed_multi(int M, int K, const float *A, int lda, int count,
                              const float *const *packed, float beta, float *const *C, int ldc) {
  static const char *fn = "recur_sgemm_packed_multi";
  if (M < 0 || K < 0 || count < 0) fail(fn, "M, K and count must be >= 0");
  const recur_isa_ops *ops = recur_gemm_ops();
  int N[count > 0 ? count : 1], widest = 0;
  for (int s = 0; s < count; s++) {
    N[s] = checked_header(fn, ops, packed[s], K, -1).N;
    if (N[s] > widest) widest = N[s];
  }
  if (M == 0 || widest == 0) return;
  check_ld(fn, "ldc", ldc, widest, "every C is stored [M, N] with N its B's width");
  if (K == 0) {
    for (int s = 0; s < count; s++) scale_c(M, N[s], beta, C[s], ldc);
    return;
  }
  check_ld(fn, "lda", lda, K, "A is stored [M, K]");
  // rows of A per chunk: all of K packed at once within the thread's L2 share
  const int kc = recur_gemm_kc_for(ops, K), mr = ops->mr;
  long fit = (long)(recur_gemm_a_budget() / ((size_t)K * recur_gemm_element_bytes(ops))) / mr * mr;
  int chunk_rows = min_int(ceil_div(M, mr) * mr, fit > mr ? (int)fit : mr);
  int row_chunks = ceil_div(M, chunk_rows);
  float *Ap = recur_scratch(RECUR_SCRATCH_PACK_A, (size_t)chunk_rows * (size_t)K);
  int cached = -1;  // the row chunk packed in Ap, shared by every B (gemm_unit)
  for (int r = 0; r < row_chunks; r++) {
    for (int s = 0; s < count; s++) {
      if (N[s] == 0) continue;
      recur_gemm_job job = {.ops = ops, .M = M, .N = N[s], .K = K, .alpha = 1.0f, .beta = beta,
                            .A = A, .lda = lda, .C = C[s], .ldc = ldc,
                            .Bdata = packed[s] + RECUR_HEADER_FLOATS, .kc = kc,
                            .chunk_rows = chunk_rows, .row_chunks = row_chunks,
                            .group_panels = ceil_div(N[s], ops->nr), .panel_groups = 1,
                            .units = row_chunks, .whole_k = 1,
                            .next_panel = s + 1 < count ? packed[s + 1] + RECUR_HEADER_FLOATS : NULL};
      gemm_unit(&job, r, Ap, &cached);
    }
  }
}
