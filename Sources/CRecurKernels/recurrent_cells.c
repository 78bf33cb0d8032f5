// Fused pointwise kernels of the recurrent cells (see recur_cells.h).
// Transcendentals go through the dispatched vector math (recur_vsigmoid / recur_vtanh); the
// remaining arithmetic is simple loops the compiler vectorises. Each kernel works on batch rows
// independently, so it is split by rows over the thread pool (recur_parallel_for_grain): the
// other core would otherwise idle between the time steps' GEMMs. Every element is computed the
// same way whatever the split, so results do not depend on the thread count.
#include "recur_cells.h"
#include "recur_kernels.h"
#include <string.h>

/// Rows per chunk so that a chunk has at least ~4K elements (smaller jobs stay on the caller).
static int row_grain(int width) { return width >= 4096 ? 1 : 4096 / (width > 0 ? width : 1); }

typedef struct {
  int H;
  float *gates, *c, *tanh_c, *h, *dc, *dgates, *xw, *hh, *dgx, *dgh, *dp;
  const float *bhh, *c_prev, *cgates, *ctanh_c, *dh, *act, *chh, *h_prev;
} cell_job;

static void lstm_forward_rows(void *p, int b0, int b1) {
  const cell_job *j = p;
  const int H = j->H, G = 4 * H;
  for (int b = b0; b < b1; b++) {
    float *g = j->gates + (size_t)b * G;
    if (j->bhh) for (int k = 0; k < G; k++) g[k] += j->bhh[k];
    recur_vsigmoid(g, g, (size_t)2 * H);
    recur_vtanh(g + 2 * H, g + 2 * H, (size_t)H);
    recur_vsigmoid(g + 3 * H, g + 3 * H, (size_t)H);
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *cp = j->c_prev + (size_t)b * H;
    float *cb = j->c + (size_t)b * H, *tc = j->tanh_c + (size_t)b * H, *hb = j->h + (size_t)b * H;
    for (int k = 0; k < H; k++) cb[k] = gf[k] * cp[k] + gi[k] * gg[k];
    recur_vtanh(cb, tc, (size_t)H);
    for (int k = 0; k < H; k++) hb[k] = go[k] * tc[k];
  }
}

void recur_lstm_forward_step(int B, int H, float *gates, const float *bhh,
                             const float *c_prev, float *c, float *tanh_c, float *h) {
  cell_job j = {.H = H, .gates = gates, .bhh = bhh, .c_prev = c_prev, .c = c, .tanh_c = tanh_c, .h = h};
  recur_parallel_for_grain(B, row_grain(4 * H), lstm_forward_rows, &j);
}

static void lstm_backward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 4 * H;
  for (int b = b0; b < b1; b++) {
    const float *g = jb->cgates + (size_t)b * G;
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *cp = jb->c_prev + (size_t)b * H, *tc = jb->ctanh_c + (size_t)b * H, *dhb = jb->dh + (size_t)b * H;
    float *dcb = jb->dc + (size_t)b * H;
    float *d = jb->dgates + (size_t)b * G;
    for (int j = 0; j < H; j++) {
      float t = tc[j], o = go[j], i = gi[j], f = gf[j], gv = gg[j];
      float dcj = dcb[j] + dhb[j] * o * (1.0f - t * t);
      float d_o = dhb[j] * t;
      d[j] = dcj * gv * i * (1.0f - i);
      d[H + j] = dcj * cp[j] * f * (1.0f - f);
      d[2 * H + j] = dcj * i * (1.0f - gv * gv);
      d[3 * H + j] = d_o * o * (1.0f - o);
      dcb[j] = dcj * f;
    }
  }
}

void recur_lstm_backward_step(int B, int H, const float *gates, const float *c_prev, const float *tanh_c,
                              const float *dh, float *dc, float *dgates) {
  cell_job j = {.H = H, .cgates = gates, .c_prev = c_prev, .ctanh_c = tanh_c, .dh = dh, .dc = dc, .dgates = dgates};
  recur_parallel_for_grain(B, row_grain(4 * H), lstm_backward_rows, &j);
}

static void gru_forward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 3 * H;
  const float *bhh = jb->bhh;
  for (int b = b0; b < b1; b++) {
    float *x = jb->xw + (size_t)b * G, *r = jb->hh + (size_t)b * G;
    if (bhh) for (int j = 0; j < G; j++) r[j] += bhh[j];
    for (int j = 0; j < 2 * H; j++) x[j] += r[j];
    recur_vsigmoid(x, x, (size_t)2 * H);
    const float *rg = x, *hn = r + 2 * H;
    float *n = x + 2 * H;
    for (int j = 0; j < H; j++) n[j] += rg[j] * hn[j];
    recur_vtanh(n, n, (size_t)H);
    const float *z = x + H, *hp = jb->h_prev + (size_t)b * H;
    float *hb = jb->h + (size_t)b * H;
    for (int j = 0; j < H; j++) hb[j] = (1.0f - z[j]) * n[j] + z[j] * hp[j];
  }
}

