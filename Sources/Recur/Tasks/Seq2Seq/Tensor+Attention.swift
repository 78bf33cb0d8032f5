import Foundation

// MARK: - Fused attention ops (one tape node each)

extension Tensor {
  /// Dot-product attention scores: `scores[b, s] = query[b] · keys[b, s]`.
  ///
  /// Shapes: `query` `[B, K]`, `keys` `[B, S, K]` → `[B, S]`. Differentiable in both operands;
  /// one node instead of a reshape, a batched product and a squeeze per decoder step.
  public static func attentionDotScores(query: Tensor, keys: Tensor) -> Tensor {
    precondition(query.rank == 2 && keys.rank == 3 && keys.shape[0] == query.shape[0] && keys.shape[2] == query.shape[1],
                 "attentionDotScores: query \(query.shape) and keys \(keys.shape) are not [B, K] and [B, S, K]")
    let B = keys.shape[0], S = keys.shape[1], K = keys.shape[2]
    var out = Tensor(uninitializedShape: [B, S])
    let q = query.storage.pointer, k = keys.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for b in 0..<B {
        for s in 0..<S {
          var sum: Float = 0
          let row = k + (b * S + s) * K, qb = q + b * K
          for j in 0..<K { sum += qb[j] * row[j] }
          o[b * S + s] = sum
        }
      }
    }
    return record(out, op: "attentionDotScores", inputs: [query, keys]) { g in
      let pg = g.storage.pointer
      var dq: Tensor?, dk: Tensor?
      if query.requiresGrad {
        var d = Tensor.zeros(query.shape)
        d.withUnsafeMutableBufferPointer { p in
          for b in 0..<B {
            for s in 0..<S {
              let w = pg[b * S + s], row = k + (b * S + s) * K
              for j in 0..<K { p[b * K + j] += w * row[j] }
            }
          }
        }
        dq = d
      }
      if keys.requiresGrad {
        var d = Tensor(uninitializedShape: keys.shape)
        d.withUnsafeMutableBufferPointer { p in
          for b in 0..<B {
            for s in 0..<S {
              let w = pg[b * S + s], qb = q + b * K, base = (b * S + s) * K
              for j in 0..<K { p[base + j] = w * qb[j] }
            }
          }
        }
        dk = d
      }
      return [dq, dk]
    }
  }

  /// Additive (Bahdanau) attention scores: `scores[b, s] = v · tanh(query[b] + keys[b, s])`,
  /// where `query` is the projected decoder state and `keys` the projected memory (bias included).
  ///
  /// Shapes: `query` `[B, A]`, `keys` `[B, S, A]`, `v` `[1, A]` → `[B, S]`. Differentiable in all three.
  public static func attentionAdditiveScores(query: Tensor, keys: Tensor, v: Tensor) -> Tensor {
    precondition(query.rank == 2 && keys.rank == 3 && keys.shape[0] == query.shape[0] && keys.shape[2] == query.shape[1]
                 && v.count == query.shape[1],
                 "attentionAdditiveScores: query \(query.shape), keys \(keys.shape), v \(v.shape) are not [B, A], [B, S, A], [1, A]")
    let B = keys.shape[0], S = keys.shape[1], A = keys.shape[2]
    // hidden: tanh(query + keys), [B, S, A], kept for backward.
    let hidden = Tensor(uninitializedShape: [B, S, A])
    var out = Tensor(uninitializedShape: [B, S])
    let q = query.storage.pointer, k = keys.storage.pointer, pv = v.storage.pointer
    let h = hidden.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for b in 0..<B {
        for s in 0..<S {
          let base = (b * S + s) * A
          var sum: Float = 0
          for j in 0..<A {
            let t = Foundation.tanh(q[b * A + j] + k[base + j])
            h[base + j] = t
            sum += pv[j] * t
          }
          o[b * S + s] = sum
        }
      }
    }
    return record(out, op: "attentionAdditiveScores", inputs: [query, keys, v]) { g in
      let pg = g.storage.pointer, h = hidden.storage.pointer  // the closure keeps `hidden` alive
      // dPre[b, s, j] = g[b, s] · v[j] · (1 − hidden²): the gradient of the pre-activation.
      var dPre = Tensor(uninitializedShape: [B, S, A])
      var dv = Tensor.zeros(v.shape)
      dPre.withUnsafeMutableBufferPointer { d in
        dv.withUnsafeMutableBufferPointer { dvp in
          for i in 0..<(B * S) {
            let w = pg[i], base = i * A
            for j in 0..<A {
              let t = h[base + j]
              d[base + j] = w * pv[j] * (1 - t * t)
              dvp[j] += w * t
            }
          }
        }
      }
      var dq: Tensor?
      if query.requiresGrad {
        var d = Tensor.zeros(query.shape)
        let pd = dPre.storage.pointer
        d.withUnsafeMutableBufferPointer { p in
          for b in 0..<B { for s in 0..<S { for j in 0..<A { p[b * A + j] += pd[(b * S + s) * A + j] } } }
        }
        dq = d
      }
      return [dq, keys.requiresGrad ? dPre : nil, v.requiresGrad ? dv : nil]
    }
  }

  /// Masked softmax over the source positions and the weighted sum of the memory:
  /// `weights[b] = softmax(scores[b, 0..<lengths[b]])` (zero past the length) and
  /// `context[b] = Σ_s weights[b, s] · values[b, s]`.
  ///
  /// Shapes: `scores` `[B, S]`, `values` `[B, S, V]`, `lengths` B values in 1…S → `context`
  /// `[B, V]` (differentiable in `scores` and `values`) and `weights` `[B, S]` (values only).
  public static func maskedAttention(scores: Tensor, values: Tensor, lengths: [Int]) -> (context: Tensor, weights: Tensor) {
    precondition(scores.rank == 2 && values.rank == 3 && values.shape[0] == scores.shape[0] && values.shape[1] == scores.shape[1],
                 "maskedAttention: scores \(scores.shape) and values \(values.shape) are not [B, S] and [B, S, V]")
    let B = values.shape[0], S = values.shape[1], V = values.shape[2]
    precondition(lengths.count == B && lengths.allSatisfy { $0 >= 1 && $0 <= S },
                 "maskedAttention: lengths \(lengths) must be \(B) values in 1...\(S)")
    var weights = Tensor.zeros([B, S])
    var context = Tensor.zeros([B, V])
    let x = scores.storage.pointer, m = values.storage.pointer
    weights.withUnsafeMutableBufferPointer { w in
      context.withUnsafeMutableBufferPointer { c in
        for b in 0..<B {
          let n = lengths[b], row = b * S
          var top = -Float.infinity
          for s in 0..<n { top = Swift.max(top, x[row + s]) }
          var total: Float = 0
          for s in 0..<n { w[row + s] = Foundation.exp(x[row + s] - top); total += w[row + s] }
          let inv = 1 / total
          for s in 0..<n {
            w[row + s] *= inv
            let a = w[row + s], src = m + (row + s) * V, dst = c.baseAddress! + b * V
            for j in 0..<V { dst[j] += a * src[j] }
          }
        }
      }
    }
    let probabilities = weights
    let out = record(context, op: "maskedAttention", inputs: [scores, values]) { g in
      let pg = g.storage.pointer, w = probabilities.storage.pointer
      var dValues: Tensor?
      if values.requiresGrad {
        var d = Tensor(uninitializedShape: values.shape)
        d.withUnsafeMutableBufferPointer { p in
          for b in 0..<B {
            for s in 0..<S {
              let a = w[b * S + s], base = (b * S + s) * V
              for j in 0..<V { p[base + j] = a * pg[b * V + j] }
            }
          }
        }
        dValues = d
      }
      var dScores: Tensor?
      if scores.requiresGrad {
        var d = Tensor.zeros(scores.shape)
        d.withUnsafeMutableBufferPointer { p in
          for b in 0..<B {
            // dWeight[s] = g[b] · values[b, s];  dScore[s] = w[s]·(dWeight[s] − Σ w·dWeight)
            var dot: Float = 0
            for s in 0..<lengths[b] {
              var sum: Float = 0
              let src = m + (b * S + s) * V
              for j in 0..<V { sum += pg[b * V + j] * src[j] }
              p[b * S + s] = sum
              dot += w[b * S + s] * sum
            }
            for s in 0..<lengths[b] { p[b * S + s] = w[b * S + s] * (p[b * S + s] - dot) }
          }
        }
        dScores = d
      }
      return [dScores, dValues]
    }
    return (out, weights)
  }
}
