// Double-precision kernels for echo-state networks (see include/recur_reservoir.h).
//
// Two paths: AVX2+FMA (functions marked __attribute__((target("avx2,fma"))), no global -m flags) and a
// portable scalar path. The path is chosen once, at first use, from __builtin_cpu_supports; the
// environment variable RECUR_ISA=portable forces the portable one (for testing it).

#include "recur_reservoir.h"
#include "recur_kernels.h"

#include <math.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#define RECUR_RES_X86 1
#include <immintrin.h>
#else
#define RECUR_RES_X86 0
#endif

// MARK: - Dispatch

static int g_res_path = -1;  // 0 portable, 1 avx2

static int res_path(void) {
  int p = __atomic_load_n(&g_res_path, __ATOMIC_RELAXED);
  if (p >= 0) return p;
  p = 0;
#if RECUR_RES_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) p = 1;
#endif
  const char *force = getenv("RECUR_ISA");
  if (force && strcmp(force, "portable") == 0) p = 0;
  __atomic_store_n(&g_res_path, p, __ATOMIC_RELAXED);
  return p;
}

const char *recur_reservoir_isa_name(void) { return res_path() == 1 ? "avx2" : "portable"; }

// MARK: - Portable kernels

static double dot_portable(int n, const double *a, const double *b);
#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("avx2,fma"))) static double dot_avx2(int n, const double *a, const double *b);
#endif

static void vtanh_portable(const double *x, double *y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = tanh(x[i]);
}

static void csr_matvec_portable(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int k = rs[i], end = rs[i + 1];
    for (; k + 4 <= end; k += 4) {
      s0 += v[k] * x[ci[k]];
      s1 += v[k + 1] * x[ci[k + 1]];
      s2 += v[k + 2] * x[ci[k + 2]];
      s3 += v[k + 3] * x[ci[k + 3]];
    }
    for (; k < end; k++) s0 += v[k] * x[ci[k]];
    y[i] = (s0 + s1) + (s2 + s3);
  }
}

// MARK: - AVX2 + FMA kernels

#if RECUR_RES_X86
#define AVX2 __attribute__((target("avx2,fma")))

// tanh for 4 doubles. |x| < 0.625: Cephes rational x + x z P(z)/Q(z), z = x^2 (relative error
// ~1e-17); otherwise (e - 1)/(e + 1) with e = exp(2|x|) (no cancellation since e > 3.4). Both
// branches are folded into one division; the sign is put back at the end.
AVX2 static inline __m256d tanh4(__m256d x) {
  const __m256d sign_mask = _mm256_set1_pd(-0.0);
  __m256d ax = _mm256_andnot_pd(sign_mask, x);
  __m256d sgn = _mm256_and_pd(sign_mask, x);
  const __m256d one = _mm256_set1_pd(1.0);

  // Small branch.
  __m256d z = _mm256_mul_pd(ax, ax);
  __m256d p = _mm256_fmadd_pd(_mm256_set1_pd(-9.64399179425052238628e-1), z, _mm256_set1_pd(-9.92877231001918586564e1));
  p = _mm256_fmadd_pd(p, z, _mm256_set1_pd(-1.61468768441708447952e3));
  p = _mm256_mul_pd(p, z);
  __m256d q = _mm256_add_pd(z, _mm256_set1_pd(1.12811678491632931402e2));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(2.23548839060100448583e3));
  q = _mm256_fmadd_pd(q, z, _mm256_set1_pd(4.84406305325125486048e3));
  __m256d num_s = _mm256_fmadd_pd(ax, p, _mm256_mul_pd(ax, q));  // ax*q + ax*p  -> (ax*Q + ax*z*P')/Q
  __m256d den_s = q;

  // Large branch: e = exp(y), y = 2|x| clamped to [0, 40] (tanh(20) rounds to 1).
  __m256d y = _mm256_min_pd(_mm256_add_pd(ax, ax), _mm256_set1_pd(40.0));
  __m256d nd = _mm256_round_pd(_mm256_mul_pd(y, _mm256_set1_pd(1.4426950408889634074)),
                               _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256d r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(6.93147180369123816490e-1), y);
  r = _mm256_fnmadd_pd(nd, _mm256_set1_pd(1.90821492927058770002e-10), r);
  // exp(r), |r| <= 0.347: Taylor polynomial of degree 12 (truncation error < 2e-16).
  __m256d e = _mm256_set1_pd(1.0 / 479001600.0);
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 39916800.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 3628800.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 362880.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 40320.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 5040.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 720.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 120.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 24.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(1.0 / 6.0));
  e = _mm256_fmadd_pd(e, r, _mm256_set1_pd(0.5));
  e = _mm256_fmadd_pd(e, r, one);
  e = _mm256_fmadd_pd(e, r, one);
  // Scale by 2^n: n in [0, 58], put n + 1023 in the exponent field.
  __m256i ni = _mm256_castpd_si256(_mm256_add_pd(nd, _mm256_set1_pd(6755399441055744.0)));  // 0x1.8p52
  ni = _mm256_slli_epi64(_mm256_add_epi64(ni, _mm256_set1_epi64x(1023)), 52);
  e = _mm256_mul_pd(e, _mm256_castsi256_pd(ni));
  __m256d num_l = _mm256_sub_pd(e, one);
  __m256d den_l = _mm256_add_pd(e, one);

  __m256d small = _mm256_cmp_pd(ax, _mm256_set1_pd(0.625), _CMP_LT_OQ);
  __m256d num = _mm256_blendv_pd(num_l, num_s, small);
  __m256d den = _mm256_blendv_pd(den_l, den_s, small);
  __m256d t = _mm256_div_pd(num, den);
  // NaN inputs stay NaN (the min above would otherwise turn them into tanh(20)).
  __m256d isnan = _mm256_cmp_pd(x, x, _CMP_UNORD_Q);
  t = _mm256_blendv_pd(t, x, isnan);
  return _mm256_or_pd(t, sgn);
}

