// MARK: - Batch normalisation (the fused op behind `BatchNorm1d`)

/// Per-channel statistics of one batch: the mean and the biased variance over the batch and
/// length axes (what the forward normalises with), and the element count behind them.
struct BatchStatistics {
  var mean: [Double]
  var biasedVariance: [Double]
  var count: Int
}

extension Tensor {
  /// Normalises channel axis 1 of `self` (`[B, C]` or `[B, C, L]`) and applies the per-channel
  /// affine map, as one tape node.
  ///
  /// With `running == nil` the statistics are the batch's (mean and biased variance over B and
  /// L), and the backward differentiates through them; otherwise `running` (mean, variance) are
  /// constants. Returns the output and, for batch statistics, the statistics used.
  func batchNorm(eps: Float, weight: Tensor?, bias: Tensor?, running: (mean: Tensor, variance: Tensor)?)
    -> (output: Tensor, statistics: BatchStatistics?) {
    precondition(rank == 2 || rank == 3, "batchNorm: input must be [B, C] or [B, C, L], got \(shape)")
    let batch = shape[0], channels = shape[1], length = rank == 3 ? shape[2] : 1
    let n = batch * length
    for t in [weight, bias, running?.mean, running?.variance] {
      if let t { precondition(t.shape == [channels], "batchNorm: per-channel tensor \(t.shape) should be [\(channels)]") }
    }
    let px = storage.pointer
    var means = [Float](repeating: 0, count: channels), rstds = [Float](repeating: 0, count: channels)
    var statistics: BatchStatistics? = nil
    if let running {
      let pm = running.mean.storage.pointer, pv = running.variance.storage.pointer
      for c in 0..<channels {
        means[c] = pm[c]
        rstds[c] = Float(1 / (Double(pv[c]) + Double(eps)).squareRoot())
      }
    } else {
      precondition(n > 0, "batchNorm: batch statistics of an empty batch")
      var stats = BatchStatistics(mean: [Double](repeating: 0, count: channels),
                                  biasedVariance: [Double](repeating: 0, count: channels), count: n)
      for c in 0..<channels {
        var sum = 0.0
        for b in 0..<batch {
          let row = px + (b * channels + c) * length
          for l in 0..<length { sum += Double(row[l]) }
        }
        let mean = sum / Double(n)
        var squares = 0.0  // two passes: no cancellation
        for b in 0..<batch {
          let row = px + (b * channels + c) * length
          for l in 0..<length { let d = Double(row[l]) - mean; squares += d * d }
        }
        stats.mean[c] = mean
        stats.biasedVariance[c] = squares / Double(n)
        means[c] = Float(mean)
        rstds[c] = Float(1 / (stats.biasedVariance[c] + Double(eps)).squareRoot())
      }
      statistics = stats
    }
    var out = Tensor(uninitializedShape: shape)
    let pw = weight?.storage.pointer, pb = bias?.storage.pointer
    out.withUnsafeMutableBufferPointer { o in
      for b in 0..<batch {
        for c in 0..<channels {
          let x = px + (b * channels + c) * length, y = o.baseAddress! + (b * channels + c) * length
          let scale = rstds[c] * (pw?[c] ?? 1), shift = pb?[c] ?? 0, mean = means[c]
          for l in 0..<length { y[l] = (x[l] - mean) * scale + shift }
        }
      }
    }
    var inputs = [self]
    if let weight { inputs.append(weight) }
    if let bias { inputs.append(bias) }
    let x = self, batchStatistics = running == nil
    let result = Tensor.record(out, op: "batchNorm", inputs: inputs) { g in
      // x̂ = (x − mean)·rstd, dx̂ = g·w; with batch statistics
      // dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) over the channel's B·L elements, else dx = rstd·dx̂;
      // dw = Σ g·x̂, db = Σ g.
      let pg = g.storage.pointer, px = x.storage.pointer, pw = weight?.storage.pointer
      let dx = Tensor.zeros(x.shape), dw = Tensor.zeros([channels]), db = Tensor.zeros([channels])
      let pdx = dx.storage.pointer, pdw = dw.storage.pointer, pdb = db.storage.pointer  // fresh, unshared
      for c in 0..<channels {
        let mean = means[c], rstd = rstds[c], w = pw?[c] ?? 1
        var sumG = 0.0, sumGXhat = 0.0
        for b in 0..<batch {
          let xr = px + (b * channels + c) * length, gr = pg + (b * channels + c) * length
          for l in 0..<length {
            sumG += Double(gr[l])
            sumGXhat += Double(gr[l]) * Double((xr[l] - mean) * rstd)
          }
        }
        pdw[c] = Float(sumGXhat)
        pdb[c] = Float(sumG)
        guard x.requiresGrad else { continue }
        let a = batchStatistics ? Float(sumG / Double(n)) : 0, bb = batchStatistics ? Float(sumGXhat / Double(n)) : 0
        for b in 0..<batch {
          let xr = px + (b * channels + c) * length, gr = pg + (b * channels + c) * length
          let dr = pdx + (b * channels + c) * length
          for l in 0..<length {
            let xhat = (xr[l] - mean) * rstd
            dr[l] = w * rstd * (gr[l] - a - xhat * bb)
          }
        }
      }
      var grads: [Tensor?] = [x.requiresGrad ? dx : nil]
      if let weight { grads.append(weight.requiresGrad ? dw : nil) }
      if let bias { grads.append(bias.requiresGrad ? db : nil) }
      return grads
    }
    return (result, statistics)
  }
}
