// SGEMM driver: argument checks, the packed-B format, K/M blocking, and the split of the work
// over the thread pool. ISA-independent: the packing routines and the micro-kernels come from
// the active recur_isa_ops table (gemm_template.h instantiated per ISA).
//
// Loop nest of one thread (BLIS): for each K block (kc): [pack its B panels if this call packs
// B itself]; for each M block (mc rows): pack A into L2-sized micro-panels; macro-kernel: for
// each B panel of the thread's columns (stays in L1), for each MR-row A micro-panel: one
// register-blocked micro-kernel.
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
  uint32_t reserved[10];
} recur_packed_header;

_Static_assert(sizeof(recur_packed_header) == 64, "the header keeps the panels 64-byte aligned");

#define RECUR_PACKED_MAGIC 0x42504352u  // "RCPB"
#define RECUR_HEADER_FLOATS 16

/// K block size: K split into equal blocks of at most kc_max (no thin last block).
static int kc_for(const recur_isa_ops *ops, int K) {
  if (K <= 0) return 1;
  int blocks = (K + ops->kc_max - 1) / ops->kc_max;
  return (K + blocks - 1) / blocks;
}

static int ceil_div(int a, int b) { return (a + b - 1) / b; }

static int min_int(int a, int b) { return a < b ? a : b; }

size_t recur_packed_b_size(int K, int N) {
  const recur_isa_ops *ops = recur_active_ops();
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
  const recur_isa_ops *ops = recur_active_ops();
  recur_packed_header h;
  memset(&h, 0, sizeof h);
  h.magic = RECUR_PACKED_MAGIC;
  h.isa = (uint32_t)ops->isa;
  h.K = K;
  h.N = N;
  h.nr = ops->nr;
  h.kc = kc_for(ops, K);
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
  const float *Bdata;  // packed B panels (after the header)
  int kc;
  // an unpacked call whose threads each pack the B panels they use (column split only)
  int pack_self, transB;
  const float *B;
  long ldb;
} recur_gemm_job;

typedef struct {
  int tm, tn;  // thread grid: tm row groups x tn column groups
} recur_grid;

/// Picks the thread grid with the least estimated per-thread time: the micro-kernel work of
/// the thread's tiles plus its A packing and the B panel traffic, in multiply-add units per k.
/// Splitting columns shares nothing but makes every thread pack all of A; splitting rows makes
/// every thread stream all of B (which then must be packed before the split).
static recur_grid choose_grid(const recur_isa_ops *ops, int M, int N, int nthreads,
                              int allow_row_split) {
  int mt = ceil_div(M, ops->mr), np = ceil_div(N, ops->nr);
  recur_grid best = {1, 1};
  double best_cost = -1;
  for (int tm = 1; tm <= (allow_row_split ? nthreads : 1); tm++) {
    int tn = nthreads / tm;
    if (tm > mt || tn < 1) continue;
    if (tn > np) tn = np;
    double rows = (double)ceil_div(mt, tm) * ops->mr;
    double cols = (double)ceil_div(np, tn) * ops->nr;
    double mblocks = (double)ceil_div((int)rows, ops->mc);
    double cost = rows * cols + 8.0 * rows + 2.0 * mblocks * cols;
    if (best_cost < 0 || cost < best_cost) {
      best_cost = cost;
      best.tm = tm;
      best.tn = tn;
    }
  }
  return best;
}

/// One thread's share: rows [i_begin, i_end), column panels [jp0, jp1).
static void gemm_part(const recur_gemm_job *job, int i_begin, int i_end, int jp0, int jp1) {
  const recur_isa_ops *ops = job->ops;
  if (i_begin >= i_end || jp0 >= jp1) return;
  const int mr = ops->mr, nr = ops->nr, K = job->K;
  const size_t npad = (size_t)ceil_div(job->N, nr) * nr;
  // M blocks of equal size (multiple of MR) of at most mc rows
  int rows = i_end - i_begin;
  int mblocks = ceil_div(rows, ops->mc);
  int mc = ceil_div(ceil_div(rows, mblocks), mr) * mr;
  float *Ap = recur_scratch(RECUR_SCRATCH_PACK_A, (size_t)mc * job->kc);
  float *Bdata = (float *)job->Bdata;  // NULL: an unpacked call with one M block (see below)
  for (int k0 = 0; k0 < K; k0 += job->kc) {
    int kcb = min_int(job->kc, K - k0);
    float beta = k0 == 0 ? job->beta : 1.0f;
    float *Bk = Bdata != NULL ? Bdata + (size_t)k0 * npad + (size_t)jp0 * kcb * nr : NULL;
    for (int ic = i_begin; ic < i_end; ic += mc) {
      int mcb = min_int(mc, i_end - ic);
      float *Cb = job->C + (size_t)ic * job->ldc;
      ops->pack_a(job->transA, job->A, job->lda, ic, mcb, k0, kcb, Ap);
      if (job->pack_self && ic == i_begin) {
        // first M block: pack each B panel just before its tiles use it (still in L1); later
        // M blocks reuse the packed panels, so with only one M block a single panel buffer
        // that stays in cache replaces the whole packed B
        float *one = mblocks == 1 ? recur_scratch(RECUR_SCRATCH_PANEL, (size_t)job->kc * nr) : NULL;
        for (int jp = jp0; jp < jp1; jp++) {
          int j0 = jp * nr;
          float *panel = one != NULL ? one : Bk + (size_t)(jp - jp0) * kcb * nr;
          ops->pack_b_panel(job->transB, job->B, job->ldb, k0, kcb, j0, min_int(nr, job->N - j0),
                            panel);
          ops->macro_kernel(mcb, kcb, Ap, panel, jp, jp + 1, job->N, Cb, job->ldc, job->alpha,
                            beta);
        }
      } else {
        ops->macro_kernel(mcb, kcb, Ap, Bk, jp0, jp1, job->N, Cb, job->ldc, job->alpha, beta);
      }
    }
  }
}

