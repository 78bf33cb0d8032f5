import Foundation

/// A conversation with a character-level language model trained on dialogue (tiny-shakespeare's
/// `NAME:` blocks, or any text whose turns start with a marker): the user's words go into the
/// model's recurrent state, and the model answers as the next speaker until its turn ends.
///
/// The state is carried from turn to turn, so each turn costs the same time and memory however
/// long the conversation has been — the recurrent network's advantage over attention, which
/// rereads the whole history. The transcript is kept as text (for `save(to:)`), the model never
/// rereads it.
public final class ChatSession {
  /// How turns are written in the text the model learnt.
  public struct Format: Codable, Equatable, Sendable {
    /// Written before the user's words (`"YOU:\n"`).
    public var userPrefix: String
    /// Written before the model's words; empty lets the model write its own speaker line.
    public var modelPrefix: String
    /// Ends every turn (`"\n\n"`, the blank line between speeches); the model's turn ends when it writes it.
    public var turnEnd: String

    /// A format given by its parts.
    public init(userPrefix: String, modelPrefix: String, turnEnd: String) {
      self.userPrefix = userPrefix
      self.modelPrefix = modelPrefix
      self.turnEnd = turnEnd
    }

    /// Speeches as in a play: `NAME:` on its own line, the words, a blank line. `model` nil lets
    /// the model choose who answers.
    public static func play(user: String, model: String?) -> Format {
      Format(userPrefix: "\(user):\n", modelPrefix: model.map { "\($0):\n" } ?? "", turnEnd: "\n\n")
    }

    /// One line per turn, each starting with `marker` (`"> "`, `"- "`).
    public static func lines(marker: String) -> Format {
      Format(userPrefix: marker, modelPrefix: marker, turnEnd: "\n")
    }
  }

  /// The model.
  public let model: CharLM
  /// Its characters.
  public let vocabulary: CharVocabulary
  /// How turns are written.
  public let format: Format
  /// The sampling temperature (0: always the most likely character).
  public var temperature: Float {
    get { sampler.temperature }
    set {
      precondition(newValue >= 0 && newValue.isFinite, "ChatSession: temperature must be finite and ≥ 0")
      sampler.temperature = newValue
    }
  }
  /// Everything said so far, formatted as the model reads it.
  public private(set) var transcript = ""

  private var sampler: Sampler
  private var state: RecurrentState?
  private var logits: [Float] = []
  private let turnEndIDs: [Int]

  /// A new conversation. Throws `CharVocabularyError` when the format uses characters the
  /// model does not know, or its turn end is empty.
  public init(model: CharLM, vocabulary: CharVocabulary, format: Format, temperature: Float = 0.8, topK: Int = 0, seed: UInt64) throws {
    self.model = model
    self.vocabulary = vocabulary
    self.format = format
    guard !format.turnEnd.isEmpty else { throw CharVocabularyError("the turn end is empty; a turn must end with some text, such as a blank line") }
    for (what, text) in [("user prefix", format.userPrefix), ("model prefix", format.modelPrefix), ("turn end", format.turnEnd)] {
      let missing = vocabulary.missingScalars(in: text)
      if !missing.isEmpty {
        throw CharVocabularyError("the \(what) \(text.debugDescription) has characters the model does not know: "
          + missing.map(CharVocabulary.describe).joined(separator: ", ") + "; choose one written with the characters of its training text")
      }
    }
    turnEndIDs = try vocabulary.encode(format.turnEnd)
    sampler = Sampler(temperature: temperature, topK: topK, seed: seed)
  }

  /// Forgets the conversation: zero state, empty transcript (the temperature and random stream go on).
  public func reset() {
    state = nil
    logits = []
    transcript = ""
  }

