// Gram matrix and cross products of the ridge read-out, and the reservoir run that accumulates the
// Gram matrix of its states while it is still running.
#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "reservoir_internal.h"

#define GRAM_TB RECUR_GRAM_TB
#define GRAM_NR RECUR_GRAM_NR

// MARK: - Gram matrix

// The rows are processed in blocks of GRAM_TB; each block is packed (centred) into panels of 8
// columns, [panel][t][8], so that the micro-kernel streams contiguous memory. Only the blocks on and
// below the diagonal of C are computed; the upper triangle is mirrored at the end.
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

typedef struct {
  const recur_reservoir_ops *ops;
  int tb, panels;
  const double *P;
  double *acc;
} gram_job;

// The pair kernels of panel rows in an interleaved order (0, n-1, 1, n-2, ...), so that contiguous
// ranges of [begin, end) have similar work (panel row pi costs pi + 1 pair kernels).
static void gram_rows(void *p, int begin, int end) {
  const gram_job *j = p;
  for (int k = begin; k < end; k++) {
    int pi = (k % 2 == 0) ? k / 2 : j->panels - 1 - k / 2;
    size_t pair = (size_t)pi * (pi + 1) / 2;
    for (int pj = 0; pj <= pi; pj++, pair++) {
      const double *A = j->P + (size_t)pi * j->tb * GRAM_NR, *B = j->P + (size_t)pj * j->tb * GRAM_NR;
      j->ops->gram_kernel(j->tb, A, B, j->acc + pair * GRAM_NR * GRAM_NR);
    }
  }
}

/// Writes the accumulated lower-triangle panel pairs to C (both triangles), minus
/// colsum[i] colsum[k] / n where colsum is given (the shift correction of the concurrent run).
static void gram_store(const double *acc, int panels, int cols, const double *colsum, int n, double *C,
                       int ldc) {
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
          double g = colsum ? a[r * GRAM_NR + c] - colsum[i] * colsum[k] / n : a[r * GRAM_NR + c];
          C[(size_t)i * ldc + k] = g;
          C[(size_t)k * ldc + i] = g;
        }
      }
    }
  }
}

/// Accumulators for every lower-triangle panel pair (8x8 each, zeroed) and a packed row block.
static void gram_buffers(int panels, double **acc, double **P) {
  *acc = calloc((size_t)panels * (panels + 1) / 2 * GRAM_NR * GRAM_NR, sizeof(double));
  *P = malloc((size_t)panels * GRAM_TB * GRAM_NR * sizeof(double));
  if (!*acc || !*P) abort();
}

void recur_gram_f64(int rows, int cols, const double *X, int ldx, const double *mean,
                    double *C, int ldc) {
  const int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  double *acc, *P;
  gram_buffers(panels, &acc, &P);
  gram_job job = {recur_reservoir_active(), 0, panels, P, acc};
  for (int t0 = 0; t0 < rows; t0 += GRAM_TB) {
    int tb = rows - t0 < GRAM_TB ? rows - t0 : GRAM_TB;
    gram_pack(tb, cols, X + (size_t)t0 * ldx, ldx, mean, P);
    job.tb = tb;
    recur_parallel_for_grain(panels, 4, gram_rows, &job);
  }
  gram_store(acc, panels, cols, NULL, rows, C, ldc);
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
  const recur_reservoir_ops *ops;
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
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
    if ((spins & 1023) == 0) sched_yield();
  }
}

static void run_gram_consume(run_gram_job *j) {
  const int cols = j->gcols, n = j->gend - j->gbeg;
  const int panels = (cols + GRAM_NR - 1) / GRAM_NR;
  double *acc, *P;
  gram_buffers(panels, &acc, &P);
  double *shift = calloc((size_t)cols, sizeof(double));
  double *colsum = calloc((size_t)cols, sizeof(double));
  if (!shift || !colsum) abort();
  gram_job gj = {j->ops, 0, panels, P, acc};
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
  gram_store(acc, panels, cols, colsum, n, j->C, j->ldc);
  for (int c = 0; c < cols; c++) j->mean[c] = shift[c] + colsum[c] / n;
  free(acc);
  free(P);
  free(shift);
  free(colsum);
}

static void run_gram_part(void *p, int begin, int end) {
  run_gram_job *j = p;
  for (int part = begin; part < end; part++) {
    if (part == 0) {
      recur_esn_run_steps(j->ops, j->units, j->inputs, j->steps, j->rs, j->ci, j->v, j->w_in, j->bias, j->leak,
                          j->u, j->ldu, j->x0, j->states, j->lds, j->work, &j->produced, NULL);
    } else {
      run_gram_consume(j);
    }
  }
}

void recur_esn_run_gram_f64(int units, int inputs, int steps,
                            const int32_t *row_start, const int32_t *col_index, const double *values,
                            const double *w_in, const double *bias, double leak,
                            const double *u, int ldu, const double *x0, double *states, int lds, double *work,
                            int gram_begin, int gram_end, int gram_cols, double *mean, double *C, int ldc) {
  run_gram_job *j = malloc(sizeof *j);
  if (!j) abort();
  *j = (run_gram_job){recur_reservoir_active(), units, inputs, steps, ldu, lds, row_start, col_index, values,
                      w_in, bias, u, x0, leak, states, work, gram_begin, gram_end, gram_cols, ldc, mean, C};
  atomic_init(&j->produced, 0);
  if (gram_end - gram_begin >= 2 * GRAM_TB && (long)units * (gram_end - gram_begin) >= 200000L) {
    recur_parallel_for_grain(2, 1, run_gram_part, j);
  } else {
    run_gram_part(j, 0, 2);
  }
  free(j);
}

// MARK: - Cross products

static void cross_part(void *p, int begin, int end) {
  const recur_cross_job *j = p;
  for (int t = 0; t < j->rows; t++) j->ops->cross_row(j, t, begin, end);
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
  recur_cross_job job = {recur_reservoir_active(), rows, cols, outs, ldx, ldc, X, xmean, yc, C};
  // Rows of C in chunks of 64 (each thread owns its rows of C: no races).
  if ((long)rows * cols * outs >= 4000000L) recur_parallel_for_grain(cols, 64, cross_part, &job);
  else cross_part(&job, 0, cols);
  free(yc);
}
