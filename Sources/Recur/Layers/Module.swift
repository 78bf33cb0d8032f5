/// A network component with named parameters and child modules, named exactly as PyTorch's
/// `state_dict` names them (`lstm.weight_ih_l0`, `decoder.bias`), so weights move both ways.
public protocol Module: AnyObject {
  /// This module's own parameters (not its children's), in PyTorch's registration order.
  var ownParameters: [(name: String, parameter: Parameter)] { get }
  /// Child modules with the attribute names PyTorch would use.
  var children: [(name: String, module: any Module)] { get }
}

extension Module {
  /// None by default: a container module has only its children's parameters.
  public var ownParameters: [(name: String, parameter: Parameter)] { [] }
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

  /// Copies of the parameters keyed by state-dict name, in order.
  public func stateDict() -> [(name: String, tensor: Tensor)] {
    namedParameters().map { ($0.name, $0.parameter.data.copied()) }
  }

  /// Loads parameters by name. With `strict`, missing and unexpected keys are errors (as in
  /// PyTorch's `load_state_dict(strict=True)`); shape mismatches are always errors.
  public func loadStateDict(_ tensors: [String: Tensor], strict: Bool = true) throws {
    let named = namedParameters()
    let expected = Set(named.map(\.name))
    let missing = named.map(\.name).filter { tensors[$0] == nil }
    let unexpected = tensors.keys.filter { !expected.contains($0) }.sorted()
    var mismatched: [String] = []
    for (name, p) in named {
      if let t = tensors[name], t.shape != p.shape {
        mismatched.append("size mismatch for \(name): copying a param with shape \(t.shape) from checkpoint, the shape in current model is \(p.shape)")
      }
    }
    if !mismatched.isEmpty || (strict && (!missing.isEmpty || !unexpected.isEmpty)) {
      throw StateDictError(missingKeys: strict ? missing : [], unexpectedKeys: strict ? unexpected : [], mismatches: mismatched)
    }
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

  /// All problems in one message, worded as PyTorch's `load_state_dict` words them.
  public var description: String {
    var parts: [String] = []
    if !missingKeys.isEmpty { parts.append("Missing key(s) in state_dict: " + missingKeys.map { "\"\($0)\"" }.joined(separator: ", ") + ".") }
    if !unexpectedKeys.isEmpty { parts.append("Unexpected key(s) in state_dict: " + unexpectedKeys.map { "\"\($0)\"" }.joined(separator: ", ") + ".") }
    parts += mismatches
    return "Error(s) in loading state_dict: " + parts.joined(separator: " ")
  }
}

extension Tensor {
  /// A copy that shares nothing with `self` (no gradient).
  public func copied() -> Tensor { Tensor(storage: storage.copy(), shape: shape) }
}
