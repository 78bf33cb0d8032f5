// The data-cache sizes the GEMM blocking is chosen from: read once from CPUID's deterministic
// cache parameters (leaf 4 on Intel, leaf 0x8000001D on AMD: the same register layout), with
// RECUR_L1D_KIB / RECUR_L2_KIB to override them (to try another CPU's blocking, or where a
// hypervisor reports nonsense) and conservative defaults where neither answers.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <cpuid.h>
#define RECUR_HAVE_CPUID 1
#endif

enum {
  RECUR_DEFAULT_L1D = 32 << 10,  // every x86 core since 2008 has at least this
  RECUR_DEFAULT_L2 = 256 << 10,
};

#ifdef RECUR_HAVE_CPUID
/// Walks the cache descriptors of `leaf` (4 or 0x8000001D); sets the data/unified L1 and L2
/// sizes it finds. Returns 1 if the leaf described any cache.
static int read_cache_leaf(unsigned leaf, size_t *l1d, size_t *l2) {
  unsigned max_leaf = __get_cpuid_max(leaf & 0x80000000u, NULL);
  if (max_leaf < leaf) return 0;
  int found = 0;
  for (unsigned sub = 0; sub < 16; sub++) {
    unsigned eax, ebx, ecx, edx;
    __cpuid_count(leaf, sub, eax, ebx, ecx, edx);
    unsigned type = eax & 0x1f;  // 0: no more caches, 1: data, 2: instruction, 3: unified
    if (type == 0) break;
    if (type == 2) continue;
    unsigned level = (eax >> 5) & 0x7;
    size_t ways = ((ebx >> 22) & 0x3ff) + 1, partitions = ((ebx >> 12) & 0x3ff) + 1;
    size_t line = (ebx & 0xfff) + 1, sets = (size_t)ecx + 1;
    size_t bytes = ways * partitions * line * sets;
    if (level == 1) *l1d = bytes;
    if (level == 2) *l2 = bytes;
    found = 1;
  }
  return found;
}

static int cpu_is_amd(void) {
  unsigned eax, ebx, ecx, edx;
  if (!__get_cpuid(0, &eax, &ebx, &ecx, &edx)) return 0;
  return ebx == 0x68747541u && edx == 0x69746e65u && ecx == 0x444d4163u;  // "AuthenticAMD"
}
#endif

/// A size in KiB from the environment, or 0 when unset or not a positive number.
static size_t env_kib(const char *name) {
  const char *s = getenv(name);
  if (s == NULL || s[0] == '\0') return 0;
  char *end = NULL;
  long v = strtol(s, &end, 10);
  if (end == s || *end != '\0' || v <= 0 || v > (1L << 20)) {
    fprintf(stderr, "CRecurKernels: ignoring %s=%s (expected a size in KiB)\n", name, s);
    return 0;
  }
  return (size_t)v << 10;
}

typedef struct {
  size_t l1d, l2;
  int source;  // 0 defaults, 1 CPUID, 2 environment (either size)
} recur_cache_info;

static recur_cache_info detect(void) {
  recur_cache_info info = {RECUR_DEFAULT_L1D, RECUR_DEFAULT_L2, 0};
#ifdef RECUR_HAVE_CPUID
  size_t l1d = 0, l2 = 0;
  unsigned leaf = cpu_is_amd() ? 0x8000001Du : 4u;
  if (read_cache_leaf(leaf, &l1d, &l2) && l1d > 0 && l2 > 0) {
    info.l1d = l1d;
    info.l2 = l2;
    info.source = 1;
  }
#endif
  size_t e1 = env_kib("RECUR_L1D_KIB"), e2 = env_kib("RECUR_L2_KIB");
  if (e1) info.l1d = e1;
  if (e2) info.l2 = e2;
  if (e1 || e2) info.source = 2;
  return info;
}

void recur_cache_sizes(size_t *l1d, size_t *l2, int *source) {
  static atomic_int ready;
  static recur_cache_info info;
  static atomic_flag busy = ATOMIC_FLAG_INIT;
  if (!atomic_load_explicit(&ready, memory_order_acquire)) {
    while (atomic_flag_test_and_set(&busy)) {
    }
    if (!atomic_load(&ready)) {
      info = detect();
      atomic_store_explicit(&ready, 1, memory_order_release);
    }
    atomic_flag_clear(&busy);
  }
  if (l1d) *l1d = info.l1d;
  if (l2) *l2 = info.l2;
  if (source) *source = info.source;
}