AVX2 static void vtanh_avx2(const double *x, double *y, size_t n) {
  size_t i = 0;
  for (; i + 4 <= n; i += 4) _mm256_storeu_pd(y + i, tanh4(_mm256_loadu_pd(x + i)));
  if (i < n) {
    double bx[4] = {0, 0, 0, 0}, by[4];
    for (size_t k = i; k < n; k++) bx[k - i] = x[k];
    _mm256_storeu_pd(by, tanh4(_mm256_loadu_pd(bx)));
    for (size_t k = i; k < n; k++) y[k] = by[k - i];
  }
}

AVX2 static inline double hsum4(__m256d v) {
  __m128d lo = _mm256_castpd256_pd128(v), hi = _mm256_extractf128_pd(v, 1);
  lo = _mm_add_pd(lo, hi);
  return _mm_cvtsd_f64(_mm_add_sd(lo, _mm_unpackhi_pd(lo, lo)));
}

// Gathers measured slower than scalar loads here (Zen 3), so x is assembled from scalar loads; the
// values come in as vectors and the products accumulate in two vector registers.
AVX2 static void csr_matvec_avx2(int rows, const int32_t *rs, const int32_t *ci, const double *v,
                                 const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    int k = rs[i], end = rs[i + 1];
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    for (; k + 8 <= end; k += 8) {
      __m128d l0 = _mm_loadh_pd(_mm_load_sd(x + ci[k]), x + ci[k + 1]);
      __m128d h0 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 2]), x + ci[k + 3]);
      __m128d l1 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 4]), x + ci[k + 5]);
      __m128d h1 = _mm_loadh_pd(_mm_load_sd(x + ci[k + 6]), x + ci[k + 7]);
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k), _mm256_set_m128d(h0, l0), a0);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k + 4), _mm256_set_m128d(h1, l1), a1);
    }
    double s = hsum4(_mm256_add_pd(a0, a1));
    for (; k < end; k++) s += v[k] * x[ci[k]];
    y[i] = s;
  }
}

// The same with 16-bit column indices (reservoirs up to 65,536 units): four indices arrive in one
// 64-bit load, which leaves more load slots for x (about 5 % faster here).
AVX2 static void csr_matvec_u16_avx2(int rows, const int32_t *rs, const uint16_t *ci, const double *v,
                                     const double *x, double *y) {
  for (int i = 0; i < rows; i++) {
    int k = rs[i], end = rs[i + 1];
    __m256d a0 = _mm256_setzero_pd(), a1 = _mm256_setzero_pd();
    for (; k + 8 <= end; k += 8) {
      uint64_t p, q;
      memcpy(&p, ci + k, 8);
      memcpy(&q, ci + k + 4, 8);
      __m128d l0 = _mm_loadh_pd(_mm_load_sd(x + (p & 0xFFFF)), x + ((p >> 16) & 0xFFFF));
      __m128d h0 = _mm_loadh_pd(_mm_load_sd(x + ((p >> 32) & 0xFFFF)), x + (p >> 48));
      __m128d l1 = _mm_loadh_pd(_mm_load_sd(x + (q & 0xFFFF)), x + ((q >> 16) & 0xFFFF));
      __m128d h1 = _mm_loadh_pd(_mm_load_sd(x + ((q >> 32) & 0xFFFF)), x + (q >> 48));
      a0 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k), _mm256_set_m128d(h0, l0), a0);
      a1 = _mm256_fmadd_pd(_mm256_loadu_pd(v + k + 4), _mm256_set_m128d(h1, l1), a1);
    }
    double s = hsum4(_mm256_add_pd(a0, a1));
    for (; k < end; k++) s += v[k] * x[ci[k]];
    y[i] = s;
  }
}
#endif

// MARK: - Vector tanh and sparse products

void recur_vtanh_f64(const double *x, double *y, size_t n) {
#if RECUR_RES_X86
  if (res_path() == 1) { vtanh_avx2(x, y, n); return; }
#endif
  vtanh_portable(x, y, n);
}

