import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// A whole PyTorch model (nn.Embedding → nn.LSTM/nn.GRU → nn.Linear) saved with
/// `safetensors.torch.save_file(model.state_dict())` loads into `CharLM` and gives PyTorch's logits
/// (Tools/Reference/infer.py).
@Suite struct PyTorchModelLoadingTests {
  let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("infer")

  func load(_ name: String) throws -> (SafeTensorsFile, [Int], Tensor) {
    let file = try SafeTensorsFile.read(from: fixtures.appendingPathComponent("\(name).safetensors"))
    let tokens = try NumPyArray.read(from: fixtures.appendingPathComponent("\(name).tokens.npy")).integers!
    let logits = try NumPyArray.read(from: fixtures.appendingPathComponent("\(name).logits.npy")).tensor
    return (file, tokens, logits)
  }

  @Test(arguments: [("charmodel_lstm", RecurrentCellKind.lstm, 2), ("charmodel_gru", .gru, 1)])
  func reproducesPyTorchLogits(_ name: String, _ cell: RecurrentCellKind, _ layers: Int) throws {
    let (file, tokens, expected) = try load(name)
    let model = try CharLM(CharLM.Configuration(cell: .recurrent(cell), vocabularySize: 11, embeddingSize: 6, hiddenSize: 9, numLayers: layers), seed: 1)
    try model.loadStateDict((try file.stateDict))
    // Without a context the model runs in evaluation mode (no dropout).
    let (logits, _) = try withoutGradients { try model(tokens, steps: 5, batchSize: 3) }
    var context = ForwardContext.inference
    let (explicit, _) = try withoutGradients { try model(tokens, steps: 5, batchSize: 3, context: &context) }
    #expect(bits(explicit) == bits(logits))
    #expect(logits.shape == expected.shape)
    #expect(scaledMaxError(logits, expected) <= 1e-5)
  }

  @Test func mismatchesAreReportedByName() throws {
    let (file, _, _) = try load("charmodel_gru")
    // A 2-layer LSTM model: every rnn weight has the wrong shape and layer 1 is missing.
    let model = try CharLM(CharLM.Configuration(cell: .lstm, vocabularySize: 11, embeddingSize: 6, hiddenSize: 9, numLayers: 2), seed: 1)
    #expect {
      try model.loadStateDict((try file.stateDict))
    } throws: { error in
      let e = error as! StateDictError
      return e.missingKeys.contains("rnn.weight_ih_l1")
        && e.mismatches.contains { $0.contains("size mismatch for rnn.weight_ih_l0: copying a param with shape [27, 6] from checkpoint, the shape in current model is [36, 6]") }
    }
    var extra = (try file.stateDict)
    extra["rnn.weight_hr_l0"] = Tensor.zeros([2, 9])
    let gru = try CharLM(CharLM.Configuration(cell: .gru, vocabularySize: 11, embeddingSize: 6, hiddenSize: 9, numLayers: 1), seed: 1)
    #expect(throws: StateDictError(missingKeys: [], unexpectedKeys: ["rnn.weight_hr_l0"], mismatches: [])) {
      try gru.loadStateDict(extra)
    }
  }
}
