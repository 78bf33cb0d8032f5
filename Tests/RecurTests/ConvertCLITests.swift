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
    let expected = try String(contentsOfFile: try Self.fixture("\(kind)-predict.json"), encoding: .utf8)
    try Self.expectSameJSON(predicted.stdout, expected)
  }

  /// The same JSON: equal keys, strings and structure; numbers within 1e-9 relative (float64 sums in
  /// the reservoir kernels may associate differently on another ISA than the one that wrote the fixture).
  static func expectSameJSON(_ actual: String, _ expected: String) throws {
    func compare(_ a: Any, _ b: Any, _ path: String) {
      switch (a, b) {
      case let (a as [String: Any], b as [String: Any]):
        #expect(a.keys.sorted() == b.keys.sorted(), "\(path): keys")
        for key in b.keys { if let av = a[key], let bv = b[key] { compare(av, bv, path + "." + key) } }
      case let (a as [Any], b as [Any]):
        #expect(a.count == b.count, "\(path): count")
        for (i, (av, bv)) in zip(a, b).enumerated() { compare(av, bv, "\(path)[\(i)]") }
      case let (a as String, b as String):
        #expect(a == b, "\(path)")
      case let (a as NSNumber, b as NSNumber):
        let x = a.doubleValue, y = b.doubleValue
        #expect(abs(x - y) <= 1e-9 * max(1, abs(y)), "\(path): \(x) vs \(y)")
      default:
        #expect(a is NSNull && b is NSNull, "\(path): \(a) vs \(b)")
      }
    }
    compare(try JSONSerialization.jsonObject(with: Data(actual.utf8)), try JSONSerialization.jsonObject(with: Data(expected.utf8)), "$")
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