void recur_csr_matvec_f64(int rows, const int32_t *row_start, const int32_t *col_index,
                          const double *values, const double *x, double *y) {
#if RECUR_RES_X86
  if (res_path() == 1) { csr_matvec_avx2(rows, row_start, col_index, values, x, y); return; }
#endif
  csr_matvec_portable(rows, row_start, col_index, values, x, y);
}

// MARK: - Read-out

typedef struct {
  int n, k, ldx, avx;
  const double *X, *W, *b;
  double *out;
} readout_job;

#if RECUR_RES_X86
AVX2 static void readout_rows_avx2(const readout_job *j, int begin, int end) {
  const int n = j->n, K = j->k;
  for (int t = begin; t < end; t++) {
    const double *x = j->X + (size_t)t * j->ldx;
    double *o = j->out + (size_t)t * K;
    if (K == 1) {
      o[0] = j->b[0] + dot_avx2(n, x, j->W);  // W is [n, 1]: contiguous
      continue;
    }
    for (int k = 0; k < K; k++) o[k] = j->b[k];
    for (int i = 0; i < n; i++) {
      const __m256d a = _mm256_set1_pd(x[i]);
      const double *w = j->W + (size_t)i * K;
      int k = 0;
      for (; k + 4 <= K; k += 4) _mm256_storeu_pd(o + k, _mm256_fmadd_pd(a, _mm256_loadu_pd(w + k), _mm256_loadu_pd(o + k)));
      for (; k < K; k++) o[k] += x[i] * w[k];
    }
  }
}
#endif

static void readout_rows(void *p, int begin, int end) {
  const readout_job *j = p;
#if RECUR_RES_X86
  if (j->avx) { readout_rows_avx2(j, begin, end); return; }
#endif
  const int n = j->n, K = j->k;
  for (int t = begin; t < end; t++) {
    const double *x = j->X + (size_t)t * j->ldx;
    double *o = j->out + (size_t)t * K;
    if (K == 1) { o[0] = j->b[0] + dot_portable(n, x, j->W); continue; }
    for (int k = 0; k < K; k++) o[k] = j->b[k];
    for (int i = 0; i < n; i++) {
      const double xi = x[i];
      const double *w = j->W + (size_t)i * K;
      for (int k = 0; k < K; k++) o[k] += xi * w[k];
    }
  }
}

void recur_readout_f64(int rows, int n, int k, const double *X, int ldx, const double *W,
                       const double *b, double *out) {
  readout_job job = {n, k, ldx, res_path() == 1, X, W, b, out};
  if ((long)rows * n * k >= 2000000L) recur_parallel_for_grain(rows, 256, readout_rows, &job);
  else readout_rows(&job, 0, rows);
}

// MARK: - Reservoir run

// One step for rows [begin, end) of the state. (Splitting a step's rows over threads halves it on
// an idle machine but costs more than it saves when the cores are shared, because every step
// then waits for the slowest thread; the parallelism is in recur_esn_run_gram_f64 instead.)
typedef struct {
  int inputs, avx;
  const int32_t *rs, *ci;
  const double *v, *w_in, *bias, *prev, *ut;
  double leak, keep;
  double *cur, *work;
  const uint16_t *ci16;  // 16-bit copy of ci, or NULL
} esn_step_job;

#if RECUR_RES_X86
// After the sparse product: x = keep * prev + leak * tanh(work + W_in u + b), one AVX2 pass.
AVX2 static void esn_finish_avx2(const esn_step_job *j, int begin, int end) {
  const __m256d keep = _mm256_set1_pd(j->keep), leak = _mm256_set1_pd(j->leak);
  const __m256d u0 = _mm256_set1_pd(j->ut[0]);
  int i = begin;
  if (j->inputs == 1) {
    for (; i + 4 <= end; i += 4) {
      __m256d a = _mm256_fmadd_pd(_mm256_loadu_pd(j->w_in + i), u0, _mm256_loadu_pd(j->work + i));
      if (j->bias) a = _mm256_add_pd(a, _mm256_loadu_pd(j->bias + i));
      __m256d x = _mm256_fmadd_pd(leak, tanh4(a), _mm256_mul_pd(keep, _mm256_loadu_pd(j->prev + i)));
      _mm256_storeu_pd(j->cur + i, x);
    }
  }
  for (; i < end; i++) {
    double a = j->work[i];
    const double *wr = j->w_in + (size_t)i * j->inputs;
    for (int f = 0; f < j->inputs; f++) a += wr[f] * j->ut[f];
    if (j->bias) a += j->bias[i];
    double buf[4] = {a, 0, 0, 0}, out[4];
    _mm256_storeu_pd(out, tanh4(_mm256_loadu_pd(buf)));
    j->cur[i] = j->keep * j->prev[i] + j->leak * out[0];
  }
}
#endif

