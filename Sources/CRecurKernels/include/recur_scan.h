#ifndef RECUR_SCAN_H
#define RECUR_SCAN_H

#ifdef __cplusplus
extern "C" {
#endif

/// The minimal recurrent layers of Feng et al. 2024 ("Were RNNs All We Needed?"): the gates read
/// only the input, so a layer is one GEMM over all steps (the projections `pre`) and the linear
/// recurrence h_t = a_t ⊙ h_{t−1} + b_t solved by a scan.
///   RECUR_MIN_GRU:  pre = [k_z | k_h] (2H per row); z = σ(k_z), a = 1 − z = σ(−k_z), b = z ⊙ g(k_h)
///   RECUR_MIN_LSTM: pre = [k_f | k_i | k_h] (3H); f = σ(k_f), i = σ(k_i),
///                   a = f / (f + i) = σ(log f − log i), b = (1 − a) ⊙ g(k_h)
/// with g(x) = x + 0.5 for x ≥ 0 and σ(x) below (positive, continuous). The normalised gates
/// are taken in log space where f + i underflows.
enum { RECUR_MIN_GRU = 0, RECUR_MIN_LSTM = 1 };

/// Forward of one layer over T steps of B sequences: pre [T, B, G·H] (G = 2 or 3), h0 [B, H];
/// writes h [T, B, H] (every step) and the decays a [T, B, H] (kept for the backward). Gates in
/// parallel over rows; the scan in parallel over the B·H independent columns, vectorised along them.
void recur_min_scan_forward(int kind, int T, int B, int H, const float *pre, const float *h0, float *h, float *a);

/// Backward of recur_min_scan_forward, from its pre, a and h: dh [T, B, H] is ∂L/∂h_t from outside
/// the recurrence; writes dpre [T, B, G·H] and dh0 [B, H].
void recur_min_scan_backward(int kind, int T, int B, int H, const float *pre, const float *a, const float *h0,
                             const float *h, const float *dh, float *dpre, float *dh0);

// The phases, for benchmarks and for callers that keep their own buffers (all [T, B, H] unless
// said otherwise):

/// Gates of every row: the decay a and the input b (pre [T, B, G·H]).
void recur_min_scan_gates(int kind, int T, int B, int H, const float *pre, float *a, float *b);
/// h_t = a_t h_{t−1} + b_t in place: h holds b on entry and the states on return.
void recur_min_scan_linear(int T, int B, int H, const float *a, const float *h0, float *h);
/// The reverse scan: carry_t = dh_t + a_{t+1} carry_{t+1} (∂L/∂h_t in full), dh0 = a_0 carry_0.
void recur_min_scan_linear_reverse(int T, int B, int H, const float *a, const float *dh, float *carry, float *dh0);
/// ∂L/∂pre [T, B, G·H] from the decays a, the full state gradients `carry` and the states h (h0
/// before the first).
void recur_min_scan_gate_gradients(int kind, int T, int B, int H, const float *pre, const float *a, const float *h0,
                                   const float *h, const float *carry, float *dpre);

#ifdef __cplusplus
}
#endif
#endif
