import Foundation
import Testing
@testable import Recur

/// `recur convert`: Recur 0.1 checkpoints become model archives that behave exactly as before.
@Suite("recur convert (executable)", .serialized)
struct ConvertCLITests {
  static func fixture(_ name: String) throws -> String {
    let root = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
    return root.appendingPathComponent("wave1/" + name).path
  }

  @Test func languageModelGeneratesAsBefore() throws {
    let scratch = try CLIScratch()
    let old = try Self.fixture("charlm.safetensors"), new = scratch.path("charlm.safetensors")
    let refused = try RecurExecutable.run(["generate", "--checkpoint", old])
    #expect(refused.status != 0 && refused.stderrLines.count == 1 && refused.stderr.contains("recur convert"), "\(refused.stderr)")
    let convert = try RecurExecutable.run(["convert", old, new])
    #expect(convert.status == 0, "\(convert.stderr)")
    let generated = try RecurExecutable.run(["generate", "--checkpoint", new, "--length", "60", "--seed", "2", "--prompt", "It"])
    #expect(generated.status == 0, "\(generated.stderr)")
    #expect(generated.stdout == (try String(contentsOfFile: try Self.fixture("charlm-generate-seed2.txt"), encoding: .utf8)))
    let archive = try ModelArchive.read(from: URL(fileURLWithPath: new))
    #expect(archive.task == LanguageModelTask.name && archive.training == nil)
    #expect(archive.producer.contains("recur convert"))
  }

  @Test(arguments: ["gru", "esn"])
  func forecasterPredictsAsBefore(kind: String) throws {
    let scratch = try CLIScratch()
    let new = scratch.path("\(kind).safetensors")
    let convert = try RecurExecutable.run(["convert", try Self.fixture("\(kind)-forecast.safetensors"), new])
    #expect(convert.status == 0, "\(convert.stderr)")
    let predicted = try RecurExecutable.run(["forecast", "--predict", "--checkpoint", new, "--csv", try Self.fixture("sine.csv"),
                                             "--steps", "5", "--json"])
    #expect(predicted.status == 0, "\(predicted.stderr)")
    #expect(predicted.stdout == (try String(contentsOfFile: try Self.fixture("\(kind)-predict.json"), encoding: .utf8)))
  }

  @Test func badInputsFailCleanly() throws {
    let scratch = try CLIScratch()
    let cases: [([String], String)] = [
      (["convert", scratch.path("missing.safetensors"), scratch.path("out.safetensors")], "does not exist"),
      (["convert", scratch.path("weights.safetensors"), scratch.path("out.safetensors")], "not a Recur 0.1 checkpoint"),
      (["convert", scratch.path("forecaster.safetensors"), scratch.path("out.safetensors")], "already a model archive"),
      (["convert", scratch.path("corrupt.safetensors"), scratch.path("out.safetensors")], "corrupt"),
      (["convert", scratch.path("weights.safetensors"), scratch.path("weights.safetensors")], "is the input"),
    ]
    let before = try scratch.listing()
    for (arguments, message) in cases {
      let r = try RecurExecutable.run(arguments)
      #expect(r.status != 0 && r.stderrLines.count == 1 && r.stderr.contains(message), "\(arguments) → \(r.stderr)")
    }
    #expect(try scratch.listing() == before)
  }
}
