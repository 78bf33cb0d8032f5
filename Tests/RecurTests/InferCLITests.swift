import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// `recur infer` on PyTorch-exported modules (Tools/Reference/infer.py), driven as a user would.
@Suite struct InferCLITests {
  let fixtures = Bundle.module.url(forResource: "Fixtures", withExtension: nil)!.appendingPathComponent("infer")

  func path(_ name: String) -> String { fixtures.appendingPathComponent(name).path }

  func expectClose(_ file: URL, _ reference: String, _ label: String) throws {
    let actual = try NumPyArray.read(from: file).tensor
    let expected = try NumPyArray.read(from: URL(fileURLWithPath: path(reference))).tensor
    #expect(actual.shape == expected.shape, "\(label): \(actual.shape) vs \(expected.shape)")
    if actual.shape == expected.shape { #expect(scaledMaxError(actual, expected) <= 1e-5, "\(label)") }
  }

  @Test func lstmWithProjectionBidirectional() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let y = dir.appendingPathComponent("y.npy"), h = dir.appendingPathComponent("h.npy"), c = dir.appendingPathComponent("c.npy")
    let run = try runRecur(["infer", "--weights", path("lstm_proj_bidir.safetensors"), "--input", path("lstm_proj_bidir.x.npy"),
                            "--output", y.path, "--final-state", h.path, "--final-cell", c.path])
    #expect(run.status == 0, "\(run.stderr)")
    try expectClose(y, "lstm_proj_bidir.y.npy", "output")
    try expectClose(h, "lstm_proj_bidir.h.npy", "h_n")
    try expectClose(c, "lstm_proj_bidir.c.npy", "c_n")
  }

  @Test func gruBatchFirstWithLengths() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let y = dir.appendingPathComponent("y.npy"), h = dir.appendingPathComponent("h.npy")
    let run = try runRecur(["infer", "--weights", path("gru_batch_first_lengths.safetensors"),
                            "--input", path("gru_batch_first_lengths.x.npy"), "--batch-first",
                            "--lengths", path("gru_batch_first_lengths.lengths.npy"), "--output", y.path, "--final-state", h.path])
    #expect(run.status == 0, "\(run.stderr)")
    try expectClose(y, "gru_batch_first_lengths.y.npy", "output")
    try expectClose(h, "gru_batch_first_lengths.h.npy", "h_n")
  }

  @Test func reluRNNInsideAModule() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let y = dir.appendingPathComponent("y.npy")
    let run = try runRecur(["infer", "--weights", path("rnn_relu.safetensors"), "--input", path("rnn_relu.x.npy"),
                            "--nonlinearity", "relu", "--output", y.path])
    #expect(run.status == 0, "\(run.stderr)")
    try expectClose(y, "rnn_relu.y.npy", "output")
  }

  @Test func badInputIsOneLineErrorAndWritesNothing() throws {
    let dir = try makeTemporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let y = dir.appendingPathComponent("y.npy")
    let cases: [([String], String)] = [
      (["--weights", dir.appendingPathComponent("missing.safetensors").path, "--input", path("rnn_relu.x.npy")], "missing.safetensors"),
      (["--weights", path("rnn_relu.x.npy"), "--input", path("rnn_relu.x.npy")], "rnn_relu.x.npy"),
      (["--weights", path("rnn_relu.safetensors"), "--input", path("lstm_proj_bidir.x.npy")], "input_size"),
      (["--weights", path("rnn_relu.safetensors"), "--input", path("rnn_relu.x.npy"), "--nonlinearity", "sigmoid"], "tanh or relu"),
      (["--weights", path("gru_batch_first_lengths.safetensors"), "--input", path("gru_batch_first_lengths.x.npy"), "--batch-first",
        "--lengths", path("rnn_relu.x.npy")], "integers"),
      (["--weights", path("lstm_proj_bidir.safetensors"), "--input", path("lstm_proj_bidir.x.npy"),
        "--initial-state", path("lstm_proj_bidir.x.npy"), "--initial-cell", path("lstm_proj_bidir.c.npy")], "Expected hidden size"),
    ]
    for (args, mention) in cases {
      let run = try runRecur(["infer"] + args + ["--output", y.path])
      #expect(run.status != 0, "\(args)")
      let lines = run.stderr.split(separator: "\n")
      #expect(lines.count == 1 && run.stderr.contains(mention), "\(args): \(run.stderr)")
      #expect(!FileManager.default.fileExists(atPath: y.path), "\(args) wrote an output")
    }
  }
}
