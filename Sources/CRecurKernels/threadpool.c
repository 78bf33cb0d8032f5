// The persistent thread pool behind GEMM and recur_parallel_for, and per-thread scratch memory.
//
// Workers are created on first use and live for the process. Each has its own cache line with a
// job sequence number: the dispatching thread writes the job, then bumps the sequence numbers of
// the workers it wants (release); a worker spins on its number (pause) for RECUR_SPIN_NS after
// its last job, then sleeps on a condition variable. A dispatch to spinning workers costs well
// under a microsecond plus the cache-line transfers.
//
// A job has nthreads parts. Parts are claimed, not assigned: the dispatcher and the woken
// workers take the next unclaimed part from one atomic word (job number, number of parts, next
// part) until none is left, and the dispatcher then waits for the parts still running. So a worker that the
// OS has not scheduled yet (a busy machine) does not hold the job up: the dispatcher runs its
// part. A worker that wakes for a job already finished finds the job number changed and claims
// nothing.
//
// One job at a time: a dispatch while another is running (from another thread, or nested inside
// a task) runs on the calling thread alone.
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define RECUR_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define RECUR_CPU_RELAX() __asm__ __volatile__("yield")
#else
#define RECUR_CPU_RELAX() ((void)0)
#endif

/// How long an idle worker spins before it sleeps: long enough to bridge the gaps between the
/// GEMMs and pointwise kernels of consecutive RNN time steps.
#define RECUR_SPIN_NS 200000L

#define RECUR_MAX_WORKERS 255

// MARK: - Memory

void *recur_aligned_alloc(size_t bytes) {
  void *p = NULL;
  if (bytes == 0) bytes = 64;
  if (posix_memalign(&p, 64, (bytes + 63) & ~(size_t)63) != 0 || p == NULL) {
    fprintf(stderr, "CRecurKernels: out of memory allocating %zu bytes\n", bytes);
    abort();
  }
  return p;
}

typedef struct {
  float *buf[RECUR_SCRATCH_SLOTS];
  size_t cap[RECUR_SCRATCH_SLOTS];
} recur_scratch_set;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local recur_scratch_set *tls_scratch;

static void scratch_free(void *p) {
  recur_scratch_set *s = p;
  for (int i = 0; i < RECUR_SCRATCH_SLOTS; i++) free(s->buf[i]);
  free(s);
}

static void scratch_key_init(void) { pthread_key_create(&scratch_key, scratch_free); }

float *recur_scratch(int slot, size_t nfloats) {
  recur_scratch_set *s = tls_scratch;
  if (s == NULL) {
    pthread_once(&scratch_once, scratch_key_init);
    s = calloc(1, sizeof *s);
    if (s == NULL) abort();
    pthread_setspecific(scratch_key, s);  // frees it when the thread exits
    tls_scratch = s;
  }
  if (s->cap[slot] < nfloats) {
    free(s->buf[slot]);
    size_t cap = nfloats + nfloats / 4 + 16;
    s->buf[slot] = recur_aligned_alloc(cap * sizeof(float));
    s->cap[slot] = cap;
  }
  return s->buf[slot];
}

// MARK: - Threads setting

static atomic_int g_num_threads;  // 0 until first read: then the default

static int default_num_threads(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int allowed = CPU_COUNT(&set);
    if (allowed > 0 && allowed < n) n = allowed;
  }
#endif
  if (n < 1) n = 1;
  if (n > RECUR_MAX_WORKERS + 1) n = RECUR_MAX_WORKERS + 1;
  return (int)n;
}

void recur_set_num_threads(int n) {
  if (n < 1) n = 1;
  if (n > RECUR_MAX_WORKERS + 1) n = RECUR_MAX_WORKERS + 1;
  atomic_store(&g_num_threads, n);
}

int recur_max_threads(void) { return RECUR_MAX_WORKERS + 1; }

