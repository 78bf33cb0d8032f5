/// Per-time-step gradient norms of the last backward pass through a recurrent layer: the norm of
/// ∂loss/∂h_t (over the batch) for every layer, direction and step. Their decay going back in time
/// is the vanishing-gradient problem made visible; a blow-up is the exploding one.
public final class GradientFlow: @unchecked Sendable {
  /// `norms[layer * numDirections + direction][t]`, t in time order. Empty before the first backward.
  public internal(set) var norms: [[Float]] = []
  /// Number of directions (1 or 2) of the layer that recorded these norms.
  public internal(set) var numDirections = 1

  /// An empty record (no backward pass yet).
  public init() {}

  /// The norms of layer `layer` (direction 0 = forward, 1 = reverse), in time order.
  public func norms(layer: Int, direction: Int = 0) -> [Float] { norms[layer * numDirections + direction] }
}
