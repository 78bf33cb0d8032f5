// The recurrence of one LSTM layer and direction split by hidden units over the thread pool
// (recur_lstm_forward_sequence in recur_cells.h): each step's slices are claimed by the parts,
// which meet once per step.
#include "recur_cells.h"
#include "recur_kernels.h"
#include "internal.h"
#include "recurrent_rows.h"
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

typedef struct {
  int T, B, H, reverse, slices;
  const int *bounds;
  float *gates;
  const float *const *packed;
  const float *bhh;
  float *states, *cells, *tanh_cells;
  const int *lengths;
  float *output;
  long output_stride;
  atomic_int *claimed;  // [T·slices]: 1 once a thread has taken slice p of step s
  atomic_int *done;     // [T]: slices of step s finished
} lstm_sequence_job;

/// Waits until *p >= v: spinning, then yielding the core (a part the OS has descheduled, or a
/// busy machine, must not be waited for at full speed).
static void wait_at_least(atomic_int *p, int v) {
  for (int spins = 0; atomic_load_explicit(p, memory_order_acquire) < v; spins++) {
#if defined(__x86_64__)
    if (spins < 20000) {
      _mm_pause();
      continue;
    }
#endif
    sched_yield();
  }
}

/// Step t of hidden units [bounds[p], bounds[p+1]) for all B rows: the GEMM adds h_prev·W_hhᵀ
/// of those units' four gate columns to the input projections, then the cell (see
/// recur_lstm_forward_sequence).
static void lstm_slice_step(const lstm_sequence_job *j, lstm_row_fn row, int t, int p) {
  const int B = j->B, H = j->H, G = 4 * H, u0 = j->bounds[p], n = j->bounds[p + 1] - u0;
  const size_t prev = (size_t)(j->reverse ? t + 1 : t) * B * H, next = (size_t)(j->reverse ? t : t + 1) * B * H;
  float *gt = j->gates + (size_t)t * B * G;
  float *C[4] = {gt + u0, gt + H + u0, gt + 2 * H + u0, gt + 3 * H + u0};
  recur_sgemm_packed_multi(B, H, j->states + prev, H, 4, j->packed + 4 * p, 1.0f, C, G);
  for (int b = 0; b < B; b++) {
    size_t o = (size_t)b * H + u0;
    float *cp = j->cells + prev + o, *c = j->cells + next + o;
    float *hp = j->states + prev + o, *h = j->states + next + o;
    row(n, H, gt + (size_t)b * G + u0, j->bhh ? j->bhh + u0 : NULL, cp, c,
        j->tanh_cells + (size_t)t * B * H + o, h);
    float *out = j->output + ((size_t)t * B + b) * j->output_stride + u0;
    if (j->lengths && t >= j->lengths[b]) {
      memcpy(c, cp, sizeof(float) * (size_t)n);
      memcpy(h, hp, sizeof(float) * (size_t)n);
      memset(out, 0, sizeof(float) * (size_t)n);
    } else {
      memcpy(out, h, sizeof(float) * (size_t)n);
    }
  }
}

/// Pool part `part` of `nparts`. Each step's slices are claimed, not assigned: a part takes its
/// own slice first (the one whose weights its core holds), then any slice nobody has taken yet,
/// then waits for the step to be finished before it begins the next (which reads all of h_prev).
/// A part the OS has not scheduled yet, or a pool that runs everything on the caller, holds
/// nothing up: the other parts do its slices. A part waits only for slices being computed.
static void lstm_sequence_task(void *ctx, int part, int nparts) {
  const lstm_sequence_job *j = ctx;
  lstm_row_fn row = RECUR_PICK(recur_active_ops()->isa, recur_lstm_row);
  const int S = j->slices, first = (int)((long)S * part / nparts);
  for (int s = 0; s < j->T; s++) {
    if (s > 0) wait_at_least(j->done + s - 1, S);
    int t = j->reverse ? j->T - 1 - s : s;
    for (int k = 0; k < S; k++) {
      int p = (first + k) % S, free = 0;
      if (atomic_compare_exchange_strong(j->claimed + (size_t)s * S + p, &free, 1)) {
        lstm_slice_step(j, row, t, p);
        atomic_fetch_add_explicit(j->done + s, 1, memory_order_release);
      }
    }
  }
}

void recur_lstm_forward_sequence(int T, int B, int H, int reverse, float *gates,
                                 const float *const *packed, int slices, const int *bounds,
                                 const float *bhh, float *states, float *cells, float *tanh_cells,
                                 const int *lengths, float *output, long output_stride) {
  if (T <= 0 || B <= 0 || H <= 0 || slices <= 0) return;
  size_t flags = (size_t)T * (size_t)(slices + 1);
  atomic_int *claimed = recur_aligned_alloc(sizeof(atomic_int) * flags);
  for (size_t i = 0; i < flags; i++) atomic_init(claimed + i, 0);
  lstm_sequence_job j = {.T = T, .B = B, .H = H, .reverse = reverse, .slices = slices,
                         .bounds = bounds, .gates = gates, .packed = packed, .bhh = bhh,
                         .states = states, .cells = cells, .tanh_cells = tanh_cells,
                         .lengths = lengths, .output = output, .output_stride = output_stride,
                         .claimed = claimed, .done = claimed + (size_t)T * slices};
  recur_pool_run(slices, lstm_sequence_task, &j);
  free(claimed);
}