int recur_get_num_threads(void) {
  int n = atomic_load_explicit(&g_num_threads, memory_order_relaxed);
  if (n == 0) {
    int expected = 0;
    atomic_compare_exchange_strong(&g_num_threads, &expected, default_num_threads());
    n = atomic_load(&g_num_threads);
  }
  return n;
}

// MARK: - Pool

typedef struct {
  _Alignas(64) atomic_ulong seq;  // number of the last job this worker was asked to join
  atomic_int sleeping;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  int tid;
} recur_worker;

static struct {
  pthread_mutex_t create_mu;
  recur_worker *workers[RECUR_MAX_WORKERS + 1];  // index = tid (1..)
  atomic_int nworkers;
  atomic_int busy;
  uint32_t seq;  // number of the current job (written by the dispatcher holding `busy`)
  // The current job, written (relaxed) before the release store of `claim` that announces it
  // and read (relaxed) only after a part of it was claimed, which keeps the job alive. Atomic
  // because a late worker's read may overlap the next job's write.
  _Atomic(recur_task_fn) fn;
  _Atomic(void *) ctx;
  // the dispatcher's thread settings, under which every part runs
  _Atomic(const struct recur_isa_ops *) forced;
  atomic_int matmul_precision;
  // job number << 32 | number of parts << 16 | next unclaimed part: one word, so a claim checks
  // job and bounds in one compare-and-swap
  _Alignas(64) _Atomic uint64_t claim;
  _Alignas(64) atomic_int done;         // parts finished
} pool = {.create_mu = PTHREAD_MUTEX_INITIALIZER};

/// Claims and runs parts of job `seq` until none is left.
static void run_parts(uint32_t seq) {
  uint64_t c = atomic_load_explicit(&pool.claim, memory_order_acquire);
  for (;;) {
    if ((uint32_t)(c >> 32) != seq) return;  // that job is over
    int n = (int)((c >> 16) & 0xFFFF), part = (int)(c & 0xFFFF);
    if (part >= n) return;
    if (!atomic_compare_exchange_weak_explicit(&pool.claim, &c, c + 1, memory_order_acq_rel,
                                               memory_order_acquire)) {
      continue;  // c was reloaded
    }
    recur_task_fn fn = atomic_load_explicit(&pool.fn, memory_order_relaxed);
    recur_thread_settings own = recur_get_thread_settings();
    recur_set_thread_settings((recur_thread_settings){
        atomic_load_explicit(&pool.forced, memory_order_relaxed),
        atomic_load_explicit(&pool.matmul_precision, memory_order_relaxed)});
    fn(atomic_load_explicit(&pool.ctx, memory_order_relaxed), part, n);
    recur_set_thread_settings(own);
    atomic_fetch_add_explicit(&pool.done, 1, memory_order_release);
    c = atomic_load_explicit(&pool.claim, memory_order_acquire);
  }
}

static long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (long)ts.tv_sec * 1000000000L + ts.tv_nsec;
}

static void *worker_main(void *arg) {
  recur_worker *w = arg;
  unsigned long seen = 0;  // the value at creation: a job may already be posted when we start
  for (;;) {
    unsigned long s;
    long deadline = now_ns() + RECUR_SPIN_NS;
    for (unsigned spins = 1;; spins++) {
      s = atomic_load_explicit(&w->seq, memory_order_acquire);
      if (s != seen) break;
      RECUR_CPU_RELAX();
      if ((spins & 255) == 0 && now_ns() > deadline) {
        pthread_mutex_lock(&w->mu);
        atomic_store(&w->sleeping, 1);  // seq_cst: pairs with the dispatcher's seq store + load
        while ((s = atomic_load(&w->seq)) == seen) pthread_cond_wait(&w->cv, &w->mu);
        atomic_store(&w->sleeping, 0);
        pthread_mutex_unlock(&w->mu);
        break;
      }
    }
    seen = s;
    run_parts((uint32_t)s);
  }
  return NULL;
}