static void esn_step_rows(const esn_step_job *j, int begin, int end) {
  const int n = end - begin;
  double *work = j->work + begin;
#if RECUR_RES_X86
  if (j->avx) {
    if (j->ci16) csr_matvec_u16_avx2(n, j->rs + begin, j->ci16, j->v, j->prev, work);
    else csr_matvec_avx2(n, j->rs + begin, j->ci, j->v, j->prev, work);
    esn_finish_avx2(j, begin, end);
    return;
  }
#endif
  csr_matvec_portable(n, j->rs + begin, j->ci, j->v, j->prev, work);
  if (j->inputs == 1) {
    const double u0 = j->ut[0];
    for (int i = begin; i < end; i++) j->work[i] += j->w_in[i] * u0;
  } else {
    for (int i = begin; i < end; i++) {
      const double *wr = j->w_in + (size_t)i * j->inputs;
      double s = 0;
      for (int f = 0; f < j->inputs; f++) s += wr[f] * j->ut[f];
      j->work[i] += s;
    }
  }
  if (j->bias) for (int i = begin; i < end; i++) j->work[i] += j->bias[i];
  vtanh_portable(work, work, (size_t)n);
  for (int i = begin; i < end; i++) j->cur[i] = j->keep * j->prev[i] + j->leak * j->work[i];
}

static void esn_step_part(void *p, int begin, int end) { esn_step_rows(p, begin, end); }

static double seconds_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

// Steps run on one thread, or with each step's rows split between two threads of the pool. The
// split halves a step on an idle machine but costs more than it saves when the cores are busy
// (every step waits for the slower half), so the choice is measured, not assumed: every 1024
// steps, 32 steps are timed each way and the faster way runs the rest of the period.
// With a read-out (`ro`), the states are not kept: `states` is a two-row scratch (lds = units) and
// each step's output W_out^T [x_t; u_t] + b goes to ro->out.
typedef struct {
  const double *w, *b;  // [features, k], [k]
  int k, with_input;
  double *out;          // [steps, k]
  double *features;     // scratch [units + inputs]
} esn_readout_ctx;

static void esn_run_steps(int units, int inputs, int steps, const int32_t *row_start, const int32_t *col_index,
                          const double *values, const double *w_in, const double *bias, double leak,
                          const double *u, int ldu, const double *x0, double *states, int lds, double *work,
                          _Atomic int *produced, const esn_readout_ctx *ro) {
  esn_step_job job = {inputs, res_path() == 1, row_start, col_index, values, w_in, bias, NULL, NULL,
                      leak, 1.0 - leak, NULL, work, NULL};
  uint16_t *ci16 = NULL;
  if (job.avx && units <= 65536 && steps >= 16) {
    const int nnz = row_start[units];
    ci16 = malloc(sizeof(uint16_t) * (size_t)(nnz > 0 ? nnz : 1));
    if (ci16) {
      for (int k = 0; k < nnz; k++) ci16[k] = (uint16_t)col_index[k];
      job.ci16 = ci16;
    }
  }
  const int can_split = !produced && row_start[units] >= 8192 && units >= 64 && recur_get_num_threads() > 1;
  const int half = (units + 1) / 2;
  int split = 0;
  double t_single = 0, t_split = 0, mark = 0;
  for (int t = 0; t < steps; t++) {
    if (can_split) {
      const int phase = t % 1024;
      if (phase == 0) { split = 0; mark = seconds_now(); }
      else if (phase == 32) { t_single = seconds_now() - mark; split = 1; mark = seconds_now(); }
      else if (phase == 64) { t_split = seconds_now() - mark; split = t_split < 0.9 * t_single; }
    }
    const size_t row = ro ? (size_t)(t & 1) : (size_t)t, prev_row = ro ? (size_t)((t + 1) & 1) : (size_t)t - 1;
    job.prev = t == 0 ? x0 : states + prev_row * lds;
    job.cur = states + row * lds;
    job.ut = u + (size_t)t * ldu;
    if (split) recur_parallel_for_grain(units, half, esn_step_part, &job);
    else esn_step_rows(&job, 0, units);
    if (ro) {
      const int n = units + (ro->with_input ? inputs : 0);
      memcpy(ro->features, job.cur, sizeof(double) * units);
      if (ro->with_input) memcpy(ro->features + units, job.ut, sizeof(double) * inputs);
      readout_job rj = {n, ro->k, n, job.avx, ro->features, ro->w, ro->b, ro->out + (size_t)t * ro->k};
      readout_rows(&rj, 0, 1);
    }
    if (produced && ((t + 1) % 32 == 0 || t + 1 == steps)) {
      atomic_store_explicit(produced, t + 1, memory_order_release);
    }
  }
  free(ci16);
}

void recur_esn_run_f64(int units, int inputs, int steps,
                       const int32_t *row_start, const int32_t *col_index, const double *values,
                       const double *w_in, const double *bias, double leak,
                       const double *u, int ldu, const double *x0, double *states, double *work) {
  esn_run_steps(units, inputs, steps, row_start, col_index, values, w_in, bias, leak, u, ldu, x0, states,
                units, work, NULL, NULL);
}

