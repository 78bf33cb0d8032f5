/// A first-order optimiser over a fixed list of parameters, with `torch.optim`'s update rules.
///
/// Each call of `step()` reads every parameter's accumulated `grad` (parameters without one are
/// skipped and their state left untouched, as in PyTorch) and updates the values in place with
/// `Parameter.update`, which bumps the parameter's version.
///
/// The full state (per-parameter buffers, step counts, the current learning rate) can be exported
/// with `stateDict()` and restored with `loadStateDict(_:)`: a run resumed from a checkpoint
/// continues bit-identically.
public protocol Optimizer: AnyObject {
  /// The parameters, in the order given at construction (the indices of the state dict).
  var parameters: [Parameter] { get }
  /// The learning rate used by the next `step()` (set it from a schedule between steps).
  var learningRate: Float { get set }
  /// Applies one update from the current gradients.
  func step()
  /// The optimiser's state as named tensors and scalars (see `OptimizerState`).
  func stateDict() -> OptimizerState
  /// Restores a state produced by `stateDict()` of the same kind of optimiser over parameters of
  /// the same shapes.
  func loadStateDict(_ state: OptimizerState) throws
}

extension Optimizer {
  /// Forgets every parameter's gradient (`zero_grad(set_to_none=True)`).
  public func zeroGrad() {
    for p in parameters { p.zeroGrad() }
  }
}

/// An optimiser's state, named like PyTorch's `optimizer.state_dict()` flattened:
/// tensors `state.<i>.<buffer>` (`exp_avg`, `exp_avg_sq`, `max_exp_avg_sq`, `momentum_buffer`,
/// `square_avg`, `grad_avg`, `sum`) and scalars `state.<i>.step` and `param_groups.0.lr`, where
/// `<i>` is the parameter's index. Scalars are `Double` (exact for step counts below 2^53 and for
/// every `Float`), so a checkpoint can keep them in its metadata.
public struct OptimizerState: Sendable {
  /// Per-parameter buffers, in parameter order.
  public var tensors: [(name: String, tensor: Tensor)]
  /// Step counts and the learning rate.
  public var scalars: [(name: String, value: Double)]

  /// A state from named tensors and scalars.
  public init(tensors: [(name: String, tensor: Tensor)] = [], scalars: [(name: String, value: Double)] = []) {
    self.tensors = tensors
    self.scalars = scalars
  }

  /// The tensor named `name`, if present.
  public func tensor(_ name: String) -> Tensor? { tensors.first { $0.name == name }?.tensor }
  /// The scalar named `name`, if present.
  public func scalar(_ name: String) -> Double? { scalars.first { $0.name == name }?.value }
}

/// Why an optimiser state could not be loaded.
public struct OptimizerStateError: Error, CustomStringConvertible, Equatable {
  /// What is wrong with the state, as one line.
  public var description: String
  /// An error with the given message.
  public init(_ description: String) { self.description = description }
}

// MARK: - Helpers shared by the optimisers

/// Reads and writes `OptimizerState` entries for one optimiser, validating names and shapes.
struct OptimizerStateReader {
  let state: OptimizerState
  let kind: String
  let parameters: [Parameter]
  private var tensorsByName: [String: Tensor] = [:]
  private var scalarsByName: [String: Double] = [:]
  private(set) var used = Set<String>()

  init(_ state: OptimizerState, kind: String, parameters: [Parameter]) throws {
    self.state = state
    self.kind = kind
    self.parameters = parameters
    for (name, t) in state.tensors {
      guard tensorsByName.updateValue(t, forKey: name) == nil else { throw OptimizerStateError("\(kind) state: duplicate tensor \"\(name)\"") }
    }
    for (name, v) in state.scalars {
      guard scalarsByName.updateValue(v, forKey: name) == nil else { throw OptimizerStateError("\(kind) state: duplicate scalar \"\(name)\"") }
    }
  }

  /// The learning rate stored under `param_groups.0.lr`.
  mutating func learningRate() throws -> Float {
    guard let lr = scalarsByName["param_groups.0.lr"] else {
      throw OptimizerStateError("\(kind) state has no \"param_groups.0.lr\"; is it an optimiser state dict?")
    }
    used.insert("param_groups.0.lr")
    return Float(lr)
  }

  /// The step count of parameter `i`, or nil if it has no state yet.
  mutating func step(_ i: Int) throws -> Int? {
    let name = "state.\(i).step"
    guard let v = scalarsByName[name] else { return nil }
    guard v >= 0, v == v.rounded(), v < 0x1p53 else { throw OptimizerStateError("\(kind) state: \(name) = \(v) is not a step count") }
    used.insert(name)
    return Int(v)
  }

  /// Buffer `key` of parameter `i` (a copy with the parameter's shape), or nil when absent.
  mutating func buffer(_ i: Int, _ key: String) throws -> Tensor? {
    let name = "state.\(i).\(key)"
    guard let t = tensorsByName[name] else { return nil }
    guard t.shape == parameters[i].shape else {
      throw OptimizerStateError("\(kind) state: \(name) has shape \(t.shape) but parameter \(i) has shape \(parameters[i].shape)")
    }
    used.insert(name)
    return t.copied()
  }

  /// Buffer `key` of parameter `i`, which must be present.
  mutating func requiredBuffer(_ i: Int, _ key: String) throws -> Tensor {
    guard let t = try buffer(i, key) else {
      throw OptimizerStateError("\(kind) state: missing \"state.\(i).\(key)\" (the saved optimiser had different options?)")
    }
    return t
  }

  /// Throws if any entry was not consumed (another optimiser's state, or more parameters).
  func checkAllUsed() throws {
    let unexpected = (state.tensors.map(\.name) + state.scalars.map(\.name)).filter { !used.contains($0) }
    if !unexpected.isEmpty {
      throw OptimizerStateError("\(kind) state: unexpected entries \(unexpected.prefix(6).joined(separator: ", "))"
        + (unexpected.count > 6 ? ", …" : "") + " (saved from a different optimiser or parameter list?)")
    }
  }
}

/// Validates a hyper-parameter like torch.optim's `ValueError`s (as a precondition).
@inline(__always)
func checkHyperparameter(_ ok: Bool, _ message: @autoclosure () -> String) {
  precondition(ok, message())
}