void recur_gru_forward_step(int B, int H, float *xw, float *hh, const float *bhh,
                            const float *h_prev, float *h) {
  cell_job j = {.H = H, .xw = xw, .hh = hh, .bhh = bhh, .h_prev = h_prev, .h = h};
  recur_parallel_for_grain(B, row_grain(3 * H), gru_forward_rows, &j);
}

static void gru_backward_rows(void *p, int b0, int b1) {
  const cell_job *jb = p;
  const int H = jb->H, G = 3 * H;
  for (int b = b0; b < b1; b++) {
    const float *r = jb->act + (size_t)b * G, *z = r + H, *n = r + 2 * H;
    const float *hn = jb->chh + (size_t)b * G + 2 * H;
    const float *hp = jb->h_prev + (size_t)b * H, *d = jb->dh + (size_t)b * H;
    float *gx = jb->dgx + (size_t)b * G, *gh = jb->dgh + (size_t)b * G, *dp = jb->dp + (size_t)b * H;
    for (int j = 0; j < H; j++) {
      float dn = d[j] * (1.0f - z[j]);
      float dz = d[j] * (hp[j] - n[j]);
      float dan = dn * (1.0f - n[j] * n[j]);
      float dr = dan * hn[j];
      float dar = dr * r[j] * (1.0f - r[j]);
      float daz = dz * z[j] * (1.0f - z[j]);
      gx[j] = dar; gx[H + j] = daz; gx[2 * H + j] = dan;
      gh[j] = dar; gh[H + j] = daz; gh[2 * H + j] = dan * r[j];
      dp[j] = d[j] * z[j];
    }
  }
}

void recur_gru_backward_step(int B, int H, const float *act, const float *hh, const float *h_prev,
                             const float *dh, float *dgx, float *dgh, float *dh_prev_direct) {
  cell_job j = {.H = H, .act = act, .chh = hh, .h_prev = h_prev, .dh = dh, .dgx = dgx, .dgh = dgh, .dp = dh_prev_direct};
  recur_parallel_for_grain(B, row_grain(3 * H), gru_backward_rows, &j);
}

void recur_rnn_forward_step(int B, int H, const float *pre, const float *bhh, int relu, float *h) {
  for (int b = 0; b < B; b++) {
    const float *p = pre + (size_t)b * H;
    float *hb = h + (size_t)b * H;
    if (bhh) for (int j = 0; j < H; j++) hb[j] = p[j] + bhh[j];
    else memcpy(hb, p, sizeof(float) * (size_t)H);
  }
  if (relu) {
    for (size_t i = 0; i < (size_t)B * H; i++) h[i] = h[i] > 0.0f ? h[i] : 0.0f;
  } else {
    recur_vtanh(h, h, (size_t)B * H);
  }
}

void recur_rnn_backward_step(int B, int H, const float *h, const float *dh, int relu, float *dpre) {
  size_t n = (size_t)B * H;
  if (relu) for (size_t i = 0; i < n; i++) dpre[i] = h[i] > 0.0f ? dh[i] : 0.0f;
  else for (size_t i = 0; i < n; i++) dpre[i] = dh[i] * (1.0f - h[i] * h[i]);
}

typedef struct {
  int M, N;
  float *x, *out;
  const float *cx, *bias;
} rows_job;

static void add_row_bias_rows(void *p, int i0, int i1) {
  const rows_job *j = p;
  for (int i = i0; i < i1; i++) {
    float *row = j->x + (size_t)i * j->N;
    for (int k = 0; k < j->N; k++) row[k] += j->bias[k];
  }
}

void recur_add_row_bias(int M, int N, float *x, const float *bias) {
  rows_job j = {.M = M, .N = N, .x = x, .bias = bias};
  recur_parallel_for_grain(M, row_grain(N) * 4, add_row_bias_rows, &j);
}

enum { SUM_COLUMNS = 64 };  // columns per parallel-for index of recur_sum_rows

/// Column blocks [c0, c1) of 64: each column summed over all rows in row order.
static void sum_rows_columns(void *p, int c0, int c1) {
  const rows_job *j = p;
  int j0 = c0 * SUM_COLUMNS, j1 = c1 * SUM_COLUMNS < j->N ? c1 * SUM_COLUMNS : j->N;
  float *out = j->out;
  memset(out + j0, 0, sizeof(float) * (size_t)(j1 - j0));
  for (int i = 0; i < j->M; i++) {
    const float *row = j->cx + (size_t)i * j->N;
    for (int k = j0; k < j1; k++) out[k] += row[k];
  }
}

void recur_sum_rows(int M, int N, const float *x, float *out) {
  rows_job j = {.M = M, .N = N, .cx = x, .out = out};
  int blocks = (N + SUM_COLUMNS - 1) / SUM_COLUMNS;
  int grain = M >= 4096 ? 1 : (4096 / (M > 0 ? M : 1) + SUM_COLUMNS - 1) / SUM_COLUMNS;
  recur_parallel_for_grain(blocks, grain > 0 ? grain : 1, sum_rows_columns, &j);
}