void recur_esn_run_readout_f64(int units, int inputs, int steps,
                               const int32_t *row_start, const int32_t *col_index, const double *values,
                               const double *w_in, const double *bias, double leak,
                               const double *u, int ldu, const double *x0,
                               const double *w_out, const double *b_out, int k, int with_input,
                               double *out, double *x_final, double *work) {
  if (steps <= 0) {
    memcpy(x_final, x0, sizeof(double) * units);
    return;
  }
  double *scratch = malloc(sizeof(double) * (2 * (size_t)units + (size_t)units + (size_t)inputs));
  if (!scratch) abort();
  esn_readout_ctx ro = {w_out, b_out, k, with_input, out, scratch + 2 * (size_t)units};
  esn_run_steps(units, inputs, steps, row_start, col_index, values, w_in, bias, leak, u, ldu, x0, scratch,
                units, work, NULL, &ro);
  memcpy(x_final, scratch + (size_t)((steps - 1) & 1) * units, sizeof(double) * units);
  free(scratch);
}

// MARK: - Gram matrix

// The rows are processed in blocks of GRAM_TB; each block is packed (centred) into panels of 8
// columns, [panel][t][8], so that the micro-kernel streams contiguous memory. Only the blocks on and
// below the diagonal of C are computed; the upper triangle is mirrored at the end.
#define GRAM_TB 128
#define GRAM_NR 8

static void gram_pack(int tb, int cols, const double *X, int ldx, const double *mean, double *P) {
  int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  for (int p = 0; p < panels; p++) {
    double *dst = P + (size_t)p * tb * GRAM_NR;
    int c0 = p * GRAM_NR, w = cols - c0 < GRAM_NR ? cols - c0 : GRAM_NR;
    for (int t = 0; t < tb; t++) {
      const double *src = X + (size_t)t * ldx + c0;
      double *d = dst + (size_t)t * GRAM_NR;
      int c = 0;
      if (mean) for (; c < w; c++) d[c] = src[c] - mean[c0 + c];
      else for (; c < w; c++) d[c] = src[c];
      for (; c < GRAM_NR; c++) d[c] = 0;
    }
  }
}

// acc[8][8] += A^T B over tb rows, A and B panels [tb][8].
static void gram_kernel_portable(int tb, const double *A, const double *B, double *acc) {
  for (int t = 0; t < tb; t++) {
    const double *a = A + (size_t)t * GRAM_NR, *b = B + (size_t)t * GRAM_NR;
    for (int r = 0; r < GRAM_NR; r++) {
      double ar = a[r];
      for (int c = 0; c < GRAM_NR; c++) acc[r * GRAM_NR + c] += ar * b[c];
    }
  }
}

#if RECUR_RES_X86
AVX2 static void gram_kernel_avx2(int tb, const double *A, const double *B, double *acc) {
  // Two passes of a 4x8 register tile (8 accumulators each).
  for (int half = 0; half < 2; half++) {
    const double *Ah = A + half * 4;
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd();
    __m256d c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd();
    __m256d c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    for (int t = 0; t < tb; t++) {
      const double *a = Ah + (size_t)t * GRAM_NR, *b = B + (size_t)t * GRAM_NR;
      __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
      __m256d a0 = _mm256_broadcast_sd(a), a1 = _mm256_broadcast_sd(a + 1);
      c00 = _mm256_fmadd_pd(a0, b0, c00); c01 = _mm256_fmadd_pd(a0, b1, c01);
      c10 = _mm256_fmadd_pd(a1, b0, c10); c11 = _mm256_fmadd_pd(a1, b1, c11);
      __m256d a2 = _mm256_broadcast_sd(a + 2), a3 = _mm256_broadcast_sd(a + 3);
      c20 = _mm256_fmadd_pd(a2, b0, c20); c21 = _mm256_fmadd_pd(a2, b1, c21);
      c30 = _mm256_fmadd_pd(a3, b0, c30); c31 = _mm256_fmadd_pd(a3, b1, c31);
    }
    double *o = acc + half * 4 * GRAM_NR;
    _mm256_storeu_pd(o, _mm256_add_pd(_mm256_loadu_pd(o), c00));
    _mm256_storeu_pd(o + 4, _mm256_add_pd(_mm256_loadu_pd(o + 4), c01));
    _mm256_storeu_pd(o + 8, _mm256_add_pd(_mm256_loadu_pd(o + 8), c10));
    _mm256_storeu_pd(o + 12, _mm256_add_pd(_mm256_loadu_pd(o + 12), c11));
    _mm256_storeu_pd(o + 16, _mm256_add_pd(_mm256_loadu_pd(o + 16), c20));
    _mm256_storeu_pd(o + 20, _mm256_add_pd(_mm256_loadu_pd(o + 20), c21));
    _mm256_storeu_pd(o + 24, _mm256_add_pd(_mm256_loadu_pd(o + 24), c30));
    _mm256_storeu_pd(o + 28, _mm256_add_pd(_mm256_loadu_pd(o + 28), c31));
  }
}
#endif

