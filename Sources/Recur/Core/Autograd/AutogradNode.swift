import CRecurKernels

/// One node of the define-by-run tape: the operation that produced a tensor, its inputs' nodes and
/// the hand-written backward that maps the output's gradient to the inputs' gradients.
///
/// Leaves (parameters, tensors marked `requiringGrad()`) have no inputs and accumulate `grad`.
@usableFromInline
final class AutogradNode: @unchecked Sendable {
  /// Creation order; a node's inputs always have smaller ids, so descending id is a topological order.
  let id: Int
  let inputs: [AutogradNode?]
  /// Maps ∂loss/∂output to ∂loss/∂input for each input (nil where an input needs no gradient).
  let backward: ((Tensor) -> [Tensor?])?
  /// Accumulated gradient: kept on leaves, transient on interior nodes.
  var grad: Tensor?
  /// Short op name, for debugging.
  let op: String

  init(op: String, inputs: [AutogradNode?], backward: ((Tensor) -> [Tensor?])?) {
    self.id = Int(recur_next_node_id())
    self.op = op
    self.inputs = inputs
    self.backward = backward
  }

  var isLeaf: Bool { backward == nil }

  /// Adds `g` into this node's gradient.
  func accumulate(_ g: Tensor) {
    if let existing = grad {
      grad = existing.adding(g)
    } else {
      grad = g.detached()
    }
  }
}

/// Whether operations record the tape (per thread). Off inside `withoutGradients { }` (inference,
/// optimiser updates).
public enum GradientRecording {
  static var enabled: Bool {
    get { recur_grad_recording_enabled() != 0 }
    set { recur_set_grad_recording_enabled(newValue ? 1 : 0) }
  }

  /// Whether operations on this thread currently record the tape.
  public static var isEnabled: Bool { enabled }
}

/// Runs `body` without recording gradients (like `torch.no_grad()`).
public func withoutGradients<R>(_ body: () throws -> R) rethrows -> R {
  let previous = GradientRecording.enabled
  GradientRecording.enabled = false
  defer { GradientRecording.enabled = previous }
  return try body()
}

extension Tensor {
  /// Whether gradients flow to this tensor.
  public var requiresGrad: Bool { node != nil }

  /// The same values as a leaf that accumulates a gradient.
  public func requiringGrad() -> Tensor {
    Tensor(storage: storage, shape: shape, node: AutogradNode(op: "leaf", inputs: [], backward: nil))
  }

  /// The same values, cut from the tape (gradients stop here). Use it to carry a recurrent state
  /// across windows in truncated BPTT.
  public func detached() -> Tensor { Tensor(storage: storage, shape: shape, node: nil) }

  /// The gradient accumulated on this leaf by `backward()`.
  public var grad: Tensor? { node?.grad }

  /// Builds the result of a differentiable op: records a node when any input needs a gradient.
  @usableFromInline
  static func record(_ result: Tensor, op: String, inputs: [Tensor], backward: @escaping (Tensor) -> [Tensor?]) -> Tensor {
    guard GradientRecording.enabled, inputs.contains(where: { $0.node != nil }) else { return result }
    var out = result
    out.node = AutogradNode(op: op, inputs: inputs.map { $0.node }, backward: backward)
    return out
  }

  /// Back-propagates from this tensor. A scalar is seeded with 1; otherwise pass `gradient`
  /// (∂loss/∂self, same shape). Leaves accumulate into `grad`.
  public func backward(gradient: Tensor? = nil) {
    guard let root = node else { return }
    let seed: Tensor
    if let gradient {
      precondition(gradient.shape == shape, "backward gradient shape \(gradient.shape) does not match tensor shape \(shape)")
      seed = gradient
    } else {
      precondition(count == 1, "backward() without a gradient needs a scalar, got shape \(shape); pass gradient:")
      seed = Tensor(repeating: 1, shape: shape)
    }
    // Collect reachable interior nodes.
    var order: [AutogradNode] = []
    var seen = Set<ObjectIdentifier>()
    var stack = [root]
    while let n = stack.popLast() {
      guard seen.insert(ObjectIdentifier(n)).inserted else { continue }
      order.append(n)
      for case let input? in n.inputs { stack.append(input) }
    }
    order.sort { $0.id > $1.id }
    root.accumulate(seed)
    withoutGradients {
      for n in order {
        guard let backward = n.backward else { continue }  // leaves keep their grad
        guard let g = n.grad else { continue }
        n.grad = nil
        let inputGrads = backward(g)
        for (input, ig) in zip(n.inputs, inputGrads) {
          guard let input, let ig else { continue }
          input.accumulate(ig)
        }
      }
    }
  }
}
