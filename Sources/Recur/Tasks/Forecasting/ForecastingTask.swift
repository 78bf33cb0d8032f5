import Foundation

/// Windowed forecasting as a `TrainingTask`: a `RecurrentForecastNetwork` learns to map the
/// `lookback` rows before an origin to the `horizon` rows after it, by mean squared error over
/// mini-batches of windows shuffled each epoch. Validation is the MSE over the validation windows
/// (summed over the windows, so it splits over the processes of a data-parallel run).
///
/// With `relative` inputs are the window's rows minus its last row and targets are differences
/// from it (see `RecurrentForecaster`).
public final class ForecastingTask: TrainingTask {
  /// The name in archives.
  public static let name = "forecasting"

  /// The network being trained.
  public let model: RecurrentForecastNetwork
  /// The training windows.
  public let trainWindows: ForecastWindows
  /// The validation windows.
  public let validationWindows: ForecastWindows
  /// Windows per step.
  public let batchSize: Int
  /// Inputs and targets relative to each window's last row.
  public let relative: Bool
  let lookback: Int, horizon: Int
  /// Steps taken so far.
  private(set) var position = 0
  /// The seed of the per-epoch shuffles.
  let shuffleSeed: UInt64
  /// The current epoch's order of the training windows.
  private var order: [Int] = []

  /// A task over the given windows; the shuffles draw from `shuffleSeed`.
  public init(model: RecurrentForecastNetwork, train: ForecastWindows, validation: ForecastWindows, lookback: Int, horizon: Int,
              batchSize: Int, relative: Bool, shuffleSeed: UInt64) {
    self.model = model
    trainWindows = train
    validationWindows = validation
    self.lookback = lookback
    self.horizon = horizon
    self.batchSize = batchSize
    self.relative = relative
    self.shuffleSeed = shuffleSeed
  }

  /// Mini-batches of `batchSize` windows in one pass over the training windows.
  public var stepsPerEpoch: Int { (trainWindows.count + batchSize - 1) / batchSize }

  /// The mean squared error of the next mini-batch of training windows, in the order of this
  /// epoch's shuffle.
  public func trainingLoss(context: inout ForwardContext) throws -> BatchLoss {
    let index = position % stepsPerEpoch
    if index == 0 || order.isEmpty { order = EpochShuffle.permutation(trainWindows.count, epoch: position / stepsPerEpoch, seed: shuffleSeed) }
    let indices = context.shard.part(of: order[(index * batchSize)..<Swift.min(order.count, (index + 1) * batchSize)])
    let (x, y) = batch(trainWindows, indices)
    position += 1
    return BatchLoss(loss: mseLoss(try model(x, context: &context), y!), count: indices.count)
  }


  /// The validation windows.
  public var validationCount: Int { validationWindows.count }

  /// The summed squared error (`squared_error`, scaled units, as trained) of the validation
  /// windows `examples`, 1024 at a time, in evaluation mode.
  public func evaluationSums(over examples: Range<Int>) throws -> EvaluationSums {
    var sum = 0.0
    var context = ForwardContext.inference
    try withoutGradients {
      for start in stride(from: examples.lowerBound, to: examples.upperBound, by: 1024) {
        let (x, y) = batch(validationWindows, Array(start..<Swift.min(examples.upperBound, start + 1024))[...])
        sum += Double(mseLoss(try model(x, context: &context), y!, reduction: .sum).item)
      }
    }
    return EvaluationSums(examples: examples.count, ["squared_error": sum])
  }

  /// The mean squared error (scaled units) over all validation windows.
  public func evaluation(from sums: EvaluationSums) -> Evaluation {
    Evaluation(loss: sums["squared_error"] / Double(sums.examples * horizon * validationWindows.features))
  }

  func batch(_ w: ForecastWindows, _ indices: ArraySlice<Int>) -> (x: Tensor, y: Tensor?) {
    Self.windowBatch(w, indices, lookback: lookback, horizon: horizon, relative: relative)
  }

  /// Inputs `[lookback, B, F]` (time-major) and targets `[B, horizon·F]` (nil when `w` has no
  /// targets) of the windows `indices` of `w`.
  static func windowBatch(_ w: ForecastWindows, _ indices: ArraySlice<Int>, lookback: Int, horizon: Int,
                          relative: Bool) -> (x: Tensor, y: Tensor?) {
    let f = w.features, b = indices.count
    var x = [Float](repeating: 0, count: lookback * b * f)
    var y = [Float](repeating: 0, count: w.targets.isEmpty ? 0 : b * horizon * f)
    for (j, i) in indices.enumerated() {
      let base = i * lookback * f
      let lastRow = base + (lookback - 1) * f
      for s in 0..<lookback {
        for k in 0..<f { x[(s * b + j) * f + k] = Float(w.inputs[base + s * f + k] - (relative ? w.inputs[lastRow + k] : 0)) }
      }
      guard !w.targets.isEmpty else { continue }
      for h in 0..<horizon {
        for k in 0..<f {
          y[j * horizon * f + h * f + k] = Float(w.targets[(i * horizon + h) * f + k] - (relative ? w.inputs[lastRow + k] : 0))
        }
      }
    }
    return (Tensor(shape: [lookback, b, f], scalars: x), w.targets.isEmpty ? nil : Tensor(shape: [b, horizon * f], scalars: y))
  }

  /// The number of batches taken, as JSON (the shuffle of each epoch follows from it).
  public func dataState() throws -> TaskDataState {
    try TaskDataState(position: position)
  }

  /// Goes back to a saved batch position. Throws `TrainingError.inconsistentCheckpoint` for a damaged one.
  public func restoreDataState(_ state: TaskDataState) throws {
    position = try state.position(what: "window")
    order = []
  }

  /// An empty configuration: a fitted forecaster is stored as a ``ForecastCheckpoint``.
  public func archiveConfiguration() throws -> String { "{}" }
}