typedef struct {
  int avx, tb, panels;
  const double *P;
  double *acc;
} gram_job;

// Pair kernels for the triangle rows of panels that map to [begin, end) of a balanced order:
// index k takes panel rows k/2 and panels-1-k/2 alternately... kept simple: rows are processed
// in an interleaved order (0, n-1, 1, n-2, ...) so contiguous ranges have similar work.
static void gram_rows(void *p, int begin, int end) {
  const gram_job *j = p;
  for (int k = begin; k < end; k++) {
    int pi = (k % 2 == 0) ? k / 2 : j->panels - 1 - k / 2;
    size_t pair = (size_t)pi * (pi + 1) / 2;
    for (int pj = 0; pj <= pi; pj++, pair++) {
      const double *A = j->P + (size_t)pi * j->tb * GRAM_NR, *B = j->P + (size_t)pj * j->tb * GRAM_NR;
      double *a = j->acc + pair * GRAM_NR * GRAM_NR;
#if RECUR_RES_X86
      if (j->avx) gram_kernel_avx2(j->tb, A, B, a);
      else
#endif
        gram_kernel_portable(j->tb, A, B, a);
    }
  }
}

void recur_gram_f64(int rows, int cols, const double *X, int ldx, const double *mean,
                    double *C, int ldc) {
  const int avx = res_path() == 1;
  const int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  const size_t npairs = (size_t)panels * (panels + 1) / 2;
  // Accumulators for every lower-triangle panel pair, kept across row blocks (8x8 each).
  double *acc = calloc(npairs * GRAM_NR * GRAM_NR, sizeof(double));
  double *P = malloc((size_t)panels * GRAM_TB * GRAM_NR * sizeof(double));
  if (!acc || !P) { free(acc); free(P); abort(); }
  gram_job job = {avx, 0, panels, P, acc};
  for (int t0 = 0; t0 < rows; t0 += GRAM_TB) {
    int tb = rows - t0 < GRAM_TB ? rows - t0 : GRAM_TB;
    gram_pack(tb, cols, X + (size_t)t0 * ldx, ldx, mean, P);
    job.tb = tb;
    // Row panels pi cost pi + 1 pair kernels: split the triangle by rows of panels with about
    // equal work (the pool claims parts dynamically).
    recur_parallel_for_grain(panels, 4, gram_rows, &job);
  }
  size_t pair = 0;
  for (int pi = 0; pi < panels; pi++) {
    for (int pj = 0; pj <= pi; pj++, pair++) {
      const double *a = acc + pair * GRAM_NR * GRAM_NR;
      for (int r = 0; r < GRAM_NR; r++) {
        int i = pi * GRAM_NR + r;
        if (i >= cols) break;
        for (int c = 0; c < GRAM_NR; c++) {
          int j = pj * GRAM_NR + c;
          if (j >= cols || j > i) break;
          C[(size_t)i * ldc + j] = a[r * GRAM_NR + c];
          C[(size_t)j * ldc + i] = a[r * GRAM_NR + c];
        }
      }
    }
  }
  free(acc);
  free(P);
}

// MARK: - Reservoir run with a concurrent Gram matrix

// The Gram matrix of the state rows is accumulated block by block while the reservoir is still
// running: one part of a two-part pool job runs the reservoir and publishes how many rows are
// done, the other packs and multiplies each finished block of GRAM_TB rows. The pool hands parts
// out in order, so the consumer only ever waits for a producer that is already running; with no
// free worker both parts run one after the other on the caller.
//
// The means are not known while the blocks stream past, so the Gram matrix is accumulated on data
// shifted by the mean of the first block (close to the final mean) and corrected at the end:
// sum (x - m)(x - m)^T = sum (x - s)(x - s)^T - n d d^T with d = mean(x - s), m = s + d.
typedef struct {
  int units, inputs, steps, ldu, lds;
  const int32_t *rs, *ci;
  const double *v, *w_in, *bias, *u, *x0;
  double leak;
  double *states, *work;
  int gbeg, gend, gcols, ldc;
  double *mean, *C;
  _Alignas(64) _Atomic int produced;
} run_gram_job;

static void wait_rows(_Atomic int *produced, int rows) {
  for (unsigned spins = 1; atomic_load_explicit(produced, memory_order_acquire) < rows; spins++) {
#if RECUR_RES_X86
    __builtin_ia32_pause();
#endif
    if ((spins & 1023) == 0) sched_yield();
  }
}

