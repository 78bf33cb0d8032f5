import Foundation

/// A linear-chain conditional random field over `K` tags: the output layer of a tagger that scores
/// whole tag sequences instead of each token alone.
///
/// ```
/// score(y | x) = start[y_0] + Σ_t emissions[t, y_t] + Σ_{t≥1} transitions[y_{t-1}, y_t] + end[y_{L-1}]
/// p(y | x)     = exp(score(y | x)) / Z(x),   log Z = logsumexp over all K^L tag sequences
/// ```
///
/// Parameters are named and initialised as pytorch-crf's `CRF(num_tags)`: `start_transitions`
/// `[K]`, `end_transitions` `[K]`, `transitions` `[K, K]` (from tag i to tag j), each
/// U(−0.1, 0.1), drawn in that order.
///
/// Emissions are time-major `[T, B, K]`; `lengths` (each 1…T) says how many leading steps of each
/// sequence are real: steps past a length never change a result.
public final class LinearChainCRF: Module {
  /// K, the number of tags.
  public let tagCount: Int
  /// `[K]`: the score of starting with each tag.
  public let startTransitions: Parameter
  /// `[K]`: the score of ending with each tag.
  public let endTransitions: Parameter
  /// `[K, K]`: the score of tag i followed by tag j, at `[i, j]`.
  public let transitions: Parameter

  /// A CRF over `tagCount` tags with U(−0.1, 0.1) parameters drawn from `generator`.
  public init(tagCount: Int, generator: inout RandomGenerator) {
    precondition(tagCount >= 1, "LinearChainCRF(tagCount: \(tagCount)): needs at least one tag")
    self.tagCount = tagCount
    startTransitions = Parameter(.uniform([tagCount], low: -0.1, high: 0.1, generator: &generator))
    endTransitions = Parameter(.uniform([tagCount], low: -0.1, high: 0.1, generator: &generator))
    transitions = Parameter(.uniform([tagCount, tagCount], low: -0.1, high: 0.1, generator: &generator))
  }

  /// `start_transitions`, `end_transitions`, `transitions`: pytorch-crf's state-dict keys.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    [("start_transitions", startTransitions), ("end_transitions", endTransitions), ("transitions", transitions)]
  }

  /// The negative log-likelihood −log p(tags | emissions) of each sequence, as one tape node whose
  /// backward is the closed form: the forward-backward marginals minus the gold indicators, for
  /// the emissions and all three parameters.
  /// - Parameters:
  ///   - emissions: `[T, B, K]` per-step tag scores.
  ///   - tags: `[T, B]` gold tags, time-major and flattened; entries past a length are ignored.
  ///   - lengths: each sequence's length (1…T), or nil when all are T.
  ///   - reduction: `.none` gives `[B]`, `.sum` their sum, `.mean` their mean over the batch
  ///     (pytorch-crf's `mean`).
  public func negativeLogLikelihood(emissions: Tensor, tags: [Int], lengths: [Int]? = nil, reduction: Reduction = .mean) -> Tensor {
    Self.negativeLogLikelihood(emissions: emissions, start: startTransitions.value, end: endTransitions.value,
                               transitions: transitions.value, tags: tags, lengths: lengths, reduction: reduction)
  }

  /// The negative log-likelihood with the parameters given as tensors (for gradient checks).
  static func negativeLogLikelihood(emissions: Tensor, start: Tensor, end: Tensor, transitions: Tensor, tags: [Int],
                                    lengths: [Int]?, reduction: Reduction) -> Tensor {
    let problem = Problem(emissions, start, end, transitions, lengths)
    let (T, B, K) = (problem.steps, problem.batch, problem.k)
    precondition(tags.count == T * B, "LinearChainCRF: \(tags.count) tags for emissions of shape \(emissions.shape)")
    var nll = [Double](repeating: 0, count: B)
    var alphas: [[Double]] = []
    for b in 0..<B {
      let length = problem.lengths[b]
      for t in 0..<length {
        precondition(tags[t * B + b] >= 0 && tags[t * B + b] < K, "LinearChainCRF: tag \(tags[t * B + b]) at step \(t) of sequence \(b) is outside 0..<\(K)")
      }
      let alpha = problem.forward(b)
      alphas.append(alpha)
      nll[b] = problem.logPartition(alpha, b) - problem.score(b, tags)
    }
    let result: Tensor
    switch reduction {
    case .none: result = Tensor(shape: [B], scalars: nll.map(Float.init))
    case .sum: result = Tensor(scalar: Float(nll.reduce(0, +)))
    case .mean: result = Tensor(scalar: Float(nll.reduce(0, +) / Double(B)))
    }
    return Tensor.record(result, op: "crfNLL", inputs: [emissions, start, end, transitions]) { g in
      let upstream = g.scalars
      let weights = (0..<B).map { b -> Double in
        switch reduction {
        case .none: Double(upstream[b])
        case .sum: Double(upstream[0])
        case .mean: Double(upstream[0]) / Double(B)
        }
      }
      return problem.gradients(alphas: alphas, tags: tags, weights: weights)
    }
  }

  /// log Z of each sequence (the log of the sum of exp(score) over all tag sequences), in Double.
  public func logPartition(emissions: Tensor, lengths: [Int]? = nil) -> [Double] {
    let problem = makeProblem(emissions, lengths)
    return (0..<problem.batch).map { problem.logPartition(problem.forward($0), $0) }
  }

  /// The score of the given tag sequences (`tags` `[T, B]` time-major), in Double.
  public func score(emissions: Tensor, tags: [Int], lengths: [Int]? = nil) -> [Double] {
    let problem = makeProblem(emissions, lengths)
    return (0..<problem.batch).map { problem.score($0, tags) }
  }

  /// The highest-scoring tag sequence of each sequence (Viterbi), each as long as its length.
  public func viterbi(emissions: Tensor, lengths: [Int]? = nil) -> [[Int]] {
    let problem = makeProblem(emissions, lengths)
    return (0..<problem.batch).map { problem.viterbi($0) }
  }

  private func makeProblem(_ emissions: Tensor, _ lengths: [Int]?) -> Problem {
    Problem(emissions, startTransitions.data, endTransitions.data, transitions.data, lengths)
  }
}