  /// Takes the user's words and returns the model's answer, calling `emit` with each piece of it
  /// as it is written (the turn end is not part of the answer).
  /// - Parameters:
  ///   - text: what the user says (characters the model knows).
  ///   - maximumLength: the most characters of the answer; a longer one is cut and its turn ended.
  /// - Throws: `CharVocabularyError` (nothing is changed then) when `text` has unknown characters.
  @discardableResult
  public func reply(to text: String, maximumLength: Int = 1_000, emit: (String) -> Void = { _ in }) throws -> String {
    precondition(maximumLength >= 1, "ChatSession.reply: maximumLength must be ≥ 1")
    let said = try vocabulary.encode(text)
    return try withoutGradients {
      let userTurn = try vocabulary.encode(format.userPrefix) + said + turnEndIDs + (try vocabulary.encode(format.modelPrefix))
      try feed(userTurn)
      transcript += format.userPrefix + text + format.turnEnd + format.modelPrefix
      var answer: [Int] = []
      var emitted = 0
      var ended = false
      while answer.count < maximumLength + turnEndIDs.count {
        let id = logits.withUnsafeBufferPointer { sampler.sample($0) }
        answer.append(id)
        try feed([id])
        if answer.count >= turnEndIDs.count, Array(answer.suffix(turnEndIDs.count)) == turnEndIDs {
          answer.removeLast(turnEndIDs.count)
          ended = true
          break
        }
        // Hold back characters that may be the start of the turn end.
        var held = Swift.min(turnEndIDs.count - 1, answer.count)
        while held > 0, Array(answer.suffix(held)) != Array(turnEndIDs.prefix(held)) { held -= 1 }
        if answer.count - held > emitted {
          emit(vocabulary.decode(answer[emitted..<(answer.count - held)]))
          emitted = answer.count - held
        }
        if answer.count - held >= maximumLength { break }
      }
      if emitted < answer.count { emit(vocabulary.decode(answer[emitted...])) }
      if !ended { try feed(turnEndIDs) }
      let words = vocabulary.decode(answer)
      transcript += words + format.turnEnd
      return words
    }
  }

  private func feed(_ ids: [Int]) throws {
    guard !ids.isEmpty else { return }
    let (out, next) = try model(ids, steps: ids.count, batchSize: 1, state: state)
    state = next
    let V = vocabulary.count
    logits = out.withUnsafeBufferPointer { Array($0[((ids.count - 1) * V)..<(ids.count * V)]) }
  }

  // MARK: - Saving

  private struct Saved: Codable {
    var format: Format
    var transcript: String
    var temperature: Float
    var topK: Int
    var generator: [UInt64]
    var vocabulary: [UInt32]
    var model: CharLM.Configuration
  }

  /// Writes the conversation (state, transcript, format, temperature and random stream) as a
  /// safetensors file, atomically; `init(resuming:model:vocabulary:)` continues it exactly.
  public func save(to url: URL) throws {
    let saved = Saved(format: format, transcript: transcript, temperature: sampler.temperature, topK: sampler.topK,
                      generator: sampler.generator.stateWords, vocabulary: vocabulary.codePoints, model: model.configuration)
    let json = String(decoding: try JSONEncoder().encode(saved), as: UTF8.self)
    var tensors: [(name: String, tensor: Tensor)] = []
    if let state {
      tensors.append(("h", state.h))
      if let c = state.c { tensors.append(("c", c)) }
      tensors.append(("logits", Tensor(logits)))
    }
    try SafeTensorsFile(tensors: tensors, metadata: ["recur.chat": json]).write(to: url)
  }

  /// Continues a conversation saved by `save(to:)` with the same model. Throws `IOError` for an
  /// unreadable file and `ChatSessionError` when it is not a saved conversation of this model.
  public convenience init(resuming url: URL, model: CharLM, vocabulary: CharVocabulary) throws {
    let file = try SafeTensorsFile.read(from: url)
    guard let json = file.metadata["recur.chat"], let saved = try? JSONDecoder().decode(Saved.self, from: Data(json.utf8)) else {
      throw ChatSessionError("\(url.path) is not a saved conversation (no recur.chat metadata); pass a file written by /save")
    }
    guard saved.vocabulary == vocabulary.codePoints, saved.model == model.configuration else {
      throw ChatSessionError("\(url.path) was saved with another model; resume it with the checkpoint it was saved with")
    }
    guard saved.temperature >= 0, saved.temperature.isFinite, saved.topK >= 0, saved.generator.count == 4 else {
      throw ChatSessionError("\(url.path) has invalid settings (temperature \(saved.temperature), top-k \(saved.topK)); save the conversation again")
    }
    try self.init(model: model, vocabulary: vocabulary, format: saved.format, temperature: saved.temperature, topK: saved.topK, seed: 0)
    sampler.generator = RandomGenerator(state: saved.generator)
    transcript = saved.transcript
    let tensors = try file.stateDict
    if let h = tensors["h"] {
      let zero = model.zeroState(batchSize: 1)
      guard h.shape == zero.h.shape, tensors["c"]?.shape == zero.c?.shape, let l = tensors["logits"], l.shape == [vocabulary.count],
            h.isFinite, tensors["c"]?.isFinite ?? true, l.isFinite else {
        throw ChatSessionError("\(url.path) holds a state that does not fit the model (h \(h.shape), expected \(zero.h.shape)) or is not finite")
      }
      state = RecurrentState(h: h, c: tensors["c"])
      logits = l.scalars
    }
  }
}

/// A saved conversation that cannot be continued, with what to do.
public struct ChatSessionError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What is wrong and what to do.
  public let description: String
  /// An error described by `description`.
  public init(_ description: String) { self.description = description }
}