static void run_gram_consume(run_gram_job *j) {
  const int avx = res_path() == 1;
  const int cols = j->gcols, n = j->gend - j->gbeg;
  const int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  const size_t npairs = (size_t)panels * (panels + 1) / 2;
  double *acc = calloc(npairs * GRAM_NR * GRAM_NR, sizeof(double));
  double *P = malloc((size_t)panels * GRAM_TB * GRAM_NR * sizeof(double));
  double *shift = calloc((size_t)cols, sizeof(double));
  double *colsum = calloc((size_t)cols, sizeof(double));
  if (!acc || !P || !shift || !colsum) abort();
  gram_job gj = {avx, 0, panels, P, acc};
  for (int t0 = j->gbeg; t0 < j->gend; t0 += GRAM_TB) {
    int tb = j->gend - t0 < GRAM_TB ? j->gend - t0 : GRAM_TB;
    wait_rows(&j->produced, t0 + tb);
    const double *X = j->states + (size_t)t0 * j->lds;
    if (t0 == j->gbeg) {
      for (int t = 0; t < tb; t++) for (int c = 0; c < cols; c++) shift[c] += X[(size_t)t * j->lds + c];
      for (int c = 0; c < cols; c++) shift[c] /= tb;
    }
    for (int t = 0; t < tb; t++) for (int c = 0; c < cols; c++) colsum[c] += X[(size_t)t * j->lds + c] - shift[c];
    gram_pack(tb, cols, X, j->lds, shift, P);
    gj.tb = tb;
    gram_rows(&gj, 0, panels);
  }
  size_t pair = 0;
  for (int pi = 0; pi < panels; pi++) {
    for (int pj = 0; pj <= pi; pj++, pair++) {
      const double *a = acc + pair * GRAM_NR * GRAM_NR;
      for (int r = 0; r < GRAM_NR; r++) {
        int i = pi * GRAM_NR + r;
        if (i >= cols) break;
        for (int c = 0; c < GRAM_NR; c++) {
          int k = pj * GRAM_NR + c;
          if (k >= cols || k > i) break;
          double g = a[r * GRAM_NR + c] - colsum[i] * colsum[k] / n;
          j->C[(size_t)i * j->ldc + k] = g;
          j->C[(size_t)k * j->ldc + i] = g;
        }
      }
    }
  }
  for (int c = 0; c < cols; c++) j->mean[c] = shift[c] + colsum[c] / n;
  free(acc);
  free(P);
  free(shift);
  free(colsum);
}

static void run_gram_produce(run_gram_job *j) {
  esn_run_steps(j->units, j->inputs, j->steps, j->rs, j->ci, j->v, j->w_in, j->bias, j->leak, j->u, j->ldu,
                j->x0, j->states, j->lds, j->work, &j->produced, NULL);
}

static void run_gram_part(void *p, int begin, int end) {
  run_gram_job *j = p;
  for (int part = begin; part < end; part++) {
    if (part == 0) run_gram_produce(j);
    else run_gram_consume(j);
  }
}

void recur_esn_run_gram_f64(int units, int inputs, int steps,
                            const int32_t *row_start, const int32_t *col_index, const double *values,
                            const double *w_in, const double *bias, double leak,
                            const double *u, int ldu, const double *x0, double *states, int lds, double *work,
                            int gram_begin, int gram_end, int gram_cols, double *mean, double *C, int ldc) {
  run_gram_job *j = malloc(sizeof *j);
  if (!j) abort();
  *j = (run_gram_job){units, inputs, steps, ldu, lds, row_start, col_index, values, w_in, bias, u, x0, leak,
                      states, work, gram_begin, gram_end, gram_cols, ldc, mean, C};
  atomic_init(&j->produced, 0);
  if (gram_end - gram_begin >= 2 * GRAM_TB && (long)units * (gram_end - gram_begin) >= 200000L) {
    recur_parallel_for_grain(2, 1, run_gram_part, j);
  } else {
    run_gram_part(j, 0, 2);
  }
  free(j);
}

typedef struct {
  int rows, cols, outs, ldx, ldy, ldc, avx;
  const double *X, *xmean, *Yc;
  double *C;
} cross_job;

#if RECUR_RES_X86
AVX2 static void cross_rows_avx2(const cross_job *j, int begin, int end) {
  const int K = j->outs;
  for (int t = 0; t < j->rows; t++) {
    const double *x = j->X + (size_t)t * j->ldx, *y = j->Yc + (size_t)t * K;
    for (int i = begin; i < end; i++) {
      const double xi = j->xmean ? x[i] - j->xmean[i] : x[i];
      double *c = j->C + (size_t)i * j->ldc;
      const __m256d b = _mm256_set1_pd(xi);
      int k = 0;
      for (; k + 4 <= K; k += 4) _mm256_storeu_pd(c + k, _mm256_fmadd_pd(b, _mm256_loadu_pd(y + k), _mm256_loadu_pd(c + k)));
      for (; k < K; k++) c[k] += xi * y[k];
    }
  }
}
#endif

