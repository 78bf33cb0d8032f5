// One batch row of the LSTM, GRU and Elman forward cells, per instruction set (recurrent_rows.c);
// recurrent_cells.c and lstm_sequence.c choose one with RECUR_PICK and split rows over threads.
#ifndef RECUR_RECURRENT_ROWS_H
#define RECUR_RECURRENT_ROWS_H

/// n hidden units of one LSTM row: the gates g (i, f, g, o blocks S floats apart; b_hh, if not
/// NULL, the same layout) activated in place, then c = f ⊙ c_prev + i ⊙ g, tc = tanh(c) and
/// h = o ⊙ tanh(c).
typedef void (*lstm_row_fn)(int n, int S, float *g, const float *bhh, const float *cp, float *c,
                            float *tc, float *h);
/// One GRU row of H units: hh (W_hh h, r|z|n) gets b_hh, x (input projections, r|z|n) becomes the
/// activations r|z|n with n = tanh(x_n + r ⊙ hh_n), and h = (1 − z) ⊙ n + z ⊙ h_prev.
typedef void (*gru_row_fn)(int H, float *x, float *hh, const float *bhh, const float *hp, float *h);
/// n units of one Elman row: h = act(pre + b_hh), ReLU when relu != 0, else tanh.
typedef void (*rnn_row_fn)(int n, const float *pre, const float *bhh, int relu, float *h);

void recur_lstm_row_portable(int n, int S, float *g, const float *bhh, const float *cp, float *c, float *tc, float *h);
void recur_gru_row_portable(int H, float *x, float *hh, const float *bhh, const float *hp, float *h);
void recur_rnn_row_portable(int n, const float *pre, const float *bhh, int relu, float *h);
#if defined(__x86_64__)
void recur_lstm_row_avx2(int n, int S, float *g, const float *bhh, const float *cp, float *c, float *tc, float *h);
void recur_gru_row_avx2(int H, float *x, float *hh, const float *bhh, const float *hp, float *h);
void recur_rnn_row_avx2(int n, const float *pre, const float *bhh, int relu, float *h);
void recur_lstm_row_avx512(int n, int S, float *g, const float *bhh, const float *cp, float *c, float *tc, float *h);
void recur_gru_row_avx512(int H, float *x, float *hh, const float *bhh, const float *hp, float *h);
void recur_rnn_row_avx512(int n, const float *pre, const float *bhh, int relu, float *h);
#endif

#endif
