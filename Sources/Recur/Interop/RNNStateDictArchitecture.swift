/// The architecture a PyTorch-style state_dict implies, worked out from tensor names and shapes
/// alone: which recurrent layers (cell kind, sizes, layers, directions, projection, bias), and the
/// embeddings and linear layers next to them.
///
/// PyTorch's `nn.RNN`/`nn.LSTM`/`nn.GRU` name their parameters `weight_ih_l{k}`, `weight_hh_l{k}`,
/// `bias_ih_l{k}`, `bias_hh_l{k}` and, for an LSTM with `proj_size`, `weight_hr_l{k}`, each with a
/// `_reverse` twin when bidirectional, all under the module's prefix (`lstm.`, `encoder.rnn.`).
/// The shapes decide the rest:
///
/// - `weight_hr_l0` is `[P, H]` when present (projection), otherwise H is `weight_hh_l0`'s width;
/// - `weight_ih_l0` is `[G, I]` with G = H (RNN), 3H (GRU: r, z, n) or 4H (LSTM: i, f, g, o);
/// - layers = 1 + the largest k; bidirectional iff `weight_ih_l0_reverse` exists; bias iff
///   `bias_ih_l0` exists.
///
/// An Elman RNN's nonlinearity (tanh or relu) is not stored in its weights, so it is reported as
/// unknown. Every expected tensor is checked for presence and shape; a group that does not add up
/// is not reported as a layer but explained in `notes`.
public struct RNNStateDictArchitecture: Sendable, Equatable, CustomStringConvertible {
  /// A recurrent module (`nn.RNN`, `nn.LSTM`, `nn.GRU`).
  public struct Recurrent: Sendable, Equatable {
    /// The module's path without the trailing dot (`"lstm"`, `"encoder.rnn"`, `""` at top level).
    public var module: String
    /// The cell kind, from the gate count in the weight shapes; an Elman RNN is reported as
    /// `.rnnTanh` (its nonlinearity is not stored in the weights: see `cellDescription`).
    public var cell: RecurrentCellKind
    /// Features per time step of the input (`input_size`).
    public var inputSize: Int
    /// Hidden units per direction (`hidden_size`).
    public var hiddenSize: Int
    /// Number of stacked layers (`num_layers`).
    public var numLayers: Int
    /// Whether `_reverse` weights are present (`bidirectional`).
    public var bidirectional: Bool
    /// 0 when there is no projection.
    public var projSize: Int
    /// Whether the bias vectors are present (`bias`).
    public var bias: Bool

    /// Features per time step of the output: directions × (projSize or hiddenSize).
    public var outputSize: Int { (bidirectional ? 2 : 1) * (projSize > 0 ? projSize : hiddenSize) }

    /// `"lstm"`, `"gru"`, or `"rnn (tanh or relu: not stored in weights)"`.
    public var cellDescription: String {
      cell.isElman ? "rnn (tanh or relu: not stored in weights)" : cell.rawValue
    }

    /// The PyTorch constructor call that makes a module with this state_dict.
    public var torchConstructor: String {
      var args = ["\(inputSize)", "\(hiddenSize)"]
      if numLayers != 1 { args.append("num_layers=\(numLayers)") }
      if !bias { args.append("bias=False") }
      if bidirectional { args.append("bidirectional=True") }
      if projSize > 0 { args.append("proj_size=\(projSize)") }
      if cell.isElman { args.append("nonlinearity='tanh' or 'relu'") }
      return "nn.\(cell.torchName)(\(args.joined(separator: ", ")))"
    }
  }

  /// An `nn.Embedding` (a lone 2-D `weight`, named like an embedding).
  public struct Embedding: Sendable, Equatable {
    /// The module's path without the trailing dot (`"embedding"`).
    public var module: String
    /// Number of rows of `weight` (`num_embeddings`).
    public var numEmbeddings: Int
    /// Width of each row (`embedding_dim`).
    public var embeddingDim: Int
  }

  /// An `nn.Linear` (`weight` [out, in], optional `bias` [out]).
  public struct Linear: Sendable, Equatable {
    /// The module's path without the trailing dot (`"decoder"`).
    public var module: String
    /// Columns of `weight` (`in_features`).
    public var inFeatures: Int
    /// Rows of `weight` (`out_features`).
    public var outFeatures: Int
    /// Whether a `bias` tensor is present.
    public var bias: Bool
  }