static void cross_rows(void *p, int begin, int end) {
  const cross_job *j = p;
#if RECUR_RES_X86
  if (j->avx) { cross_rows_avx2(j, begin, end); return; }
#endif
  const int K = j->outs;
  for (int t = 0; t < j->rows; t++) {
    const double *x = j->X + (size_t)t * j->ldx, *y = j->Yc + (size_t)t * K;
    for (int i = begin; i < end; i++) {
      const double xi = j->xmean ? x[i] - j->xmean[i] : x[i];
      double *c = j->C + (size_t)i * j->ldc;
      for (int k = 0; k < K; k++) c[k] += xi * y[k];
    }
  }
}

void recur_cross_f64(int rows, int cols, int outs, const double *X, int ldx, const double *xmean,
                     const double *Y, int ldy, const double *ymean, double *C, int ldc) {
  for (int i = 0; i < cols; i++) memset(C + (size_t)i * ldc, 0, sizeof(double) * outs);
  // Centred targets, packed [rows, outs].
  double *yc = malloc(sizeof(double) * ((size_t)rows * outs > 0 ? (size_t)rows * outs : 1));
  if (!yc) abort();
  for (int t = 0; t < rows; t++) {
    const double *y = Y + (size_t)t * ldy;
    for (int k = 0; k < outs; k++) yc[(size_t)t * outs + k] = ymean ? y[k] - ymean[k] : y[k];
  }
  cross_job job = {rows, cols, outs, ldx, ldy, ldc, res_path() == 1, X, xmean, yc, C};
  // Rows of C in chunks of 64 (each thread owns its rows of C: no races).
  if ((long)rows * cols * outs >= 4000000L) recur_parallel_for_grain(cols, 64, cross_rows, &job);
  else cross_rows(&job, 0, cols);
  free(yc);
}

// MARK: - Cholesky

static double dot_portable(int n, const double *a, const double *b) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  int k = 0;
  for (; k + 4 <= n; k += 4) {
    s0 += a[k] * b[k];
    s1 += a[k + 1] * b[k + 1];
    s2 += a[k + 2] * b[k + 2];
    s3 += a[k + 3] * b[k + 3];
  }
  for (; k < n; k++) s0 += a[k] * b[k];
  return (s0 + s1) + (s2 + s3);
}

#if RECUR_RES_X86
AVX2 static double dot_avx2(int n, const double *a, const double *b) {
  __m256d s0 = _mm256_setzero_pd(), s1 = _mm256_setzero_pd();
  int k = 0;
  for (; k + 8 <= n; k += 8) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
    s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k + 4), _mm256_loadu_pd(b + k + 4), s1);
  }
  if (k + 4 <= n) {
    s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a + k), _mm256_loadu_pd(b + k), s0);
    k += 4;
  }
  double s = hsum4(_mm256_add_pd(s0, s1));
  for (; k < n; k++) s += a[k] * b[k];
  return s;
}
#endif

double recur_dot_f64(int n, const double *a, const double *b) {
#if RECUR_RES_X86
  if (res_path() == 1) return dot_avx2(n, a, b);
#endif
  return dot_portable(n, a, b);
}

void recur_axpy_f64(int n, double alpha, const double *x, double *y) {
  for (int i = 0; i < n; i++) y[i] += alpha * x[i];
}

int recur_cholesky_f64(int n, double *A, int lda) {
  const int avx = res_path() == 1;
  // Row by row: L[i][j] = (A[i][j] - L[i][:j] . L[j][:j]) / L[j][j]; the dot products run over
  // contiguous row prefixes.
  for (int i = 0; i < n; i++) {
    double *li = A + (size_t)i * lda;
    for (int j = 0; j <= i; j++) {
      const double *lj = A + (size_t)j * lda;
      double d;
#if RECUR_RES_X86
      if (avx) d = dot_avx2(j, li, lj);
      else
#endif
        d = dot_portable(j, li, lj);
      double s = li[j] - d;
      if (j == i) {
        if (!(s > 0)) return i + 1;
        li[i] = sqrt(s);
      } else {
        li[j] = s / lj[j];
      }
    }
  }
  return 0;
}

void recur_cholesky_solve_f64(int n, const double *L, int lda, int nrhs, double *B, int ldb) {
  // Forward: L Z = B (row i of Z depends on rows < i).
  for (int i = 0; i < n; i++) {
    const double *li = L + (size_t)i * lda;
    double *bi = B + (size_t)i * ldb;
    for (int j = 0; j < i; j++) {
      const double l = li[j];
      if (l == 0) continue;
      const double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bi[k] -= l * bj[k];
    }
    const double inv = 1.0 / li[i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
  }
  // Backward: L^T X = Z; row i of X uses rows > i through column i of L.
  for (int i = n - 1; i >= 0; i--) {
    double *bi = B + (size_t)i * ldb;
    const double inv = 1.0 / L[(size_t)i * lda + i];
    for (int k = 0; k < nrhs; k++) bi[k] *= inv;
    for (int j = 0; j < i; j++) {
      const double l = L[(size_t)i * lda + j];
      if (l == 0) continue;
      double *bj = B + (size_t)j * ldb;
      for (int k = 0; k < nrhs; k++) bj[k] -= l * bi[k];
    }
  }
}
