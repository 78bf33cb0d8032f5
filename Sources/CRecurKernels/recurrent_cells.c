// Fused pointwise kernels of the recurrent cells (see recur_cells.h).
// Transcendentals go through the dispatched vector math (recur_vsigmoid / recur_vtanh); the
// remaining arithmetic is simple loops the compiler vectorises.
#include "recur_cells.h"
#include "recur_kernels.h"
#include <string.h>

void recur_lstm_forward_step(int B, int H, float *gates, const float *bhh,
                             const float *c_prev, float *c, float *tanh_c, float *h) {
  const int G = 4 * H;
  for (int b = 0; b < B; b++) {
    float *g = gates + (size_t)b * G;
    if (bhh) for (int j = 0; j < G; j++) g[j] += bhh[j];
    recur_vsigmoid(g, g, (size_t)2 * H);
    recur_vtanh(g + 2 * H, g + 2 * H, (size_t)H);
    recur_vsigmoid(g + 3 * H, g + 3 * H, (size_t)H);
    const float *gi = g, *gf = g + H, *gg = g + 2 * H;
    const float *cp = c_prev + (size_t)b * H;
    float *cb = c + (size_t)b * H;
    for (int j = 0; j < H; j++) cb[j] = gf[j] * cp[j] + gi[j] * gg[j];
  }
  recur_vtanh(c, tanh_c, (size_t)B * H);
  for (int b = 0; b < B; b++) {
    const float *go = gates + (size_t)b * G + 3 * H;
    const float *tc = tanh_c + (size_t)b * H;
    float *hb = h + (size_t)b * H;
    for (int j = 0; j < H; j++) hb[j] = go[j] * tc[j];
  }
}

void recur_lstm_backward_step(int B, int H, const float *gates, const float *c_prev, const float *tanh_c,
                              const float *dh, float *dc, float *dgates) {
  const int G = 4 * H;
  for (int b = 0; b < B; b++) {
    const float *g = gates + (size_t)b * G;
    const float *gi = g, *gf = g + H, *gg = g + 2 * H, *go = g + 3 * H;
    const float *cp = c_prev + (size_t)b * H, *tc = tanh_c + (size_t)b * H, *dhb = dh + (size_t)b * H;
    float *dcb = dc + (size_t)b * H;
    float *d = dgates + (size_t)b * G;
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

void recur_gru_forward_step(int B, int H, float *xw, float *hh, const float *bhh,
                            const float *h_prev, float *h) {
  const int G = 3 * H;
  for (int b = 0; b < B; b++) {
    float *x = xw + (size_t)b * G, *r = hh + (size_t)b * G;
    if (bhh) for (int j = 0; j < G; j++) r[j] += bhh[j];
    for (int j = 0; j < 2 * H; j++) x[j] += r[j];
    recur_vsigmoid(x, x, (size_t)2 * H);
    const float *rg = x, *hn = r + 2 * H;
    float *n = x + 2 * H;
    for (int j = 0; j < H; j++) n[j] += rg[j] * hn[j];
    recur_vtanh(n, n, (size_t)H);
    const float *z = x + H, *hp = h_prev + (size_t)b * H;
    float *hb = h + (size_t)b * H;
    for (int j = 0; j < H; j++) hb[j] = (1.0f - z[j]) * n[j] + z[j] * hp[j];
  }
}

void recur_gru_backward_step(int B, int H, const float *act, const float *hh, const float *h_prev,
                             const float *dh, float *dgx, float *dgh, float *dh_prev_direct) {
  const int G = 3 * H;
  for (int b = 0; b < B; b++) {
    const float *r = act + (size_t)b * G, *z = r + H, *n = r + 2 * H;
    const float *hn = hh + (size_t)b * G + 2 * H;
    const float *hp = h_prev + (size_t)b * H, *d = dh + (size_t)b * H;
    float *gx = dgx + (size_t)b * G, *gh = dgh + (size_t)b * G, *dp = dh_prev_direct + (size_t)b * H;
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

void recur_add_row_bias(int M, int N, float *x, const float *bias) {
  for (int i = 0; i < M; i++) {
    float *row = x + (size_t)i * N;
    for (int j = 0; j < N; j++) row[j] += bias[j];
  }
}

void recur_sum_rows(int M, int N, const float *x, float *out) {
  memset(out, 0, sizeof(float) * (size_t)N);
  for (int i = 0; i < M; i++) {
    const float *row = x + (size_t)i * N;
    for (int j = 0; j < N; j++) out[j] += row[j];
  }
}