  /// The recurrent modules found, in file order.
  public var recurrent: [Recurrent] = []
  /// The embeddings found, in file order.
  public var embeddings: [Embedding] = []
  /// The linear layers found, in file order.
  public var linears: [Linear] = []
  /// Tensor names not explained by any of the above.
  public var unrecognised: [String] = []
  /// Why a group of recurrent-looking tensors was not accepted as a layer.
  public var notes: [String] = []

  /// Infers the architecture; nil when the tensors contain no recurrent layer (and no
  /// recurrent-looking group worth a note).
  public init?(_ tensors: [(name: String, shape: [Int])]) {
    var shapes: [String: [Int]] = [:]
    for (name, shape) in tensors where shapes[name] == nil { shapes[name] = shape }
    var consumed = Set<String>()

    // Recurrent groups, by prefix, in order of first appearance.
    var prefixes: [String] = []
    for (name, _) in tensors {
      guard let range = name.range(of: "weight_ih_l", options: .backwards) else { continue }
      let prefix = String(name[..<range.lowerBound])
      let rest = name[range.upperBound...]
      let layerText = rest.hasSuffix("_reverse") ? rest.dropLast("_reverse".count) : rest
      guard !layerText.isEmpty, layerText.allSatisfy(\.isASCII), layerText.allSatisfy(\.isNumber),
            prefix.isEmpty || prefix.hasSuffix("."), !prefixes.contains(prefix) else { continue }
      prefixes.append(prefix)
    }
    for prefix in prefixes {
      switch Self.recurrentLayer(prefix: prefix, shapes) {
      case .success(let (layer, names)):
        recurrent.append(layer)
        consumed.formUnion(names)
      case .failure(let note):
        notes.append(note.message)
      }
    }
    guard !recurrent.isEmpty || !notes.isEmpty else { return nil }

    // Embeddings and linear layers: `X.weight` 2-D, with or without `X.bias`.
    for (name, shape) in tensors where !consumed.contains(name) && name.hasSuffix("weight") && shape.count == 2 {
      guard name == "weight" || name.hasSuffix(".weight") else { continue }
      let module = String(name.dropLast(name == "weight" ? 6 : 7))
      let biasName = module.isEmpty ? "bias" : module + ".bias"
      let last = module.split(separator: ".").last.map(String.init) ?? module
      if let bias = shapes[biasName], !consumed.contains(biasName), bias == [shape[0]] {
        linears.append(Linear(module: module, inFeatures: shape[1], outFeatures: shape[0], bias: true))
        consumed.formUnion([name, biasName])
      } else if last.lowercased().contains("emb") || last == "encoder" {
        embeddings.append(Embedding(module: module, numEmbeddings: shape[0], embeddingDim: shape[1]))
        consumed.insert(name)
      } else {
        linears.append(Linear(module: module, inFeatures: shape[1], outFeatures: shape[0], bias: false))
        consumed.insert(name)
      }
    }
    unrecognised = tensors.map(\.name).filter { !consumed.contains($0) }
  }

  /// Infers the architecture of a parsed header (see `init?(_:)`).
  public init?(_ header: SafeTensorsHeader) {
    self.init(header.tensors.map { ($0.name, $0.shape) })
  }

  struct Note: Error { var message: String }

