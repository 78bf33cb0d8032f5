import CRecurKernels
import Foundation

// MARK: - Fused attention ops (one tape node each)
//
// The memory (`keys`, `values`) holds B sources; the query side holds R = n·B rows, and row r
// reads source r mod B. One decoder step has R = B; teacher forcing passes all T steps at once,
// time-major (row t·B + b), without copying the memory T times — the memory's gradient sums
// over the rows that read it.

/// Σ_j a[j]·b[j] over `n` floats, in 16 lanes (the loop a compiler keeps scalar for floats).
@inline(__always)
private func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
  var lanes = SIMD16<Float>()
  var j = 0
  while j + 16 <= n {
    // A product then a sum: addProduct would call fmaf per lane on baseline x86-64.
    lanes += UnsafeRawPointer(a + j).loadUnaligned(as: SIMD16<Float>.self) * UnsafeRawPointer(b + j).loadUnaligned(as: SIMD16<Float>.self)
    j += 16
  }
  var sum = lanes.sum()
  while j < n { sum += a[j] * b[j]; j += 1 }
  return sum
}

/// y[j] += a · x[j] for `n` floats.
@inline(__always)
private func axpy(_ a: Float, _ x: UnsafePointer<Float>, _ y: UnsafeMutablePointer<Float>, _ n: Int) {
  for j in 0..<n { y[j] += a * x[j] }
}

