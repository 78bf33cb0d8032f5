/// The recurrent layer a model is built from: a PyTorch-style cell (`RNN`, `LSTM`, `GRU`) or a
/// parallel-scan layer (minGRU, minLSTM). Stored in archives as its name (`lstm`, `gru`,
/// `rnn_tanh`, `rnn_relu`, `mingru`, `minlstm`), the names `RecurrentCellKind` already used.
public enum SequenceLayerKind: Sendable, Equatable, Hashable, Codable, CustomStringConvertible {
  /// A `RecurrentLayer` of this cell.
  case recurrent(RecurrentCellKind)
  /// A `MinimalRecurrentLayer` of this kind.
  case minimal(MinimalRecurrentKind)

  /// Shorthands: `.lstm`, `.gru`, `.rnnTanh`, `.rnnRelu`, `.minGRU`, `.minLSTM`.
  public static let lstm = SequenceLayerKind.recurrent(.lstm)
  public static let gru = SequenceLayerKind.recurrent(.gru)
  public static let rnnTanh = SequenceLayerKind.recurrent(.rnnTanh)
  public static let rnnRelu = SequenceLayerKind.recurrent(.rnnRelu)
  public static let minGRU = SequenceLayerKind.minimal(.minGRU)
  public static let minLSTM = SequenceLayerKind.minimal(.minLSTM)

  /// Every kind, PyTorch cells first.
  public static let allCases: [SequenceLayerKind] = RecurrentCellKind.allCases.map { .recurrent($0) } + MinimalRecurrentKind.allCases.map { .minimal($0) }

  /// The kind of this name, or nil.
  public init?(rawValue: String) {
    if let k = RecurrentCellKind(rawValue: rawValue) { self = .recurrent(k) }
    else if let k = MinimalRecurrentKind(rawValue: rawValue) { self = .minimal(k) }
    else { return nil }
  }

  /// The name stored in archives.
  public var rawValue: String {
    switch self {
    case .recurrent(let k): k.rawValue
    case .minimal(let k): k.rawValue
    }
  }

  /// A name for people: `LSTM`, `tanh RNN`, `minGRU`, …
  public var displayName: String {
    switch self {
    case .recurrent(let k): k.displayName
    case .minimal(let k): k.displayName
    }
  }

  public var description: String { rawValue }

  /// A unidirectional stack of this kind with PyTorch's default initialisation drawn from `seed`.
  public func make(inputSize: Int, hiddenSize: Int, numLayers: Int, dropout: Float = 0, seed: UInt64) -> any SequenceLayer {
    switch self {
    case .recurrent(let k):
      RecurrentLayer.make(k, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout, seed: seed)
    case .minimal(let k):
      MinimalRecurrentLayer(kind: k, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers, dropout: dropout, seed: seed)
    }
  }

  /// The number of parameters `make` would create, computed without allocating.
  public func parameterCount(inputSize: Int, hiddenSize: Int, numLayers: Int) -> SizeTally {
    switch self {
    case .recurrent(let k):
      return RecurrentLayer.parameterCount(k, inputSize: inputSize, hiddenSize: hiddenSize, numLayers: numLayers)
    case .minimal(let k):
      var tally = SizeTally()
      guard numLayers > 0 else { return tally }
      // W_ih [G·H, input] and b_ih [G·H] for the first layer; the others read H.
      tally.add(k.gateCount, hiddenSize, inputSize)
      tally.add(k.gateCount, hiddenSize)
      tally.add(product: [k.gateCount, hiddenSize, hiddenSize, numLayers - 1])
      tally.add(product: [k.gateCount, hiddenSize, numLayers - 1])
      return tally
    }
  }

  public init(from decoder: any Decoder) throws {
    let name = try decoder.singleValueContainer().decode(String.self)
    guard let kind = SequenceLayerKind(rawValue: name) else {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
        "unknown recurrent layer \"\(name.prefix(20))\"; expected one of \(SequenceLayerKind.allCases.map(\.rawValue).joined(separator: ", "))"))
    }
    self = kind
  }

  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(rawValue)
  }
}