/// One CRF evaluation: the emissions and parameters copied to Double, with the recursions.
private struct Problem {
  let steps: Int, batch: Int, k: Int
  let lengths: [Int]
  let emissions: [Double], start: [Double], end: [Double], transitions: [Double]

  init(_ emissions: Tensor, _ start: Tensor, _ end: Tensor, _ transitions: Tensor, _ lengths: [Int]?) {
    let k = start.count
    precondition(emissions.rank == 3 && emissions.shape[2] == k,
                 "LinearChainCRF: emissions must be [T, B, \(k)], got \(emissions.shape)")
    let steps = emissions.shape[0], batch = emissions.shape[1]
    let lengths = lengths ?? Array(repeating: steps, count: batch)
    precondition(lengths.count == batch && lengths.allSatisfy { $0 >= 1 && $0 <= steps },
                 "LinearChainCRF: lengths \(lengths) must be \(batch) values in 1...\(steps)")
    (self.k, self.steps, self.batch, self.lengths) = (k, steps, batch, lengths)
    self.emissions = emissions.scalars.map(Double.init)
    self.start = start.scalars.map(Double.init)
    self.end = end.scalars.map(Double.init)
    self.transitions = transitions.scalars.map(Double.init)
  }

  func emission(_ t: Int, _ b: Int, _ j: Int) -> Double { emissions[(t * batch + b) * k + j] }

  static func logSumExp(_ values: [Double]) -> Double {
    let m = values.max() ?? -.infinity
    guard m.isFinite else { return m }
    return m + Foundation.log(values.reduce(0) { $0 + Foundation.exp($1 - m) })
  }

  /// α_t(j) = log Σ over prefixes ending in j at t (emission t included), `[length, K]` flat.
  func forward(_ b: Int) -> [Double] {
    var alpha = [Double](repeating: 0, count: lengths[b] * k)
    for j in 0..<k { alpha[j] = start[j] + emission(0, b, j) }
    var terms = [Double](repeating: 0, count: k)
    for t in 1..<Swift.max(1, lengths[b]) {
      for j in 0..<k {
        for i in 0..<k { terms[i] = alpha[(t - 1) * k + i] + transitions[i * k + j] }
        alpha[t * k + j] = Self.logSumExp(terms) + emission(t, b, j)
      }
    }
    return alpha
  }

