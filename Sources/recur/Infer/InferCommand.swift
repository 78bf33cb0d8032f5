import ArgumentParser
import Foundation
import Recur

/// `recur infer`: runs a PyTorch-exported `nn.RNN` / `nn.LSTM` / `nn.GRU` (its state_dict saved as
/// safetensors) on a NumPy array, the architecture inferred from the tensor names and shapes.
struct InferCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "infer",
    abstract: "Run an RNN/LSTM/GRU from a PyTorch state_dict (.safetensors) on an input array (.npy).",
    discussion: """
      Export from PyTorch with safetensors.torch.save_file(module.state_dict(), "w.safetensors"). The \
      cell, sizes, layers, directions and projection are read from the names and shapes; an Elman RNN's \
      nonlinearity is not stored in the weights, so pass --nonlinearity relu for nn.RNN(nonlinearity='relu'). \
      Input: [T, B, input] ([B, T, input] with --batch-first, or unbatched [T, input]), float32/float64.
      """
  )

  @Option(help: "The state_dict as .safetensors.") var weights: String
  @Option(help: "Input array (.npy).") var input: String
  @Option(help: "Where to write the output array (.npy).") var output: String
  @Flag(help: "Input and output are [batch, time, features] (PyTorch's batch_first=True).") var batchFirst = false
  @Option(help: "Integer array (.npy) of the true length of each sequence in the batch.") var lengths: String?
  @OptionGroup var state: RecurrentStateFiles
  @Option(help: "Which recurrent module to run when the file holds several (its prefix, e.g. 'encoder.rnn').") var module: String?
  @Option(help: "Nonlinearity of an Elman RNN: tanh or relu.") var nonlinearity: String = "tanh"

  func run() throws {
    try reportingErrors { try infer() }
  }

  private func infer() throws {
    guard let nl = Nonlinearity(rawValue: nonlinearity) else {
      throw CLIError("--nonlinearity must be tanh or relu, got '\(nonlinearity)'")
    }
    let file = try SafeTensorsFile.read(from: URL(fileURLWithPath: weights))
    guard let architecture = RNNStateDictArchitecture(file.orderedEntries.map { ($0.name, $0.entry.shape) }),
          !architecture.recurrent.isEmpty else {
      throw CLIError("\(weights) holds no RNN/LSTM/GRU state_dict (expected tensors like weight_ih_l0, weight_hh_l0); run `recur inspect \(weights)` to see what it holds")
    }
    let candidates = architecture.recurrent.filter { module == nil || $0.module == module }
    guard candidates.count == 1, let arch = candidates.first else {
      let names = architecture.recurrent.map { $0.module.isEmpty ? "(top level)" : $0.module }.joined(separator: ", ")
      throw CLIError(module == nil
        ? "\(weights) holds \(architecture.recurrent.count) recurrent modules (\(names)); choose one with --module"
        : "no recurrent module '\(module!)' in \(weights); it has: \(names)")
    }
    let layer = RecurrentLayer.make(arch.cell.isElman && nl == .relu ? .rnnRelu : arch.cell, inputSize: arch.inputSize, hiddenSize: arch.hiddenSize,
                                    numLayers: arch.numLayers, bias: arch.bias, batchFirst: batchFirst,
                                    bidirectional: arch.bidirectional, projSize: arch.projSize)
    let prefix = arch.module.isEmpty ? "" : arch.module + "."
    var tensors: [String: Tensor] = [:]
    for (name, _) in layer.namedParameters() { tensors[name] = file[prefix + name]?.tensor }
    try layer.loadStateDict(tensors)

    let x = try NumPyArray.read(from: URL(fileURLWithPath: input)).tensor
    let lengthValues = try lengths.map { path -> [Int] in
      guard let values = try NumPyArray.read(from: URL(fileURLWithPath: path)).integers else {
        throw CLIError("\(path) must hold integers (int32 or int64), one length per sequence")
      }
      return values
    }
    let initial = try state.initialState(for: arch.cell)
    let (y, final): (Tensor, RecurrentState) = try withoutGradients {
      let r = try layer(x, initial, lengths: lengthValues)
      return (r.output, r.state)
    }
    // The output and the final states are written as one set: all of them or none.
    var files = AtomicFileSet()
    try files.add(NumPyArray(y).serialized(), to: URL(fileURLWithPath: output))
    try state.addFinal(final, to: &files)
    try files.commit()
    let kind = arch.cell.isElman ? "RNN(\(nl.rawValue))" : arch.cell.torchName
    FileHandle.standardError.write(Data("recur infer: \(kind) \(arch.inputSize)→\(arch.hiddenSize), \(arch.numLayers) layer(s)\(arch.bidirectional ? ", bidirectional" : "")\(arch.projSize > 0 ? ", proj \(arch.projSize)" : ""): input \(x.shape) → output \(y.shape) written to \(output)\n".utf8))
  }
}