  /// Checks the group of tensors under `prefix`, returning the layer and the names it explains.
  static func recurrentLayer(prefix: String, _ shapes: [String: [Int]]) -> Result<(Recurrent, Set<String>), Note> {
    let module = prefix.isEmpty ? "" : String(prefix.dropLast())
    let label = module.isEmpty ? "top-level recurrent tensors" : "\"\(module)\""
    func note(_ text: String) -> Result<(Recurrent, Set<String>), Note> { .failure(Note(message: "\(label): \(text)")) }

    guard let ih0 = shapes[prefix + "weight_ih_l0"], ih0.count == 2 else { return note("weight_ih_l0 is missing or not 2-D") }
    guard let hh0 = shapes[prefix + "weight_hh_l0"], hh0.count == 2 else { return note("weight_hh_l0 is missing or not 2-D") }
    let gates = ih0[0], inputSize = ih0[1]
    var hiddenSize = hh0[1]
    var projSize = 0
    if let hr0 = shapes[prefix + "weight_hr_l0"] {
      guard hr0.count == 2 else { return note("weight_hr_l0 is not 2-D") }
      projSize = hr0[0]
      hiddenSize = hr0[1]
    }
    guard hiddenSize > 0, gates % hiddenSize == 0 else {
      return note("weight_ih_l0 has \(gates) rows, not 1, 3 or 4 times the hidden size \(hiddenSize)")
    }
    let cell: RecurrentCellKind
    switch gates / hiddenSize {
    case 1: cell = .rnnTanh
    case 3: cell = .gru
    case 4: cell = .lstm
    default: return note("weight_ih_l0 has \(gates) rows = \(gates / hiddenSize) × hidden size \(hiddenSize), not 1 (RNN), 3 (GRU) or 4 (LSTM)")
    }
    if projSize > 0 && cell != .lstm { return note("weight_hr_l0 (projection) present but the gate count says \(cell.torchName)") }

    var numLayers = 0
    while shapes[prefix + "weight_ih_l\(numLayers)"] != nil { numLayers += 1 }
    let bidirectional = shapes[prefix + "weight_ih_l0_reverse"] != nil
    let bias = shapes[prefix + "bias_ih_l0"] != nil
    let directions = bidirectional ? 2 : 1
    let recurrentWidth = projSize > 0 ? projSize : hiddenSize

    var names = Set<String>()
    for layer in 0..<numLayers {
      let layerInput = layer == 0 ? inputSize : directions * recurrentWidth
      for direction in 0..<directions {
        let suffix = "_l\(layer)" + (direction == 1 ? "_reverse" : "")
        var expected: [(String, [Int])] = [("weight_ih", [gates, layerInput]), ("weight_hh", [gates, recurrentWidth])]
        if bias { expected += [("bias_ih", [gates]), ("bias_hh", [gates])] }
        if projSize > 0 { expected.append(("weight_hr", [projSize, hiddenSize])) }
        for (stem, shape) in expected {
          let name = prefix + stem + suffix
          guard let actual = shapes[name] else { return note("\(stem + suffix) is missing") }
          guard actual == shape else { return note("\(stem + suffix) has shape \(shapeForMessage(actual)), expected \(shape) for a \(cell.rawValue)") }
          names.insert(name)
        }
      }
    }
    // Tensors of a layer beyond numLayers or of a direction not present mean a broken group.
    let stems = ["weight_ih_l", "weight_hh_l", "bias_ih_l", "bias_hh_l", "weight_hr_l"]
    if let stray = shapes.keys.sorted().first(where: { name in
      name.hasPrefix(prefix) && !names.contains(name) && stems.contains { stem in
        let rest = name.dropFirst(prefix.count)
        guard rest.hasPrefix(stem) else { return false }
        let tail = rest.dropFirst(stem.count)
        let digits = tail.hasSuffix("_reverse") ? tail.dropLast(8) : tail
        return !digits.isEmpty && digits.allSatisfy { $0.isASCII && $0.isNumber }
      }
    }) {
      return note("\(stray.dropFirst(prefix.count)) does not belong to a \(numLayers)-layer \(bidirectional ? "bidirectional " : "")\(cell.rawValue)")
    }
    let layer = Recurrent(module: module, cell: cell, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers,
                          bidirectional: bidirectional, projSize: projSize, bias: bias)
    return .success((layer, names))
  }

  /// One line per module, e.g.
  /// `lstm: lstm, input size 6, hidden size 8, 2 layers, bidirectional, proj_size 4, bias — nn.LSTM(6, 8, …)`.
  public var description: String {
    var lines: [String] = []
    for e in embeddings {
      lines.append("\(e.module): Embedding — \(e.numEmbeddings) embeddings of size \(e.embeddingDim) — nn.Embedding(\(e.numEmbeddings), \(e.embeddingDim))")
    }
    for r in recurrent {
      var parts = [r.cellDescription, "input size \(r.inputSize)", "hidden size \(r.hiddenSize)",
                   r.numLayers == 1 ? "1 layer" : "\(r.numLayers) layers", r.bidirectional ? "bidirectional" : "unidirectional"]
      if r.projSize > 0 { parts.append("proj_size \(r.projSize)") }
      parts.append(r.bias ? "bias" : "no bias")
      lines.append("\(r.module.isEmpty ? "(top level)" : r.module): \(parts.joined(separator: ", ")) — \(r.torchConstructor)")
    }
    for l in linears {
      lines.append("\(l.module.isEmpty ? "(top level)" : l.module): Linear — \(l.inFeatures) → \(l.outFeatures)\(l.bias ? "" : ", no bias") — nn.Linear(\(l.inFeatures), \(l.outFeatures)\(l.bias ? "" : ", bias=False"))")
    }
    lines += notes.map { "not recognised: \($0)" }
    if !unrecognised.isEmpty {
      lines.append("other tensors: " + unrecognised.prefix(8).joined(separator: ", ") + (unrecognised.count > 8 ? ", … (\(unrecognised.count) in all)" : ""))
    }
    return lines.joined(separator: "\n")
  }
}