static void gemm_task(void *p, int tid, int nthreads) {
  const recur_gemm_job *job = p;
  const recur_isa_ops *ops = job->ops;
  recur_grid g = choose_grid(ops, job->M, job->N, nthreads, !job->pack_self);
  if (tid >= g.tm * g.tn) return;
  int im = tid / g.tn, in = tid % g.tn;
  int mt = ceil_div(job->M, ops->mr), np = ceil_div(job->N, ops->nr);
  int t0 = (int)((long)mt * im / g.tm), t1 = (int)((long)mt * (im + 1) / g.tm);
  int jp0 = (int)((long)np * in / g.tn), jp1 = (int)((long)np * (in + 1) / g.tn);
  gemm_part(job, t0 * ops->mr, min_int(job->M, t1 * ops->mr), jp0, jp1);
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

  const recur_isa_ops *ops = recur_active_ops();
  int kc = kc_for(ops, K);
  size_t npad = (size_t)ceil_div(N, ops->nr) * ops->nr;
  int nthreads = threads_for(ops, M, N, K);
  recur_grid g = choose_grid(ops, M, N, nthreads, 1);
  // Packed B is kept whole only when panels are reused: by several M blocks, or (rows split)
  // by several threads; with one M block each thread packs a panel at a time into L1.
  float *Bdata = g.tm > 1 || M > ops->mc ? recur_scratch(RECUR_SCRATCH_PACK_B, (size_t)K * npad) : NULL;
  recur_gemm_job job = {ops, transA != 0, M, N, K, alpha, beta, A, lda, C, ldc,
                        Bdata, kc, 1, transB != 0, B, ldb};
  if (g.tm > 1) {
    // rows split: every thread needs all of B, so pack it first (in parallel)
    pack_b_all(ops, transB != 0, K, N, B, ldb, kc, Bdata);
    job.pack_self = 0;
  }
  recur_pool_run(nthreads, gemm_task, &job);
}

void recur_sgemm_packed(int M, int N, int K, float alpha, const float *A, int lda,
                        const float *packed, float beta, float *C, int ldc) {
  static const char *fn = "recur_sgemm_packed";
  if (M < 0 || N < 0 || K < 0) fail(fn, "M, N and K must be >= 0");
  const recur_isa_ops *ops = recur_active_ops();
  recur_packed_header h;
  memcpy(&h, packed, sizeof h);
  if (h.magic != RECUR_PACKED_MAGIC) {
    fail(fn, "`packed` does not hold a B packed by recur_pack_b");
  }
  if (h.K != K || h.N != N) {
    char msg[200];
    snprintf(msg, sizeof msg, "B was packed as [K=%d, N=%d] but is used as [K=%d, N=%d]", h.K, h.N, K, N);
    fail(fn, msg);
  }
  if (h.isa != (uint32_t)ops->isa || h.nr != ops->nr || h.kc != kc_for(ops, K)) {
    fail(fn, "B was packed for another instruction set (recur_force_isa was called in between): "
             "pack it again");
  }
  if (((uintptr_t)packed & 63) != 0) fail(fn, "`packed` must be 64-byte aligned");
  if (M == 0 || N == 0) return;
  check_ld(fn, "ldc", ldc, N, "C is stored [M, N]");
  if (K == 0 || alpha == 0.0f) {
    scale_c(M, N, beta, C, ldc);
    return;
  }
  check_ld(fn, "lda", lda, K, "A is stored [M, K]");
  recur_gemm_job job = {ops, 0, M, N, K, alpha, beta, A, lda, C, ldc,
                        packed + RECUR_HEADER_FLOATS, h.kc, 0, 0, NULL, 0};
  recur_pool_run(threads_for(ops, M, N, K), gemm_task, &job);
}
