#ifndef RECUR_CELLS_H
#define RECUR_CELLS_H

// Fused pointwise kernels of one recurrent time step, for a batch of B rows.
// Gate blocks follow PyTorch: LSTM i|f|g|o, GRU r|z|n, each H wide; rows are contiguous.

#ifdef __cplusplus
extern "C" {
#endif

/// LSTM step forward. `gates` [B,4H] holds x·W_ihᵀ + b_ih + h_prev·W_hhᵀ on entry and the
/// activations i|f|g|o on exit; `bhh` [4H] may be NULL. Writes c [B,H], tanh(c) [B,H], h = o⊙tanh(c) [B,H].
void recur_lstm_forward_step(int B, int H, float *gates, const float *bhh,
                             const float *c_prev, float *c, float *tanh_c, float *h);

/// LSTM step backward. `dh` [B,H] is ∂L/∂h (pre-projection), `dc` [B,H] is ∂L/∂c from the next step on
/// entry and ∂L/∂c_prev on exit. Writes ∂L/∂(pre-activation gates) into `dgates` [B,4H].
void recur_lstm_backward_step(int B, int H, const float *gates, const float *c_prev, const float *tanh_c,
                              const float *dh, float *dc, float *dgates);

/// GRU step forward. `xw` [B,3H] holds x·W_ihᵀ + b_ih and becomes the activations r|z|n;
/// `hh` [B,3H] holds h_prev·W_hhᵀ on entry and + b_hh on exit (its n block is saved as hn).
/// Writes h = (1−z)⊙n + z⊙h_prev [B,H]. `bhh` may be NULL.
void recur_gru_forward_step(int B, int H, float *xw, float *hh, const float *bhh,
                            const float *h_prev, float *h);

/// GRU step backward: from dh [B,H], activations r|z|n [B,3H], hh (with b_hh) [B,3H] and h_prev,
/// writes the input-side gate gradients dgx [B,3H], the hidden-side dgh [B,3H], and dh_prev_direct = dh⊙z [B,H].
void recur_gru_backward_step(int B, int H, const float *act, const float *hh, const float *h_prev,
                             const float *dh, float *dgx, float *dgh, float *dh_prev_direct);

/// Elman RNN step forward: `pre` [B,H] holds x·W_ihᵀ + b_ih + h_prev·W_hhᵀ; h = act(pre + b_hh), written to h.
/// relu != 0 selects ReLU, else tanh. `bhh` may be NULL.
void recur_rnn_forward_step(int B, int H, const float *pre, const float *bhh, int relu, float *h);

/// Elman RNN step backward: dpre = dh ⊙ act'(h).
void recur_rnn_backward_step(int B, int H, const float *h, const float *dh, int relu, float *dpre);

/// Adds `bias` [N] to each of the M rows of `x` [M,N].
void recur_add_row_bias(int M, int N, float *x, const float *bias);

/// Sums the M rows of `x` [M,N] into `out` [N] (out = Σ rows, overwritten).
void recur_sum_rows(int M, int N, const float *x, float *out);

#ifdef __cplusplus
}
#endif
#endif
