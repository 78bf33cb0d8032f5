import Recur

/// The cell a `--model` value names: `lstm`, `gru`, `rnn` (tanh), or `rnn_tanh` / `rnn_relu`
/// (any case); one line naming the choices otherwise.
func parseCell(_ name: String) throws -> RecurrentCellKind {
  let cells: [String: RecurrentCellKind] = ["lstm": .lstm, "gru": .gru, "rnn": .rnnTanh, "rnn_tanh": .rnnTanh, "rnn_relu": .rnnRelu]
  guard let cell = cells[name.lowercased()] else { throw CLIError("unknown --model \"\(name)\"; use lstm, gru or rnn") }
  return cell
}

/// The layer a `recur train --model` value names: the cells of `parseCell`, or `mingru` / `minlstm`
/// (the parallel-scan layers).
func parseSequenceLayer(_ name: String) throws -> SequenceLayerKind {
  if let minimal = MinimalRecurrentKind(rawValue: name.lowercased()) { return .minimal(minimal) }
  do { return .recurrent(try parseCell(name)) } catch {
    throw CLIError("unknown --model \"\(name)\"; use lstm, gru, rnn, mingru or minlstm")
  }
}
