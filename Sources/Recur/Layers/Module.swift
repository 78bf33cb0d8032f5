/// A network component with named parameters and child modules, named exactly as PyTorch's
/// `state_dict` names them (`lstm.weight_ih_l0`, `decoder.bias`), so weights move both ways.
public protocol Module: AnyObject {
  /// This module's own parameters (not its children's), in PyTorch's registration order.
  var ownParameters: [(name: String, parameter: Parameter)] { get }
  /// This module's own buffers (not trained, but saved and loaded), in PyTorch's registration order.
  var ownBuffers: [(name: String, buffer: Buffer)] { get }
  /// Child modules with the attribute names PyTorch would use.
  var children: [(name: String, module: any Module)] { get }
}

extension Module {
  /// None by default: a container module has only its children's parameters.
  public var ownParameters: [(name: String, parameter: Parameter)] { [] }
  /// None by default: most modules keep no state besides their parameters.
  public var ownBuffers: [(name: String, buffer: Buffer)] { [] }
  /// None by default: a leaf module.
  public var children: [(name: String, module: any Module)] { [] }

  /// All parameters, depth first, with dotted names.
  public func namedParameters() -> [(name: String, parameter: Parameter)] {
    var result = ownParameters
    for (childName, child) in children {
      result += child.namedParameters().map { ("\(childName).\($0.name)", $0.parameter) }
    }
    return result
  }

  /// All parameters in state-dict order.
  public var parameters: [Parameter] { namedParameters().map(\.parameter) }

  /// Total number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Forgets all accumulated gradients.
  public func zeroGrad() { for p in parameters { p.zeroGrad() } }

  /// All buffers, depth first, with dotted names (never part of `parameters`).
  public func namedBuffers() -> [(name: String, buffer: Buffer)] {
    var result = ownBuffers
    for (childName, child) in children {
      result += child.namedBuffers().map { ("\(childName).\($0.name)", $0.buffer) }
    }
    return result
  }

  /// Parameters and buffers in PyTorch's state-dict order: a module's own parameters, then its own
  /// buffers, then each child's entries.
  func namedStateTensors() -> [(name: String, tensor: any StateTensor)] {
    var result: [(name: String, tensor: any StateTensor)] = ownParameters.map { ($0.name, $0.parameter) }
    result += ownBuffers.map { ($0.name, $0.buffer) }
    for (childName, child) in children {
      result += child.namedStateTensors().map { ("\(childName).\($0.name)", $0.tensor) }
    }
    return result
  }

  /// Copies of the parameters and buffers keyed by state-dict name, in PyTorch's order.
  public func stateDict() -> [(name: String, tensor: Tensor)] {
    namedStateTensors().map { ($0.name, $0.tensor.data.copied()) }
  }

  /// Loads parameters and buffers by name. With `strict`, missing and unexpected keys are errors (as in
  /// PyTorch's `load_state_dict(strict=True)`); shape mismatches are always errors.
  public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws {
    let named = namedStateTensors()
    let expected = Set(named.map(\.name))
    let missing = named.map(\.name).filter { tensors[$0] == nil }
    let unexpected = tensors.keys.filter { !expected.contains($0) }.sorted()
    var mismatched: [String] = []
    for (name, p) in named {
      if let t = tensors[name], t.shape != p.shape {
        mismatched.append("size mismatch for \(name): copying a param with shape \(shapeForMessage(t.shape)) from checkpoint, the shape in current model is \(p.shape)")
      }
    }
    if !mismatched.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
      throw StateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [], mismatches: mismatched)
    }
    // Weights from a file are numbers a model can compute with: NaN or infinity would only come
    // out again as NaN outputs with a success status.
    let nonFinite = named.compactMap { (name, _) in tensors[name].flatMap { t in t.isFinite ? nil : name } }
    if !nonFinite.isEmpty { throw StateDictError(nonFiniteKeys: nonFinite) }
    for (name, p) in named { if let t = tensors[name] { p.assign(t) } }
  }
}

/// Why a state dict did not load, in the words of PyTorch's `load_state_dict`.
public struct StateDictError: Error, CustomStringConvertible, Equatable {
  /// Names the model has and the state dict lacks (strict loads only).
  public var missingKeys: [String]
  /// Names in the state dict the model does not have (strict loads only).
  public var unexpectedKeys: [String]
  /// One message per name whose shape differs between the state dict and the model.
  public var mismatches: [String]
  /// Names whose tensors hold NaN or infinite values (Recur refuses them; PyTorch would load them).
  public var nonFiniteKeys: [String] = []

  /// The problems found, by kind.
  public init(missingKeys: [String] = [], unexpectedKeys: [String] = [], mismatches: [String] = [], nonFiniteKeys: [String] = []) {
    self.missingKeys = missingKeys
    self.unexpectedKeys = unexpectedKeys
    self.mismatches = mismatches
    self.nonFiniteKeys = nonFiniteKeys
  }

  /// All problems in one message, worded as PyTorch's `load_state_dict` words them.
  public var description: String {
    var parts: [String] = []
    // Names come from files: each is escaped and shortened, and long lists are cut.
    func names(_ list: [String]) -> String {
      let shown = list.prefix(12).map { quotedForMessage($0) }.joined(separator: ", ")
      return list.count > 12 ? shown + " and \(list.count - 12) more" : shown
    }
    if !missingKeys.isEmpty { parts.append("Missing key(s) in state_dict: " + names(missingKeys) + ".") }
    if !unexpectedKeys.isEmpty { parts.append("Unexpected key(s) in state_dict: " + names(unexpectedKeys) + ".") }
    parts += mismatches.prefix(12).map { $0.count > 300 ? String($0.prefix(300)) + "…" : $0 }
    if mismatches.count > 12 { parts.append("and \(mismatches.count - 12) more size mismatches.") }
    if !nonFiniteKeys.isEmpty {
      parts.append("NaN or infinite values in: " + names(nonFiniteKeys) + "; the weights are damaged or training diverged.")
    }
    return "Error(s) in loading state_dict: " + parts.joined(separator: " ")
  }
}

extension Tensor {
  /// A copy that shares nothing with `self` (no gradient).
  public func copied() -> Tensor { Tensor(storage: storage.copy(), shape: shape) }
}
