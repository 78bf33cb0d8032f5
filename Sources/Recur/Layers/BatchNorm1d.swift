/// Batch normalisation over the channel axis: PyTorch's `torch.nn.BatchNorm1d`.
///
/// ```
/// y = (x − mean) / √(var + eps) · weight + bias      per channel c (axis 1)
/// ```
///
/// Shapes: input `[B, C]` or `[B, C, L]`, output the same; `weight` and `bias` are `[C]` and start
/// at ones and zeros.
///
/// In training mode (`context.isTraining`) `mean` and `var` are the batch's, over B (and L), with
/// the biased variance, and the running statistics move towards the batch's with the *unbiased*
/// variance: `running = (1 − momentum)·running + momentum·batch`, or, with `momentum == nil`, the
/// cumulative average (factor 1/`numBatchesTracked`). In evaluation mode the running statistics
/// are used. Without `trackRunningStats` there are no running statistics and both modes use the
/// batch's.
///
/// Buffers `running_mean`, `running_var`, `num_batches_tracked` are in the state dict but not in
/// `parameters`. PyTorch stores `num_batches_tracked` as int64; here it is a Float scalar, exact up
/// to 2^24 (16,777,216) batches: a PyTorch state dict loads it (integers are read as Float), and
/// past 2^24 only the cumulative-average factor (momentum nil) would drift.
///
/// Forward and backward are one fused tape node.
///
/// Matches `torch.nn.BatchNorm1d(num_features, eps, momentum, affine, track_running_stats)`.
public final class BatchNorm1d: Module {
  /// C, the extent of the channel axis.
  public let numFeatures: Int
  /// Added to the variance for numerical stability.
  public let eps: Float
  /// Weight of the batch statistics in the running update, or nil for a cumulative average.
  public let momentum: Float?
  /// Per-channel scale (ones), or nil without `affine`.
  public let weight: Parameter?
  /// Per-channel shift (zeros), or nil without `affine`.
  public let bias: Parameter?
  /// Running mean `[C]` (zeros at first), or nil without `trackRunningStats`.
  public let runningMean: Buffer?
  /// Running unbiased variance `[C]` (ones at first), or nil without `trackRunningStats`.
  public let runningVar: Buffer?
  /// Training batches seen, a scalar (shape `[]`), or nil without `trackRunningStats`.
  public let numBatchesTracked: Buffer?

  /// - Parameters:
  ///   - numFeatures: C, the number of channels.
  ///   - eps: added to the variance (default 1e-5).
  ///   - momentum: weight of each batch in the running statistics (default 0.1); nil averages all
  ///     batches equally.
  ///   - affine: learn `weight` and `bias` (default true).
  ///   - trackRunningStats: keep running statistics for evaluation (default true).
  /// - Throws: `InvalidParameter` when `numFeatures < 1`, `eps` is negative or not finite, or
  ///   `momentum` is outside [0, 1].
  public init(numFeatures: Int, eps: Float = 1e-5, momentum: Float? = 0.1, affine: Bool = true,
              trackRunningStats: Bool = true) throws {
    guard numFeatures >= 1 else { throw InvalidParameter("numFeatures", numFeatures, expected: ">= 1") }
    guard eps >= 0, eps.isFinite else { throw InvalidParameter("eps", eps, expected: "a finite number >= 0") }
    if let momentum, !(momentum >= 0 && momentum <= 1) {
      throw InvalidParameter("momentum", momentum, expected: "in [0, 1] or nil")
    }
    self.numFeatures = numFeatures
    self.eps = eps
    self.momentum = momentum
    weight = affine ? Parameter(.ones([numFeatures])) : nil
    bias = affine ? Parameter(.zeros([numFeatures])) : nil
    runningMean = trackRunningStats ? Buffer(.zeros([numFeatures])) : nil
    runningVar = trackRunningStats ? Buffer(.ones([numFeatures])) : nil
    numBatchesTracked = trackRunningStats ? Buffer(.zeros([])) : nil
  }

  /// `weight` and `bias` when affine: the parameter keys of `torch.nn.BatchNorm1d`'s state dict.
  public var ownParameters: [(name: String, parameter: Parameter)] {
    var result: [(name: String, parameter: Parameter)] = []
    if let weight { result.append(("weight", weight)) }
    if let bias { result.append(("bias", bias)) }
    return result
  }

  /// `running_mean`, `running_var`, `num_batches_tracked` when tracking running statistics.
  public var ownBuffers: [(name: String, buffer: Buffer)] {
    guard let runningMean, let runningVar, let numBatchesTracked else { return [] }
    return [("running_mean", runningMean), ("running_var", runningVar), ("num_batches_tracked", numBatchesTracked)]
  }

  /// Normalises `input` (`[B, C]` or `[B, C, L]`); in training mode also updates the running
  /// statistics (the context's generator is not used).
  /// - Throws: `ConvolutionError` when the input is not 2-D or 3-D, has another channel count, or,
  ///   in training, has a single value per channel.
  public func callAsFunction(_ input: Tensor, context: inout ForwardContext) throws -> Tensor {
    guard input.rank == 2 || input.rank == 3 else {
      throw ConvolutionError("BatchNorm1d: expected 2D or 3D input (got \(input.rank)D input of shape \(input.shape))")
    }
    guard input.shape[1] == numFeatures else {
      throw ConvolutionError("BatchNorm1d: running_mean should contain \(input.shape[1]) elements not \(numFeatures) (input shape \(input.shape))")
    }
    let useBatchStatistics = context.isTraining || runningMean == nil
    let valuesPerChannel = input.count / numFeatures
    if useBatchStatistics && valuesPerChannel <= 1 {
      throw ConvolutionError("BatchNorm1d: expected more than 1 value per channel when training, got input size \(input.shape)")
    }
    let running: (mean: Tensor, variance: Tensor)? =
      useBatchStatistics ? nil : runningMean.flatMap { m in runningVar.map { (m.data, $0.data) } }
    let (output, statistics) = input.batchNorm(eps: eps, weight: weight?.value, bias: bias?.value, running: running)
    if context.isTraining, let statistics, let runningMean, let runningVar, let numBatchesTracked {
      let tracked = numBatchesTracked.data.item + 1
      numBatchesTracked.assign(Tensor(scalar: tracked))
      let factor = Double(momentum ?? 1 / tracked)
      let n = Double(statistics.count), correction = n / (n - 1)
      let oldMean = runningMean.data.scalars, oldVar = runningVar.data.scalars
      runningMean.assign(Tensor((0..<numFeatures).map { c in
        Float((1 - factor) * Double(oldMean[c]) + factor * statistics.mean[c])
      }))
      runningVar.assign(Tensor((0..<numFeatures).map { c in
        Float((1 - factor) * Double(oldVar[c]) + factor * statistics.biasedVariance[c] * correction)
      }))
    }
    return output
  }
}
