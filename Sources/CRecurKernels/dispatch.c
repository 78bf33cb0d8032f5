// Runtime ISA dispatch (CPUID once, RECUR_ISA override, per-thread forcing for tests), the
// public vector math entry points and the peak-FLOP measurement.
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

static const recur_isa_ops *isa_table(int isa) {
  switch (isa) {
#if defined(__x86_64__) || defined(__i386__)
    case RECUR_ISA_AVX512: return &recur_ops_avx512;
    case RECUR_ISA_AVX2: return &recur_ops_avx2;
#endif
    case RECUR_ISA_PORTABLE: return &recur_ops_portable;
    default: return NULL;
  }
}

/// Whether this CPU (and OS: the checks include XSAVE state support) can run `isa`.
static int cpu_supports(int isa) {
  switch (isa) {
    case RECUR_ISA_PORTABLE: return 1;
#if defined(__x86_64__) || defined(__i386__)
    case RECUR_ISA_AVX2:
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    case RECUR_ISA_AVX512:
#ifdef RECUR_AVX512_MODEL  // compiled against avx512_model/immintrin.h: runs anywhere
      return 1;
#else
      __builtin_cpu_init();
      return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512dq") &&
             __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("fma");
#endif
#endif
    default: return 0;
  }
}

static int isa_from_name(const char *name) {
  if (name == NULL) return -1;
  if (strcmp(name, "avx512") == 0) return RECUR_ISA_AVX512;
  if (strcmp(name, "avx2") == 0) return RECUR_ISA_AVX2;
  if (strcmp(name, "portable") == 0) return RECUR_ISA_PORTABLE;
  return -1;
}

static int best_isa(void) {
  for (int isa = RECUR_ISA_COUNT - 1; isa > 0; isa--) {
    if (cpu_supports(isa)) return isa;
  }
  return RECUR_ISA_PORTABLE;
}

/// The start-up choice: RECUR_ISA if set and supported, else the best the CPU has.
static int startup_isa(void) {
  const char *env = getenv("RECUR_ISA");
  if (env != NULL && env[0] != '\0') {
    int isa = isa_from_name(env);
    if (isa < 0) {
      fprintf(stderr, "CRecurKernels: ignoring RECUR_ISA=%s (expected avx512, avx2 or portable)\n", env);
    } else if (cpu_supports(isa)) {
      return isa;
    }
  }
  return best_isa();
}

static _Atomic(const recur_isa_ops *) g_ops;          // the process-wide choice
static _Thread_local const recur_isa_ops *tls_forced;  // recur_force_isa on this thread

const recur_isa_ops *recur_active_ops(void) {
  const recur_isa_ops *ops = tls_forced;
  if (ops != NULL) return ops;
  ops = atomic_load_explicit(&g_ops, memory_order_acquire);
  if (ops == NULL) {
    const recur_isa_ops *expected = NULL;
    atomic_compare_exchange_strong(&g_ops, &expected, isa_table(startup_isa()));
    ops = atomic_load(&g_ops);
  }
  return ops;
}

const char *recur_isa_name(void) { return recur_active_ops()->name; }

static _Thread_local int tls_matmul_precision = -1;  // recur_set_thread_matmul_precision; -1: none

recur_thread_settings recur_get_thread_settings(void) {
  return (recur_thread_settings){tls_forced, tls_matmul_precision};
}

void recur_set_thread_settings(recur_thread_settings settings) {
  tls_forced = settings.forced;
  tls_matmul_precision = settings.matmul_precision;
}

// MARK: - Matmul precision

static atomic_int g_matmul_precision;  // RECUR_MATMUL_HIGHEST until set

/// Whether the CPU (and OS) can run AVX512_BF16 instructions.
static int cpu_supports_bf16(void) {
#if (defined(__x86_64__) || defined(__i386__)) && !defined(RECUR_AVX512_MODEL)
  __builtin_cpu_init();
  return cpu_supports(RECUR_ISA_AVX512) && __builtin_cpu_supports("avx512bf16");
#else
  return 0;
#endif
}

void recur_set_matmul_precision(int precision) {
  atomic_store(&g_matmul_precision, precision == RECUR_MATMUL_MEDIUM ? RECUR_MATMUL_MEDIUM : RECUR_MATMUL_HIGHEST);
}

void recur_set_thread_matmul_precision(int precision) {
  tls_matmul_precision = precision == RECUR_MATMUL_MEDIUM ? RECUR_MATMUL_MEDIUM
                         : precision == RECUR_MATMUL_HIGHEST ? RECUR_MATMUL_HIGHEST : -1;
}

