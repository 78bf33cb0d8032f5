/// The recurrent cell a layer runs. Gate blocks follow PyTorch: LSTM `i|f|g|o`, GRU `r|z|n`.
public enum RecurrentCellKind: String, Sendable, CaseIterable, Codable {
  /// Elman RNN, h' = tanh(W_ih x + b_ih + W_hh h + b_hh).
  case rnnTanh = "rnn_tanh"
  /// Elman RNN with ReLU.
  case rnnRelu = "rnn_relu"
  /// Long short-term memory.
  case lstm
  /// Gated recurrent unit.
  case gru

  /// An Elman RNN (tanh or ReLU).
  public var isElman: Bool { self == .rnnTanh || self == .rnnRelu }

  /// The PyTorch module: `RNN`, `LSTM` or `GRU`.
  public var torchName: String {
    switch self {
    case .rnnTanh, .rnnRelu: "RNN"
    case .lstm: "LSTM"
    case .gru: "GRU"
    }
  }

  /// A name for people: `tanh RNN`, `ReLU RNN`, `LSTM`, `GRU`.
  public var displayName: String {
    switch self {
    case .rnnTanh: "tanh RNN"
    case .rnnRelu: "ReLU RNN"
    case .lstm, .gru: torchName
    }
  }

  /// Number of H-wide gate blocks in W_ih / W_hh (PyTorch's `gate_size / hidden_size`).
  public var gateCount: Int {
    switch self {
    case .rnnTanh, .rnnRelu: 1
    case .lstm: 4
    case .gru: 3
    }
  }
}

/// The nonlinearity of an Elman `RNN` (PyTorch's `nonlinearity='tanh'|'relu'`).
public enum Nonlinearity: String, Sendable, Codable {
  case tanh, relu
}
