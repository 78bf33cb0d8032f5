// The reservoir update (sparse product, leaky tanh) over many steps, and the linear read-out.
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "reservoir_internal.h"

// MARK: - Read-out

static void readout_part(void *p, int begin, int end) {
  const recur_readout_job *j = p;
  j->ops->readout_rows(j, begin, end);
}

void recur_readout_f64(int rows, int n, int k, const double *X, int ldx, const double *W,
                       const double *b, double *out) {
  recur_readout_job job = {recur_reservoir_active(), n, k, ldx, X, W, b, out};
  if ((long)rows * n * k >= 2000000L) recur_parallel_for_grain(rows, 256, readout_part, &job);
  else readout_part(&job, 0, rows);
}

// MARK: - Reservoir run

// One step for rows [begin, end) of the state.
static void esn_step_rows(const recur_esn_step_job *j, int begin, int end) {
  const int n = end - begin;
  if (j->ci16) j->ops->csr_matvec_u16(n, j->rs + begin, j->ci16, j->v, j->prev, j->work + begin);
  else j->ops->csr_matvec(n, j->rs + begin, j->ci, j->v, j->prev, j->work + begin);
  j->ops->esn_finish(j, begin, end);
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
void recur_esn_run_steps(const recur_reservoir_ops *ops, int units, int inputs, int steps,
                         const int32_t *row_start, const int32_t *col_index, const double *values,
                         const double *w_in, const double *bias, double leak, const double *u, int ldu,
                         const double *x0, double *states, int lds, double *work, _Atomic int *produced,
                         const recur_esn_readout *ro) {
  recur_esn_step_job job = {ops, inputs, row_start, col_index, values, w_in, bias, NULL, NULL,
                            leak, 1.0 - leak, NULL, work, NULL};
  uint16_t *ci16 = NULL;
  if (ops->csr_matvec_u16 && units <= 65536 && steps >= 16) {
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
      recur_readout_job rj = {ops, n, ro->k, n, ro->features, ro->w, ro->b, ro->out + (size_t)t * ro->k};
      ops->readout_rows(&rj, 0, 1);
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
  recur_esn_run_steps(recur_reservoir_active(), units, inputs, steps, row_start, col_index, values, w_in, bias,
                      leak, u, ldu, x0, states, units, work, NULL, NULL);
}

// With a read-out the states are not kept: a two-row scratch holds the previous and current state,
// and each step's output W_out^T [x_t; u_t] + b goes to out.
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
  recur_esn_readout ro = {w_out, b_out, k, with_input, out, scratch + 2 * (size_t)units};
  recur_esn_run_steps(recur_reservoir_active(), units, inputs, steps, row_start, col_index, values, w_in, bias,
                      leak, u, ldu, x0, scratch, units, work, NULL, &ro);
  memcpy(x_final, scratch + (size_t)((steps - 1) & 1) * units, sizeof(double) * units);
  free(scratch);
}