int recur_get_thread_matmul_precision(void) { return tls_matmul_precision; }

int recur_get_matmul_precision(void) {
  int p = tls_matmul_precision;
  return p >= 0 ? p : atomic_load_explicit(&g_matmul_precision, memory_order_relaxed);
}

int recur_bf16_gemm_available(void) {
  static atomic_int cached = -1;
  int c = atomic_load_explicit(&cached, memory_order_relaxed);
  if (c < 0) {
    c = cpu_supports_bf16();
    atomic_store(&cached, c);
  }
  return c && recur_active_ops()->isa == RECUR_ISA_AVX512;
}

const recur_isa_ops *recur_gemm_ops(void) {
  const recur_isa_ops *ops = recur_active_ops();
#if (defined(__x86_64__) || defined(__i386__)) && !defined(RECUR_AVX512_MODEL)
  if (recur_get_matmul_precision() == RECUR_MATMUL_MEDIUM &&
      recur_bf16_gemm_available()) {
    return &recur_ops_avx512_bf16;
  }
#endif
  return ops;
}

int recur_packed_b_format(void) {
  const recur_isa_ops *ops = recur_gemm_ops();
  return ops->isa * 2 + ops->bf16;
}

int recur_isa_supported(const char *name) {
  int isa = isa_from_name(name);
  return isa >= 0 && isa_table(isa) != NULL && cpu_supports(isa);
}

int recur_force_isa(const char *name) {
  if (name == NULL || strcmp(name, "auto") == 0) {
    tls_forced = NULL;
    return 1;
  }
  int isa = isa_from_name(name);
  if (isa < 0 || isa_table(isa) == NULL || !cpu_supports(isa)) return 0;
  tls_forced = isa_table(isa);
  return 1;
}

// MARK: - Vector math

typedef struct {
  void (*fn)(const float *, float *, size_t);
  const float *x;
  float *y;
} recur_vmap_job;

enum { RECUR_VMAP_CHUNK = 4096 };  // floats per parallel-for index

static void vmap_range(void *p, int begin, int end) {
  recur_vmap_job *job = p;
  size_t i0 = (size_t)begin * RECUR_VMAP_CHUNK;
  job->fn(job->x + i0, job->y + i0, (size_t)(end - begin) * RECUR_VMAP_CHUNK);
}

/// y = f(x), split over the pool when n is large (>= 64K floats).
static void vmap(void (*fn)(const float *, float *, size_t), const float *x, float *y, size_t n) {
  if (n < 16 * RECUR_VMAP_CHUNK || recur_get_num_threads() == 1 ||
      n / RECUR_VMAP_CHUNK > (size_t)0x7fffffff) {
    fn(x, y, n);
    return;
  }
  recur_vmap_job job = {fn, x, y};
  size_t chunks = n / RECUR_VMAP_CHUNK;
  recur_parallel_for_grain((int)chunks, 8, vmap_range, &job);
  size_t done = chunks * RECUR_VMAP_CHUNK;
  if (done < n) fn(x + done, y + done, n - done);
}

void recur_vexp(const float *x, float *y, size_t n) { vmap(recur_active_ops()->vexp, x, y, n); }

void recur_vsigmoid(const float *x, float *y, size_t n) {
  vmap(recur_active_ops()->vsigmoid, x, y, n);
}

void recur_vtanh(const float *x, float *y, size_t n) { vmap(recur_active_ops()->vtanh, x, y, n); }

// MARK: - Peak

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

double recur_measure_peak_gflops(double seconds) {
  const recur_isa_ops *ops = recur_active_ops();
  if (!(seconds > 0)) seconds = 0.2;
  // calibrate a burst of ~2 ms, then keep the best burst: the clock ramps up and other
  // processes interrupt, and both only ever slow a burst down
  long iters = 1000;
  for (;;) {
    double t0 = seconds_now();
    ops->fma_loop(iters);
    double dt = seconds_now() - t0;
    if (dt > 1e-3 || iters > (1L << 40)) {
      iters = (long)((double)iters * 2e-3 / (dt > 0 ? dt : 1e-9)) + 1;
      break;
    }
    iters *= 4;
  }
  double best = 0, start = seconds_now();
  do {
    double t0 = seconds_now();
    double flops = ops->fma_loop(iters);
    double dt = seconds_now() - t0;
    if (dt > 0 && flops / dt > best) best = flops / dt;
  } while (seconds_now() - start < seconds);
  return best * 1e-9;
}
