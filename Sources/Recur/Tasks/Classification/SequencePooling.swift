/// How a `SequenceClassifier` turns the recurrent outputs of every step into one vector per
/// sequence. Every mode looks at the valid steps only (`t < length`), so padding never changes
/// a result.
public enum SequencePooling: String, Sendable, Codable, CaseIterable {
  /// The output at the last valid step; for a bidirectional layer the forward direction's last
  /// valid step and the reverse direction's first step (what PyTorch's `h_n` holds).
  case last
  /// The mean of the outputs over the valid steps.
  case mean
  /// The element-wise maximum of the outputs over the valid steps.
  case max
  /// A learned additive attention over the valid steps (see `AdditiveAttentionPooling`).
  case attention
}

/// Learned additive attention pooling over time (Bahdanau-style scoring):
///
/// ```
/// score_t = vᵀ tanh(W h_t + b)        t < length (other steps get weight 0)
/// α = softmax(score) over the valid steps,   pooled = Σ_t α_t h_t
/// ```
///
/// Parameters as a PyTorch module with attributes `proj = nn.Linear(H, A)` and
/// `v = nn.Linear(A, 1, bias=False)` names them: `proj.weight`, `proj.bias`, `v.weight`.
/// Built from tape ops (linear, tanh, softmax, broadcast products and sums), so its gradient
/// needs no code of its own.
public final class AdditiveAttentionPooling: Module {
  /// W and b: `[attentionSize, inputSize]`, `[attentionSize]`.
  public let proj: Linear
  /// v: `[1, attentionSize]`, no bias.
  public let v: Linear

  /// Fresh weights (PyTorch's `Linear` initialisation) from `generator`.
  public init(inputSize: Int, attentionSize: Int, generator: inout RandomGenerator) {
    proj = Linear(inputSize: inputSize, outputSize: attentionSize, generator: &generator)
    v = Linear(inputSize: attentionSize, outputSize: 1, bias: false, generator: &generator)
  }

  /// `proj` and `v`.
  public var children: [(name: String, module: any Module)] { [("proj", proj), ("v", v)] }

  /// The attention weights `[B, T]` (rows sum to 1, zero past each length) of outputs `h`
  /// `[T, B, H]`.
  public func weights(_ h: Tensor, lengths: [Int]) -> Tensor {
    Self.weights(h, lengths: lengths, w: proj.weight.value, b: proj.bias!.value, v: v.weight.value)
  }

  /// The pooled vectors `[B, H]` and the weights `[B, T]` of outputs `h` `[T, B, H]`.
  public func callAsFunction(_ h: Tensor, lengths: [Int]) -> (pooled: Tensor, weights: Tensor) {
    Self.pool(h, lengths: lengths, w: proj.weight.value, b: proj.bias!.value, v: v.weight.value)
  }

  /// The weights `softmax_t(vᵀ tanh(W h_t + b))` over valid steps, `[B, T]`, as tape ops.
  static func weights(_ h: Tensor, lengths: [Int], w: Tensor, b: Tensor, v: Tensor) -> Tensor {
    let steps = h.shape[0], batch = h.shape[1]
    let scores = h.linear(weight: w, bias: b).tanh().linear(weight: v).reshaped([steps, batch]).transposed(0, 1)
    return (scores + SequenceMask.additive(lengths: lengths, steps: steps)).softmax()
  }

  /// `Σ_t α_t h_t` and α, as tape ops.
  static func pool(_ h: Tensor, lengths: [Int], w: Tensor, b: Tensor, v: Tensor) -> (pooled: Tensor, weights: Tensor) {
    let steps = h.shape[0], batch = h.shape[1]
    let alpha = weights(h, lengths: lengths, w: w, b: b, v: v)
    return ((alpha.transposed(0, 1).reshaped([steps, batch, 1]) * h).sum(axis: 0), alpha)
  }
}

/// Constant masks of valid steps for padded batches.
enum SequenceMask {
  /// A large negative number that makes a softmax weight or a maximum exactly ignore a step.
  static let excluded: Float = -1e30

  /// `[B, T]`: 0 at valid steps, `excluded` past each length.
  static func additive(lengths: [Int], steps: Int) -> Tensor {
    var m = [Float](repeating: 0, count: lengths.count * steps)
    for (b, n) in lengths.enumerated() { for t in n..<steps { m[b * steps + t] = excluded } }
    return Tensor(shape: [lengths.count, steps], scalars: m)
  }

  /// `[T, B, 1]`: 0 at valid steps, `excluded` past each length (time-major).
  static func additiveTimeMajor(lengths: [Int], steps: Int) -> Tensor {
    let b = lengths.count
    var m = [Float](repeating: 0, count: b * steps)
    for (j, n) in lengths.enumerated() { for t in n..<steps { m[t * b + j] = excluded } }
    return Tensor(shape: [steps, b, 1], scalars: m)
  }
}

extension SequencePooling {
  /// Pools outputs `h` `[T, B, D·H]` (zero past each length) into `[B, D·H]`.
  /// `directions` is D (for `.last`); `attention` is needed for `.attention`.
  func pool(_ h: Tensor, lengths: [Int], directions: Int, attention: AdditiveAttentionPooling?) -> Tensor {
    let t = h.shape[0], b = h.shape[1], width = h.shape[2]
    switch self {
    case .mean:
      return h.sum(axis: 0) / Tensor(shape: [b, 1], scalars: lengths.map { Float($0) })
    case .max:
      return (h + SequenceMask.additiveTimeMajor(lengths: lengths, steps: t)).max(axis: 0)
    case .attention:
      return attention!(h, lengths: lengths).pooled
    case .last:
      let rows = h.reshaped([t * b, width])
      let forward = rows.gatherRows(lengths.enumerated().map { j, n in (n - 1) * b + j })
      guard directions == 2 else { return forward }
      let reverse = rows.gatherRows(Array(0..<b))   // the reverse direction ends at t = 0
      let half = width / 2
      let keepForward = Tensor(shape: [width], scalars: (0..<width).map { $0 < half ? 1 : 0 })
      return forward * keepForward + reverse * (1 - keepForward)
    }
  }
}
