import Foundation
import Testing
import _RecurTestSupport
@testable import Recur

/// The attention forms and the attention decoder step against PyTorch (`Tools/Reference/seq2seq.py`):
/// outputs, attention weights and the gradients of every input and parameter.
@Suite("Seq2seq attention vs PyTorch")
struct Seq2SeqAttentionTests {
  /// The fixture's `param.<name>` tensors as a state dict, with `prefix` removed from the names.
  static func stateDict(_ f: [String: Tensor]) -> [String: Tensor] {
    Dictionary(uniqueKeysWithValues: f.compactMap { key, value in
      key.hasPrefix("param.") ? (String(key.dropFirst("param.".count)), value) : nil
    })
  }

  static func expectClose(_ actual: Tensor?, _ expected: Tensor?, _ what: String, rtol: Float = 1e-4, atol: Float = 1e-5) {
    guard let actual, let expected else {
      Issue.record("\(what): missing (\(actual == nil ? "actual" : "expected"))")
      return
    }
    let c = closeness(actual, expected, rtol: rtol, atol: atol)
    #expect(c.ok, "\(what): \(c.message)")
  }

  @Test(arguments: [AttentionScore.dot, .general, .additive])
  func attentionMatchesPyTorch(_ score: AttentionScore) throws {
    let f = try loadFixture("seq2seq/attention_\(score.rawValue)")
    let memory = try #require(f["memory"]).requiringGrad(), query = try #require(f["query"]).requiringGrad()
    let lengths = try #require(f["lengths"]).scalars.map { Int($0) }
    var generator = RandomGenerator(seed: 1)
    let attention = try Attention(score: score, querySize: query.shape[1], memorySize: memory.shape[2], generator: &generator)
    try attention.loadStateDict(Self.stateDict(f))
    let (output, weights) = attention(query, memory: attention.memory(memory, lengths: lengths))
    Self.expectClose(output, f["output"], "output")
    Self.expectClose(weights, f["weights"], "weights")
    (output * (try #require(f["reducer"]))).sum().backward()
    Self.expectClose(memory.grad, f["grad.memory"], "grad memory")
    Self.expectClose(query.grad, f["grad.query"], "grad query")
    for (name, p) in attention.namedParameters() { Self.expectClose(p.grad, f["grad.\(name)"], "grad \(name)") }
  }

  @Test(arguments: [("decoder_lstm_general", RecurrentCellKind.lstm, AttentionScore.general),
                    ("decoder_gru_additive", .gru, .additive)])
  func decoderStepsMatchPyTorch(_ name: String, _ kind: RecurrentCellKind, _ score: AttentionScore) throws {
    let f = try loadFixture("seq2seq/\(name)")
    let memory = try #require(f["memory"]).requiringGrad()
    let h0 = try #require(f["h0"]).requiringGrad(), c0 = try #require(f["c0"]).requiringGrad()
    let lengths = try #require(f["lengths"]).scalars.map { Int($0) }
    let tokens = try #require(f["tokens"])
    let (steps, B) = (tokens.shape[0], tokens.shape[1])
    let embedding = try #require(f["param.embedding.weight"]), output = try #require(f["param.output.weight"])
    var generator = RandomGenerator(seed: 1)
    let decoder = try AttentionDecoder(kind: kind, vocabularySize: output.shape[0], embeddingSize: embedding.shape[1],
                                       hiddenSize: h0.shape[1], memorySize: memory.shape[2], attention: score, inputFeeding: true,
                                       dropout: 0, generator: &generator)
    try decoder.loadStateDict(Self.stateDict(f))
    let attentionMemory = decoder.attention!.memory(memory, lengths: lengths)
    var state = DecoderState(recurrent: RecurrentState(h: h0, c: kind == .lstm ? c0 : nil))
    var context = ForwardContext.inference
    var loss = Tensor(scalar: 0)
    for t in 0..<steps {
      let previous = (0..<B).map { Int(tokens.scalars[t * B + $0]) }
      let r = try decoder.step(previous, state: state, memory: attentionMemory, context: &context)
      state = r.state
      let logits = decoder.logits(r.output, context: &context)
      Self.expectClose(logits, f["logits.\(t)"], "logits step \(t)")
      Self.expectClose(r.weights, f["weights.\(t)"], "weights step \(t)")
      loss = loss + (logits * (try #require(f["reducer.\(t)"]))).sum()
    }
    loss.backward()
    Self.expectClose(memory.grad, f["grad.memory"], "grad memory")
    Self.expectClose(h0.grad, f["grad.h0"], "grad h0")
    if kind == .lstm { Self.expectClose(c0.grad, f["grad.c0"], "grad c0") }
    for (name, p) in decoder.namedParameters() { Self.expectClose(p.grad, f["grad.\(name)"], "grad \(name)") }
  }

  /// Without input feeding, teacher forcing runs the cell as one sequence and attends for all steps
  /// at once: it must give the logits and gradients of stepping.
  @Test(arguments: [AttentionScore.general, .additive, nil], [RecurrentCellKind.lstm, .gru])
  func batchedTeacherForcingEqualsStepping(_ score: AttentionScore?, _ kind: RecurrentCellKind) throws {
    var g = RandomGenerator(seed: 9)
    let (T, B, S, H, V) = (4, 3, 5, 6, 7)
    let decoder = try AttentionDecoder(kind: kind, vocabularySize: V, embeddingSize: 5, hiddenSize: H, memorySize: 8, attention: score,
                                       inputFeeding: false, dropout: 0, generator: &g)
    let outputs = Tensor.uniform([S, B, 8], low: -1, high: 1, generator: &g)
    let h0 = Tensor.uniform([B, H], low: -1, high: 1, generator: &g), c0 = Tensor.uniform([B, H], low: -1, high: 1, generator: &g)
    let tokens = (0..<(T * B)).map { _ in Int(g.next() % UInt64(V)) }
    let reducer = Tensor.uniform([T, B, V], low: -1, high: 1, generator: &g)
    func run(batched: Bool) throws -> (logits: Tensor, grads: [String: Tensor]) {
      decoder.zeroGrad()
      let memory = decoder.attention?.memory(outputs, lengths: [5, 2, 4])
      let state = DecoderState(recurrent: RecurrentState(h: h0, c: kind == .lstm ? c0 : nil))
      var context = ForwardContext.inference
      let logits: Tensor
      if batched {
        logits = try decoder.teacherForced(tokens, steps: T, state: state, memory: memory, context: &context).logits
      } else {
        var s = state, rows: [Tensor] = []
        for t in 0..<T {
          let r = try decoder.step(Array(tokens[(t * B)..<((t + 1) * B)]), state: s, memory: memory, context: &context)
          s = r.state
          rows.append(decoder.logits(r.output, context: &context))
        }
        logits = Tensor.stack(rows)
      }
      (logits * reducer).sum().backward()
      return (logits, Dictionary(uniqueKeysWithValues: decoder.namedParameters().compactMap { n, p in p.grad.map { (n, $0) } }))
    }
    let batched = try run(batched: true), stepped = try run(batched: false)
    Self.expectClose(batched.logits, stepped.logits, "logits")
    #expect(batched.grads.keys.sorted() == stepped.grads.keys.sorted())
    for (name, grad) in stepped.grads { Self.expectClose(batched.grads[name], grad, "grad \(name)") }
  }

  @Test func fusedAttentionOpsPassGradientChecks() {
    var g = RandomGenerator(seed: 3)
    let q = Tensor.uniform([2, 4], low: -1, high: 1, generator: &g), k = Tensor.uniform([2, 3, 4], low: -1, high: 1, generator: &g)
    let v = Tensor.uniform([1, 4], low: -1, high: 1, generator: &g), m = Tensor.uniform([2, 3, 5], low: -1, high: 1, generator: &g)
    let dot = gradCheck(inputs: [q, k]) { Tensor.attentionDotScores(query: $0[0], keys: $0[1]) }
    #expect(dot.passed, "dot scores: \(dot)")
    let additive = gradCheck(inputs: [q, k, v]) { Tensor.attentionAdditiveScores(query: $0[0], keys: $0[1], v: $0[2]) }
    #expect(additive.passed, "additive scores: \(additive)")
    let s = Tensor.uniform([2, 3], low: -2, high: 2, generator: &g)
    let masked = gradCheck(inputs: [s, m]) { Tensor.maskedAttention(scores: $0[0], values: $0[1], lengths: [3, 2]).context }
    #expect(masked.passed, "masked attention: \(masked)")
  }

  /// Several query rows per source (row r reads source r mod B, as teacher forcing passes all steps
  /// at once) with widths past one 16-lane block: gradients by finite differences, and the values
  /// equal to the memory copied row by row.
  @Test func fusedAttentionOpsShareTheMemoryAcrossRows() throws {
    var g = RandomGenerator(seed: 5)
    let (B, S, K, rows) = (2, 3, 21, 6)
    let q = Tensor.uniform([rows, K], low: -1, high: 1, generator: &g), k = Tensor.uniform([B, S, K], low: -1, high: 1, generator: &g)
    let v = Tensor.uniform([1, K], low: -1, high: 1, generator: &g), m = Tensor.uniform([B, S, 17], low: -1, high: 1, generator: &g)
    let s = Tensor.uniform([rows, S], low: -2, high: 2, generator: &g), lengths = [3, 2]
    let dot = gradCheck(inputs: [q, k]) { Tensor.attentionDotScores(query: $0[0], keys: $0[1]) }
    #expect(dot.passed, "dot scores: \(dot)")
    let additive = gradCheck(inputs: [q, k, v]) { Tensor.attentionAdditiveScores(query: $0[0], keys: $0[1], v: $0[2]) }
    #expect(additive.passed, "additive scores: \(additive)")
    let masked = gradCheck(inputs: [s, m]) { Tensor.maskedAttention(scores: $0[0], values: $0[1], lengths: lengths).context }
    #expect(masked.passed, "masked attention: \(masked)")
    // The same values as one source per row.
    let perRow = (0..<rows).map { $0 % B }
    func copied(_ t: Tensor) -> Tensor {
      t.reshaped([B, t.count / B]).gatherRows(perRow).reshaped([rows] + t.shape.dropFirst())
    }
    #expect(Tensor.attentionDotScores(query: q, keys: k).scalars == Tensor.attentionDotScores(query: q, keys: copied(k)).scalars)
    #expect(Tensor.attentionAdditiveScores(query: q, keys: k, v: v).scalars
            == Tensor.attentionAdditiveScores(query: q, keys: copied(k), v: v).scalars)
    let shared = Tensor.maskedAttention(scores: s, values: m, lengths: lengths)
    let copies = Tensor.maskedAttention(scores: s, values: copied(m), lengths: perRow.map { lengths[$0] })
    #expect(shared.context.scalars == copies.context.scalars && shared.weights.scalars == copies.weights.scalars)
  }
}
