import Foundation

/// Records a recurrent layer's per-step gradient norms ‖∂L/∂h_t‖ (its `GradientFlow`) at evenly
/// spaced training steps: a `TrainingObserver` that reads the norms of the step just taken.
///
/// The first step is always recorded, then about `snapshotCount` more over the step budget. Each
/// snapshot keeps the norms at `timePoints` evenly spaced time steps of `0..<length` (all of them
/// when fewer), rounded to three significant digits: a heat map needs no more, and the record of a
/// run stays small.
public final class GradientFlowRecorder: TrainingObserver {
  /// The norms of one training step.
  public struct Snapshot: Codable, Sendable, Equatable {
    /// The optimiser step (1-based) whose backward pass gave the norms.
    public var step: Int
    /// ‖∂L/∂h_t‖ summed over the batch, at ``Record/timeSteps``.
    public var norms: [Float]
  }

  /// What a run recorded.
  public struct Record: Codable, Sendable, Equatable {
    /// The time steps (0-based) the norms are taken at.
    public var timeSteps: [Int]
    /// One snapshot per recorded training step, in step order.
    public var snapshots: [Snapshot]
  }

  /// What has been recorded so far.
  public private(set) var record: Record
  let flow: GradientFlow
  let snapshotCount: Int
  private var every = 1

  /// A recorder of `flow` over sequences of at least `length` steps.
  public init(flow: GradientFlow, length: Int, timePoints: Int = 100, snapshotCount: Int = 24) {
    precondition(length >= 1 && timePoints >= 2 && snapshotCount >= 1, "GradientFlowRecorder: length, timePoints, snapshotCount")
    let n = Swift.min(length, timePoints)
    let times = n == length ? Array(0..<length) : (0..<n).map { Int((Double($0) * Double(length - 1) / Double(n - 1)).rounded()) }
    record = Record(timeSteps: times, snapshots: [])
    self.flow = flow
    self.snapshotCount = snapshotCount
  }

  /// Fixes the spacing when the run starts; takes a snapshot after the chosen steps.
  public func trainer(_ event: TrainingEvent, status: TrainingStatus, log: MetricsLog) throws {
    switch event {
    case .started:
      every = Swift.max(1, status.totalSteps / snapshotCount)
    case .stepped:
      guard status.step == 1 || status.step % every == 0, !flow.norms.isEmpty else { return }
      let norms = flow.norms(layer: 0)
      record.snapshots.append(Snapshot(step: status.step, norms: record.timeSteps.map {
        $0 < norms.count ? Self.rounded(norms[$0]) : 0
      }))
    default:
      break
    }
  }

  /// `x` to three significant digits.
  static func rounded(_ x: Float) -> Float {
    guard x.isFinite, x != 0 else { return x }
    return Float(String(format: "%.3g", Double(x))) ?? x
  }
}