/// Makes sure workers 1..n-1 exist. Returns how many threads can run (n, or fewer if thread
/// creation failed).
static int ensure_workers(int n) {
  if (atomic_load_explicit(&pool.nworkers, memory_order_acquire) >= n - 1) return n;
  pthread_mutex_lock(&pool.create_mu);
  int have = atomic_load(&pool.nworkers);
  while (have < n - 1) {
    int tid = have + 1;
    recur_worker *w = recur_aligned_alloc(sizeof *w);
    memset(w, 0, sizeof *w);
    atomic_init(&w->seq, 0);
    atomic_init(&w->sleeping, 0);
    pthread_mutex_init(&w->mu, NULL);
    pthread_cond_init(&w->cv, NULL);
    w->tid = tid;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_t th;
    int rc = pthread_create(&th, &attr, worker_main, w);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
      free(w);
      break;
    }
    pool.workers[tid] = w;
    have++;
    atomic_store_explicit(&pool.nworkers, have, memory_order_release);
  }
  pthread_mutex_unlock(&pool.create_mu);
  return have + 1 < n ? have + 1 : n;
}

void recur_pool_run(int nthreads, recur_task_fn fn, void *ctx) {
  int limit = recur_get_num_threads();
  if (nthreads > limit) nthreads = limit;
  if (nthreads > 1) nthreads = ensure_workers(nthreads);
  int idle = 0;
  if (nthreads <= 1 || !atomic_compare_exchange_strong(&pool.busy, &idle, 1)) {
    fn(ctx, 0, 1);
    return;
  }
  atomic_store_explicit(&pool.fn, fn, memory_order_relaxed);
  atomic_store_explicit(&pool.ctx, ctx, memory_order_relaxed);
  recur_thread_settings settings = recur_get_thread_settings();
  atomic_store_explicit(&pool.forced, settings.forced, memory_order_relaxed);
  atomic_store_explicit(&pool.matmul_precision, settings.matmul_precision, memory_order_relaxed);
  atomic_store_explicit(&pool.done, 0, memory_order_relaxed);
  uint32_t seq = ++pool.seq;
  atomic_store_explicit(&pool.claim, (uint64_t)seq << 32 | (uint64_t)nthreads << 16,
                        memory_order_release);
  for (int t = 1; t < nthreads; t++) {
    recur_worker *w = pool.workers[t];
    atomic_store(&w->seq, seq);  // seq_cst: a worker going to sleep either sees it or is seen
    if (atomic_load(&w->sleeping)) {
      pthread_mutex_lock(&w->mu);
      pthread_cond_signal(&w->cv);
      pthread_mutex_unlock(&w->mu);
    }
  }
  run_parts(seq);
  for (unsigned spins = 1; atomic_load_explicit(&pool.done, memory_order_acquire) != nthreads; spins++) {
    RECUR_CPU_RELAX();
    if ((spins & 4095) == 0) sched_yield();  // a descheduled worker is running a part
  }
  atomic_store_explicit(&pool.busy, 0, memory_order_release);
}

// MARK: - Parallel for

typedef struct {
  int n;
  void (*fn)(void *ctx, int begin, int end);
  void *ctx;
} recur_pfor_job;

static void pfor_task(void *p, int tid, int nthreads) {
  recur_pfor_job *job = p;
  int begin = (int)((long)job->n * tid / nthreads);
  int end = (int)((long)job->n * (tid + 1) / nthreads);
  if (begin < end) job->fn(job->ctx, begin, end);
}

void recur_parallel_for_grain(int n, int grain, void (*fn)(void *ctx, int begin, int end),
                              void *ctx) {
  if (n <= 0) return;
  if (grain < 1) grain = 1;
  int parts = (int)(((long)n + grain - 1) / grain);
  int nthreads = recur_get_num_threads();
  if (parts < nthreads) nthreads = parts;
  if (nthreads <= 1) {
    fn(ctx, 0, n);
    return;
  }
  recur_pfor_job job = {n, fn, ctx};
  recur_pool_run(nthreads, pfor_task, &job);
}

void recur_parallel_for(int n, void (*fn)(void *ctx, int begin, int end), void *ctx) {
  recur_parallel_for_grain(n, 1, fn, ctx);
}
