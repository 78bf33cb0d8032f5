import ArgumentParser
import Foundation
import Recur

/// The recurrent state as NumPy arrays: `--initial-state` / `--initial-cell` read before the run,
/// `--final-state` / `--final-cell` written after it; the cell state (c) is an LSTM's only.
struct RecurrentStateFiles: ParsableArguments {
  @Option(help: "Initial hidden state h0 (.npy), [layers·directions, B, H_out].") var initialState: String?
  @Option(help: "Initial cell state c0 (.npy, LSTM), [layers·directions, B, H].") var initialCell: String?
  @Option(help: "Where to write the final hidden state h_n (.npy).") var finalState: String?
  @Option(help: "Where to write the final cell state c_n (.npy, LSTM).") var finalCell: String?

  /// Checks the flags against `cell`, then reads the initial state (nil: zeros).
  func initialState(for cell: RecurrentCellKind) throws -> RecurrentState? {
    if cell != .lstm {
      for (flag, path) in [("--initial-cell", initialCell), ("--final-cell", finalCell)] where path != nil {
        throw CLIError("\(flag) applies to an LSTM only; this is a \(cell.torchName)")
      }
    } else if (initialState == nil) != (initialCell == nil) {
      throw CLIError("an LSTM needs both --initial-state and --initial-cell, or neither")
    }
    guard let initialState else { return nil }
    return RecurrentState(h: try Self.read(initialState), c: try initialCell.map(Self.read))
  }

  /// Adds the parts of `state` asked for to the set of outputs.
  func addFinal(_ state: RecurrentState, to files: inout AtomicFileSet) throws {
    if let finalState { try files.add(NumPyArray(state.h).serialized(), to: URL(fileURLWithPath: finalState)) }
    if let finalCell, let c = state.c { try files.add(NumPyArray(c).serialized(), to: URL(fileURLWithPath: finalCell)) }
  }

  private static func read(_ path: String) throws -> Tensor {
    try NumPyArray.read(from: URL(fileURLWithPath: path)).tensor
  }
}
