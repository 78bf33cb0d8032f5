// GEMM blocking from the cache sizes: the K block fills the L1D with a B panel and an A
// micro-panel, the M block keeps packed A within a quarter of L2 (recur_cache_sizes: CPUID or
// RECUR_L1D_KIB / RECUR_L2_KIB), so the choice is made on the CPU that runs the code.
#include "internal.h"

static int clamp_int(long x, int lo, int hi) { return x < lo ? lo : x > hi ? hi : (int)x; }

/// Bytes per packed operand element (bfloat16 tables pack two per float slot).
int recur_gemm_element_bytes(const recur_isa_ops *ops) { return ops->bf16 ? 2 : 4; }

/// The largest K block on this CPU: a kc x NR panel of B and the kc x MR micro-panel of A that
/// passes over it fill 7/8 of the L1D (the rest holds the C tile and the stack), in multiples of
/// 16 (the transposing pack's step). 192 on Zen 5's 48 KiB L1D with AVX-512 (384 in bfloat16),
/// 128 on Zen 4's 32 KiB; the table's kc_max where CPUID says nothing.
static int kc_max_for(const recur_isa_ops *ops) {
  size_t l1d;
  int source;
  recur_cache_sizes(&l1d, NULL, &source);
  if (source == 0) return ops->kc_max;
  long kc = (long)(l1d / 8 * 7) / ((long)(ops->nr + ops->mr) * recur_gemm_element_bytes(ops));
  return clamp_int(kc / 16 * 16, 32, 1024);
}

/// K block size: K split into equal blocks of at most kc_max (no thin last block).
int recur_gemm_kc_for(const recur_isa_ops *ops, int K) {
  if (K <= 0) return 1;
  int kc_max = kc_max_for(ops);
  int blocks = (K + kc_max - 1) / kc_max;
  return (K + blocks - 1) / blocks;
}

/// Bytes of L2 a thread's packed A may take: a quarter (B panels stream through the rest).
size_t recur_gemm_a_budget(void) {
  size_t l2;
  recur_cache_sizes(NULL, &l2, NULL);
  return l2 / 4;
}

/// Rows per M block: the table's mc, fewer where an mc x kc A block would not fit recur_gemm_a_budget().
int recur_gemm_mc_for(const recur_isa_ops *ops, int kc) {
  long rows = (long)(recur_gemm_a_budget() / ((size_t)kc * recur_gemm_element_bytes(ops)));
  return clamp_int(rows / ops->mr * ops->mr, 8 * ops->mr, ops->mc);
}

void recur_gemm_blocking(int *kc_max, int *mc, long *l1d_bytes, long *l2_bytes, int *source) {
  const recur_isa_ops *ops = recur_gemm_ops();
  size_t l1d, l2;
  int src;
  recur_cache_sizes(&l1d, &l2, &src);
  int kc = kc_max_for(ops);
  if (kc_max) *kc_max = kc;
  if (mc) *mc = recur_gemm_mc_for(ops, kc);
  if (l1d_bytes) *l1d_bytes = (long)l1d;
  if (l2_bytes) *l2_bytes = (long)l2;
  if (source) *source = src;
}

