import Foundation

extension Trainer {
  /// The step budget from the options: `steps`, `epochs` × steps per epoch, and as many steps as
  /// fit in the time limit (from `secondsUsed` on), whichever is smallest.
  func budgetInSteps(startingAt secondsUsed: Double) throws -> Int {
    var candidates: [Int] = []
    if let steps = options.steps { candidates.append(steps) }
    if let epochs = options.epochs { candidates.append(Swift.max(1, clampedSteps(epochs * Double(task.stepsPerEpoch)))) }
    if let limit = options.timeLimit { candidates.append(step + (try stepsThatFit(in: limit - secondsUsed))) }
    guard let budget = candidates.min() else { throw TrainingError.noBudget }
    return Swift.max(Swift.min(budget, TrainerOptions.maximumSteps), step + 1)
  }

  /// How many more steps fit in `seconds` of wall time, evaluations included, measured by timing
  /// forward and backward passes on the next batches and one evaluation. Nothing changes: the
  /// data position and the random stream are put back and the gradients dropped.
  ///
  /// Batches differ in cost (lengths vary) and the first ones also allocate, so the probe times
  /// between 6 and 160 batches, until 1 % of the limit has passed (never more than 5 %), and
  /// averages all but the first two.
  func stepsThatFit(in seconds: Double) throws -> Int {
    let start = DispatchTime.now().uptimeNanoseconds
    func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
    let savedData = try task.dataState(), savedContext = context
    var stepTimes: [Double] = []
    try Kernels.withMatmulPrecision(options.matmulPrecision) {
      for _ in 0..<160 {
        let t0 = now()
        let batch = try task.trainingLoss(context: &context)
        batch.loss.backward()
        _ = clipGradNorm(optimizer.parameters, maxNorm: .greatestFiniteMagnitude)
        optimizer.zeroGrad()
        stepTimes.append(now() - t0)
        // Every process times as many steps (each holds collectives).
        if try processGroup.any(now() > seconds / 20 || (stepTimes.count >= 6 && now() > seconds / 100)) { break }
      }
    }
    try task.restoreDataState(savedData)
    context = savedContext
    let t0 = now()
    _ = try evaluate()
    var evaluationCost = now() - t0
    if outputDirectory != nil, processGroup.isRoot {
      // Each evaluation writes the last checkpoint and often the best: time one serialisation, count two.
      // A real write (the file is flushed to disk), not just the serialisation.
      let probe = outputDirectory!.appendingPathComponent(".budget-probe-\(ProcessInfo.processInfo.processIdentifier).safetensors")
      let t1 = now()
      try archive().write(to: probe)
      evaluationCost += 2 * (now() - t1)
      try? FileManager.default.removeItem(at: probe)
    }
    // The first passes warm caches up and allocate: use the later ones when there are any.
    let warm = stepTimes.dropFirst(stepTimes.count > 3 ? 2 : stepTimes.count > 1 ? 1 : 0)
    let stepCost = warm.reduce(0, +) / Double(warm.count)
    let available = seconds - now() - evaluationCost
    let perStep = stepCost + evaluationCost / Double(evalEvery)
    return Swift.max(1, clampedSteps((available / Swift.max(perStep, 1e-9)).rounded(.down)))
  }

  /// `steps` as a step count, clamped to 0…`TrainerOptions.maximumSteps` (NaN → 0).
  private func clampedSteps(_ steps: Double) -> Int {
    guard steps > 0 else { return 0 }
    return steps >= Double(TrainerOptions.maximumSteps) ? TrainerOptions.maximumSteps : Int(steps.rounded())
  }
}
