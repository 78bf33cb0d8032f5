/// What `Adam` and `AdamW` share: the hyper-parameters, the per-parameter state and the update
/// (`AdamCore`); the subclasses only choose how weight decay applies.
public class AdamOptimizer: Optimizer {
  var core: AdamCore

  init(core: AdamCore) { self.core = core }

  /// The parameters updated by ``step()``, in state-dict index order.
  public var parameters: [Parameter] { core.parameters }
  /// The step size (`lr`); a schedule may change it between steps.
  public var learningRate: Float {
    get { core.learningRate }
    set { core.learningRate = newValue }
  }
  /// Decay rates of the first and second moment averages.
  public var betas: (Float, Float) { core.betas }
  /// Added to the denominator.
  public var eps: Float { core.eps }
  /// L2 (`Adam`) or decoupled (`AdamW`) weight decay.
  public var weightDecay: Float { core.weightDecay }
  /// Whether the running maximum of the second moment is used.
  public var amsgrad: Bool { core.amsgrad }

  /// Updates every parameter that has a gradient; parameters without one are skipped.
  public func step() { core.step() }
  /// The moment buffers, step counts and learning rate, named as in `torch.optim.Adam`.
  public func stateDict() -> OptimizerState { core.stateDict() }
  /// Restores the state written by ``stateDict()``; throws if a buffer is missing, extra or of the wrong shape.
  public func loadStateDict(_ state: OptimizerState) throws { try core.loadStateDict(state) }
}
