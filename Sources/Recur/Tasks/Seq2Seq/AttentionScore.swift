/// How an attention decoder scores the encoder memory against its state h_t.
///
/// ```
/// dot       score(h_t, m_s) = h_t · m_s                    (Luong et al. 2015; needs H_dec = H_mem)
/// general   score(h_t, m_s) = h_t · W_a m_s                (Luong et al. 2015)
/// additive  score(h_t, m_s) = v · tanh(W_q h_t + U m_s + b)  (Bahdanau et al. 2015, "concat"/"mlp")
/// ```
public enum AttentionScore: String, Sendable, Codable, CaseIterable {
  /// Luong's dot product.
  case dot
  /// Luong's bilinear ("general") form.
  case general
  /// Bahdanau's additive (MLP) form.
  case additive
}