extension Tensor {
  /// Dot-product attention scores: `scores[r, s] = query[r] · keys[r mod B, s]`.
  ///
  /// Shapes: `query` `[R, K]` (R a multiple of B), `keys` `[B, S, K]` → `[R, S]`. Differentiable
  /// in both operands; one node instead of a reshape, a batched product and a squeeze.
  public static func attentionDotScores(query: Tensor, keys: Tensor) -> Tensor {
    precondition(query.rank == 2 && keys.rank == 3 && keys.shape[0] > 0 && query.shape[0] % keys.shape[0] == 0
                 && keys.shape[2] == query.shape[1],
                 "attentionDotScores: query \(query.shape) and keys \(keys.shape) are not [n·B, K] and [B, S, K]")
    let R = query.shape[0], B = keys.shape[0], S = keys.shape[1], K = keys.shape[2]
    var out = Tensor(uninitializedShape: [R, S])
    let q = query.storage.pointer, k = keys.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for r in 0..<R {
        let keysOfRow = k + (r % B) * S * K
        for s in 0..<S { o[r * S + s] = dot(q + r * K, keysOfRow + s * K, K) }
      }
    }
    return record(out, op: "attentionDotScores", inputs: [query, keys]) { g in
      let pg = g.storage.pointer
      var dq: Tensor?, dk: Tensor?
      if query.requiresGrad {
        var d = Tensor.zeros(query.shape)
        d.withUnsafeMutableBufferPointer { p in
          for r in 0..<R {
            let keysOfRow = k + (r % B) * S * K
            for s in 0..<S { axpy(pg[r * S + s], keysOfRow + s * K, p.baseAddress! + r * K, K) }
          }
        }
        dq = d
      }
      if keys.requiresGrad {
        var d = Tensor.zeros(keys.shape)
        d.withUnsafeMutableBufferPointer { p in
          for r in 0..<R {
            let base = (r % B) * S * K
            for s in 0..<S { axpy(pg[r * S + s], q + r * K, p.baseAddress! + base + s * K, K) }
          }
        }
        dk = d
      }
      return [dq, dk]
    }
  }

  /// Additive (Bahdanau) attention scores: `scores[r, s] = v · tanh(query[r] + keys[r mod B, s])`,
  /// where `query` is the projected decoder state and `keys` the projected memory (bias included).
  ///
  /// Shapes: `query` `[R, A]` (R a multiple of B), `keys` `[B, S, A]`, `v` `[1, A]` → `[R, S]`.
  /// Differentiable in all three.
  public static func attentionAdditiveScores(query: Tensor, keys: Tensor, v: Tensor) -> Tensor {
    precondition(query.rank == 2 && keys.rank == 3 && keys.shape[0] > 0 && query.shape[0] % keys.shape[0] == 0
                 && keys.shape[2] == query.shape[1] && v.count == query.shape[1],
                 "attentionAdditiveScores: query \(query.shape), keys \(keys.shape), v \(v.shape) are not [n·B, A], [B, S, A], [1, A]")
    let R = query.shape[0], B = keys.shape[0], S = keys.shape[1], A = keys.shape[2]
    // hidden = tanh(query + keys), [R, S, A], kept for backward.
    var hidden = Tensor(uninitializedShape: [R, S, A])
    var out = Tensor(uninitializedShape: [R, S])
    let q = query.storage.pointer, k = keys.storage.pointer, pv = v.storage.pointer
    hidden.withUnsafeMutableBufferPointer { h in
      let ph = h.baseAddress!
      for r in 0..<R {
        for s in 0..<S {
          let row = ph + (r * S + s) * A, key = k + ((r % B) * S + s) * A
          for j in 0..<A { row[j] = q[r * A + j] + key[j] }
        }
      }
      recur_vtanh(ph, ph, h.count)
      out.withUnsafeMutableBufferPointer { o in
        for i in 0..<(R * S) { o[i] = dot(pv, ph + i * A, A) }
      }
    }
    let saved = hidden
    return record(out, op: "attentionAdditiveScores", inputs: [query, keys, v]) { g in
      let pg = g.storage.pointer, h = saved.storage.pointer  // the closure keeps `saved` alive
      // dPre[r, s, j] = g[r, s] · v[j] · (1 − hidden²): the gradient of the pre-activation.
      var dPre = Tensor(uninitializedShape: [R, S, A])
      var dv = Tensor.zeros(v.shape)
      dPre.withUnsafeMutableBufferPointer { d in
        dv.withUnsafeMutableBufferPointer { dvp in
          for i in 0..<(R * S) {
            let w = pg[i], base = i * A
            for j in 0..<A {
              let t = h[base + j]
              d[base + j] = w * pv[j] * (1 - t * t)
            }
            axpy(w, h + base, dvp.baseAddress!, A)
          }
        }
      }
      let pd = dPre.storage.pointer
      var dq: Tensor?, dk: Tensor?
      if query.requiresGrad {
        var d = Tensor.zeros(query.shape)
        d.withUnsafeMutableBufferPointer { p in
          for r in 0..<R { for s in 0..<S { axpy(1, pd + (r * S + s) * A, p.baseAddress! + r * A, A) } }
        }
        dq = d
      }
      if keys.requiresGrad {
        if R == B {
          dk = dPre
        } else {
          var d = Tensor.zeros(keys.shape)
          d.withUnsafeMutableBufferPointer { p in
            for r in 0..<R { for s in 0..<S { axpy(1, pd + (r * S + s) * A, p.baseAddress! + ((r % B) * S + s) * A, A) } }
          }
          dk = d
        }
      }
      return [dq, dk, v.requiresGrad ? dv : nil]
    }
  }

  /// Masked softmax over the source positions and the weighted sum of the memory:
  /// `weights[r] = softmax(scores[r, 0..<lengths[r mod B]])` (zero past the length) and
  /// `context[r] = Σ_s weights[r, s] · values[r mod B, s]`.
  ///
  /// Shapes: `scores` `[R, S]` (R a multiple of B), `values` `[B, S, V]`, `lengths` B values in
  /// 1…S → `context` `[R, V]` (differentiable in `scores` and `values`) and `weights` `[R, S]`
  /// (values only).
  public static func maskedAttention(scores: Tensor, values: Tensor, lengths: [Int]) -> (context: Tensor, weights: Tensor) {
    precondition(scores.rank == 2 && values.rank == 3 && values.shape[0] > 0 && scores.shape[0] % values.shape[0] == 0
                 && values.shape[1] == scores.shape[1],
                 "maskedAttention: scores \(scores.shape) and values \(values.shape) are not [n·B, S] and [B, S, V]")
    let R = scores.shape[0], B = values.shape[0], S = values.shape[1], V = values.shape[2]
    precondition(lengths.count == B && lengths.allSatisfy { $0 >= 1 && $0 <= S },
                 "maskedAttention: lengths \(lengths) must be \(B) values in 1...\(S)")
    var weights = Tensor.zeros([R, S])
    var context = Tensor.zeros([R, V])
    let x = scores.storage.pointer, m = values.storage.pointer
    weights.withUnsafeMutableBufferPointer { w in
      context.withUnsafeMutableBufferPointer { c in
        for r in 0..<R {
          let n = lengths[r % B], row = r * S, memory = m + (r % B) * S * V
          var top = -Float.infinity
          for s in 0..<n { top = Swift.max(top, x[row + s]) }
          var total: Float = 0
          for s in 0..<n { w[row + s] = Foundation.exp(x[row + s] - top); total += w[row + s] }
          let inv = 1 / total
          for s in 0..<n {
            w[row + s] *= inv
            axpy(w[row + s], memory + s * V, c.baseAddress! + r * V, V)
          }
        }
      }
    }
    let probabilities = weights
    let out = record(context, op: "maskedAttention", inputs: [scores, values]) { g in
      let pg = g.storage.pointer, w = probabilities.storage.pointer
      var dValues: Tensor?
      if values.requiresGrad {
        var d = Tensor.zeros(values.shape)
        d.withUnsafeMutableBufferPointer { p in
          for r in 0..<R {
            let base = (r % B) * S * V
            for s in 0..<lengths[r % B] { axpy(w[r * S + s], pg + r * V, p.baseAddress! + base + s * V, V) }
          }
        }
        dValues = d
      }
      var dScores: Tensor?
      if scores.requiresGrad {
        var d = Tensor.zeros(scores.shape)
        d.withUnsafeMutableBufferPointer { p in
          for r in 0..<R {
            // dWeight[s] = g[r] · values[r mod B, s];  dScore[s] = w[s]·(dWeight[s] − Σ w·dWeight)
            let n = lengths[r % B], memory = m + (r % B) * S * V
            var total: Float = 0
            for s in 0..<n {
              let dWeight = dot(pg + r * V, memory + s * V, V)
              p[r * S + s] = dWeight
              total += w[r * S + s] * dWeight
            }
            for s in 0..<n { p[r * S + s] = w[r * S + s] * (p[r * S + s] - total) }
          }
        }
        dScores = d
      }
      return [dScores, dValues]
    }
    return (out, weights)
  }
}