  /// β_t(i) = log Σ over suffixes after tag i at t (end score included, emission t excluded).
  func backward(_ b: Int) -> [Double] {
    let length = lengths[b]
    var beta = [Double](repeating: 0, count: length * k)
    for i in 0..<k { beta[(length - 1) * k + i] = end[i] }
    var terms = [Double](repeating: 0, count: k)
    for t in stride(from: length - 2, through: 0, by: -1) {
      for i in 0..<k {
        for j in 0..<k { terms[j] = transitions[i * k + j] + emission(t + 1, b, j) + beta[(t + 1) * k + j] }
        beta[t * k + i] = Self.logSumExp(terms)
      }
    }
    return beta
  }

  func logPartition(_ alpha: [Double], _ b: Int) -> Double {
    let last = (lengths[b] - 1) * k
    return Self.logSumExp((0..<k).map { alpha[last + $0] + end[$0] })
  }

  func score(_ b: Int, _ tags: [Int]) -> Double {
    let y = (0..<lengths[b]).map { tags[$0 * batch + b] }
    var s = start[y[0]] + end[y[y.count - 1]]
    for t in 0..<y.count {
      s += emission(t, b, y[t])
      if t > 0 { s += transitions[y[t - 1] * k + y[t]] }
    }
    return s
  }

  /// ∂(Σ_b w_b·nll_b) for the emissions, start, end and transitions.
  func gradients(alphas: [[Double]], tags: [Int], weights: [Double]) -> [Tensor?] {
    var dE = [Float](repeating: 0, count: steps * batch * k)
    var dStart = [Double](repeating: 0, count: k), dEnd = dStart
    var dTrans = [Double](repeating: 0, count: k * k)
    for b in 0..<batch where weights[b] != 0 {
      let w = weights[b], length = lengths[b], alpha = alphas[b], beta = backward(b)
      let logZ = logPartition(alpha, b)
      for t in 0..<length {
        let gold = tags[t * batch + b]
        for j in 0..<k {
          let marginal = Foundation.exp(alpha[t * k + j] + beta[t * k + j] - logZ)
          dE[(t * batch + b) * k + j] = Float(w * (marginal - (j == gold ? 1 : 0)))
          if t == 0 { dStart[j] += w * marginal }
          if t == length - 1 { dEnd[j] += w * marginal }
        }
        if t > 0 {
          for i in 0..<k {
            for j in 0..<k {
              let pair = alpha[(t - 1) * k + i] + transitions[i * k + j] + emission(t, b, j) + beta[t * k + j] - logZ
              dTrans[i * k + j] += w * Foundation.exp(pair)
            }
          }
          dTrans[tags[(t - 1) * batch + b] * k + gold] -= w
        }
      }
      dStart[tags[b]] -= w
      dEnd[tags[(length - 1) * batch + b]] -= w
    }
    return [Tensor(shape: [steps, batch, k], scalars: dE), Tensor(shape: [k], scalars: dStart.map(Float.init)),
            Tensor(shape: [k], scalars: dEnd.map(Float.init)), Tensor(shape: [k, k], scalars: dTrans.map(Float.init))]
  }

  func viterbi(_ b: Int) -> [Int] {
    let length = lengths[b]
    var best = (0..<k).map { start[$0] + emission(0, b, $0) }
    var pointers = [[Int]]()
    for t in 1..<Swift.max(1, length) {
      var next = [Double](repeating: 0, count: k), from = [Int](repeating: 0, count: k)
      for j in 0..<k {
        var m = -Double.infinity, arg = 0
        for i in 0..<k where best[i] + transitions[i * k + j] > m { m = best[i] + transitions[i * k + j]; arg = i }
        next[j] = m + emission(t, b, j)
        from[j] = arg
      }
      pointers.append(from)
      best = next
    }
    var last = 0
    for j in 1..<k where best[j] + end[j] > best[last] + end[last] { last = j }
    var path = [last]
    for from in pointers.reversed() { path.append(from[path[path.count - 1]]) }
    return path.reversed()
  }
}
