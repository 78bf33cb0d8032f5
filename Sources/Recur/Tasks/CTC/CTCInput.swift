/// How raw frames become model input: standardised with the training statistics, then every
/// `frameStack` consecutive frames concatenated into one step (the last step padded with zero
/// frames, i.e. the training mean), so T frames become ⌈T / frameStack⌉ steps of
/// `featureCount · frameStack` values. Stacking shortens the sequences the recurrent layers run
/// over (speed) at the cost of time resolution; CTC needs at least one step per label (two for
/// a repeat). Stored in archives so evaluation and prediction read frames the same way.
public struct CTCInput: Sendable, Codable, Equatable {
  /// The per-feature standardisation fitted on the training frames.
  public var standardizer: FeatureStandardizer
  /// Frames per model step (1: no stacking).
  public var frameStack: Int

  /// An input description; throws `DataError.invalidParameter` for a `frameStack` outside 1…1024.
  public init(standardizer: FeatureStandardizer, frameStack: Int = 1) throws {
    guard frameStack >= 1 && frameStack <= 1024 else {
      throw DataError.invalidParameter(InvalidParameter("frameStack", frameStack, expected: "in 1…1024"))
    }
    self.standardizer = standardizer
    self.frameStack = frameStack
  }

  /// Decodes an archived description, checking it as `init(standardizer:frameStack:)` does (an
  /// archive is outside data: a damaged one must throw, not reach the kernels).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(standardizer: container.decode(FeatureStandardizer.self, forKey: .standardizer),
                  frameStack: container.decode(Int.self, forKey: .frameStack))
  }

  /// Features per raw frame F.
  public var featureCount: Int { standardizer.mean.count }
  /// Values per model step, F · frameStack.
  public var stepWidth: Int { featureCount * frameStack }

  /// Model steps for `frames` raw frames.
  public func steps(frames: Int) -> Int { (frames + frameStack - 1) / frameStack }

  /// Raw frames `[T, F]` → model steps `[⌈T/k⌉, F·k]` (standardised, stacked).
  public func transform(_ values: [Float]) -> [Float] {
    let standardized = standardizer.transform(values)
    let f = featureCount, k = frameStack, frames = values.count / max(f, 1)
    guard k > 1 else { return standardized }
    var out = [Float](repeating: 0, count: steps(frames: frames) * f * k)
    out.replaceSubrange(0..<standardized.count, with: standardized)
    return out
  }
}
