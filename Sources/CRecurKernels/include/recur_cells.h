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

/// The recurrence of one LSTM layer and direction (no projection) over T steps, each step split
/// by hidden units into `slices` parts run side by side on the thread pool, meeting once per
/// step: every GEMM keeps all B rows, and each part's slice of W_hh stays in its core's cache.
/// `packed[4p + q]`: rows q·H + bounds[p] … q·H + bounds[p+1] of W_hh [4H, H] (gate q, the units
/// of part p; bounds[0] = 0 < … < bounds[slices] = H), packed transposed by recur_pack_b (K = H).
/// `gates` [T,B,4H] holds x·W_ihᵀ + b_ih on entry and the activations i|f|g|o on exit; `states`
/// and `cells` [T+1,B,H] hold h0 and c0 in slot 0 (slot T when `reverse`), and get step t's
/// state in slot t+1 (t); `tanh_cells` [T,B,H]. Row b of step t goes to
/// output + (t·B + b)·output_stride. `lengths` (NULL: all T): steps t ≥ lengths[b] keep row b's
/// state and output zeros. The same bits as recur_lstm_forward_step after recur_sgemm_packed.
void recur_lstm_forward_sequence(int T, int B, int H, int reverse, float *gates,
                                 const float *const *packed, int slices, const int *bounds,
                                 const float *bhh, float *states, float *cells, float *tanh_cells,
                                 const int *lengths, float *output, long output_stride);

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
