import Foundation

/// Everything needed to resume training or to sample, in one safetensors file written atomically.
///
/// Layout of the file (any safetensors reader opens it; `safetensors.torch.load_file` gives the
/// model's state_dict plus the `optimizer.`-prefixed entries):
///
/// | where | what |
/// |---|---|
/// | tensors, names as `Module.stateDict()` spells them | model weights |
/// | tensors named `optimizer.<name>` | optimiser state (moments, step counts…), names chosen by the optimiser |
/// | `recur.format_version` | `"1"` |
/// | `recur.step` | training step, decimal |
/// | `recur.rng` | `RandomGenerator` state: JSON array of 4 unsigned 64-bit integers |
/// | `recur.config` | the model/training configuration, JSON text (optional) |
/// | `recur.vocabulary` | the vocabulary, JSON text (optional) |
/// | any other metadata key | free-form strings from the caller |
///
///     var checkpoint = Checkpoint(model: model.stateDict(), step: step, rng: generator)
///     try checkpoint.setConfig(config)            // any Encodable
///     try checkpoint.save(to: url)                // atomic
///     let restored = try Checkpoint.load(from: url)
///     try model.loadStateDict(restored.modelStateDict)
public struct Checkpoint: Sendable {
  /// The format this build writes and the newest it reads.
  public static let formatVersion = 1
  /// Prefix of the optimiser-state tensor names in the file.
  public static let optimizerPrefix = "optimizer."

  /// The metadata keys Recur reserves.
  public enum Key {
    /// The checkpoint format version (an integer as text).
    public static let formatVersion = "recur.format_version"
    /// The training step (`step`).
    public static let step = "recur.step"
    /// The random generator's four state words (`rng`).
    public static let rng = "recur.rng"
    /// The configuration JSON (`config`).
    public static let config = "recur.config"
    /// The vocabulary JSON (`vocabulary`).
    public static let vocabulary = "recur.vocabulary"
    static let all: Set<String> = [formatVersion, step, rng, config, vocabulary]
  }

  /// Model weights in state-dict order.
  public var model: [(name: String, tensor: Tensor)]
  /// Optimiser state in order, names without the `optimizer.` prefix.
  public var optimizer: [(name: String, tensor: Tensor)]
  /// Training step (number of optimiser updates done).
  public var step: Int
  /// The random generator's state, to continue the exact random stream.
  public var rng: RandomGenerator?
  /// Configuration as JSON text (see `setConfig(_:)` / `decodeConfig(_:)`).
  public var config: String?
  /// Vocabulary as JSON text (see `setVocabulary(_:)` / `decodeVocabulary(_:)`).
  public var vocabulary: String?
  /// Other metadata (keys must not be the reserved `recur.*` keys above).
  public var metadata: [String: String]

  /// A checkpoint of the given model weights and, optionally, training state and metadata.
  public init(model: [(name: String, tensor: Tensor)], optimizer: [(name: String, tensor: Tensor)] = [], step: Int = 0,
              rng: RandomGenerator? = nil, config: String? = nil, vocabulary: String? = nil, metadata: [String: String] = [:]) {
    self.model = model
    self.optimizer = optimizer
    self.step = step
    self.rng = rng
    self.config = config
    self.vocabulary = vocabulary
    self.metadata = metadata
  }

  /// The model weights by name, for `Module.loadStateDict(_:strict:)`.
  public var modelStateDict: [String: Tensor] { Dictionary(model.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }) }

  /// The optimiser state by name (without the prefix).
  public var optimizerState: [String: Tensor] { Dictionary(optimizer.map { ($0.name, $0.tensor) }, uniquingKeysWith: { a, _ in a }) }

  // MARK: - Typed JSON fields

  /// Stores `value` as the configuration (JSON with sorted keys, so files are reproducible).
  public mutating func setConfig<T: Encodable>(_ value: T) throws { config = try Self.encode(value, field: Key.config) }

  /// The configuration decoded as `T`, or nil when the checkpoint has none.
  public func decodeConfig<T: Decodable>(_ type: T.Type) throws -> T? { try Self.decode(type, from: config, field: Key.config) }

  /// Stores `value` as the vocabulary.
  public mutating func setVocabulary<T: Encodable>(_ value: T) throws { vocabulary = try Self.encode(value, field: Key.vocabulary) }

  /// The vocabulary decoded as `T`, or nil when the checkpoint has none.
  public func decodeVocabulary<T: Decodable>(_ type: T.Type) throws -> T? { try Self.decode(type, from: vocabulary, field: Key.vocabulary) }

  private static func encode<T: Encodable>(_ value: T, field: String) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw IOError(.invalidArgument, format: "checkpoint", problem: "cannot encode \(field) as JSON: \(error)", remedy: "Make the value JSON-encodable (finite numbers, string keys)")
    }
  }

  private static func decode<T: Decodable>(_ type: T.Type, from text: String?, field: String) throws -> T? {
    guard let text else { return nil }
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw IOError(.invalidMetadata, format: "checkpoint", problem: "\(field) does not decode as \(T.self): \(error)",
                    remedy: "The checkpoint was written for a different configuration type; load it with the matching Recur version")
    }
  }

  // MARK: - To and from safetensors

  /// The checkpoint as a safetensors file. Throws for names or metadata the layout cannot hold.
  public func file() throws -> SafeTensorsFile {
    func fail(_ problem: String, _ remedy: String) -> IOError { IOError(.invalidArgument, format: "checkpoint", problem: problem, remedy: remedy) }
    guard step >= 0 else { throw fail("step \(step) is negative", "Pass the number of optimiser updates done") }
    if let clash = metadata.keys.sorted().first(where: { Key.all.contains($0) }) {
      throw fail("metadata key \"\(clash)\" is reserved", "Set it through the Checkpoint property instead of metadata")
    }
    for (field, text) in [(Key.config, config), (Key.vocabulary, vocabulary)] {
      if let text, (try? JSONParser.parse(text)) == nil {
        throw fail("\(field) is not valid JSON", "Pass JSON text, or use setConfig(_:) / setVocabulary(_:) with an Encodable value")
      }
    }
    var file = SafeTensorsFile()
    for (name, tensor) in model {
      if name.hasPrefix(Self.optimizerPrefix) {
        throw fail("model tensor \"\(name)\" starts with the optimiser prefix \"\(Self.optimizerPrefix)\"", "Rename the module (e.g. not \"optimizer\")")
      }
      if file[name] != nil { throw fail("two model tensors are named \"\(name)\"", "Give every tensor a unique name") }
      file[name] = SafeTensorsFile.Entry(tensor)
    }
    for (name, tensor) in optimizer {
      let full = Self.optimizerPrefix + name
      if file[full] != nil { throw fail("two optimiser tensors are named \"\(name)\"", "Give every tensor a unique name") }
      file[full] = SafeTensorsFile.Entry(tensor)
    }
    file.metadata = metadata
    file.metadata[Key.formatVersion] = String(Self.formatVersion)
    file.metadata[Key.step] = String(step)
    if let rng { file.metadata[Key.rng] = "[" + rng.stateWords.map(String.init).joined(separator: ",") + "]" }
    if let config { file.metadata[Key.config] = config }
    if let vocabulary { file.metadata[Key.vocabulary] = vocabulary }
    return file
  }

  /// Reads a checkpoint from a parsed safetensors file; throws `.notACheckpoint` for plain
  /// weights files and files from a newer format, `.invalidMetadata` for malformed fields.
  public init(file: SafeTensorsFile) throws {
    func fail(_ kind: IOError.Kind, _ problem: String, _ remedy: String) -> IOError { IOError(kind, format: "checkpoint", problem: problem, remedy: remedy) }
    let meta = file.metadata
    guard let versionText = meta[Key.formatVersion] else {
      throw fail(.notACheckpoint, "no \(Key.formatVersion) metadata: a safetensors weights file, not a Recur checkpoint",
                 "Load plain weights with SafeTensorsFile.read(from:) and Module.loadStateDict(_:)")
    }
    guard let version = Int(versionText), version >= 1 else {
      throw fail(.invalidMetadata, "\(Key.formatVersion) is \(versionText.prefix(40).debugDescription), not a positive integer", IOError.corruptSafeTensors)
    }
    guard version <= Self.formatVersion else {
      throw fail(.notACheckpoint, "checkpoint format \(version) is newer than this Recur reads (\(Self.formatVersion))", "Upgrade Recur")
    }
    guard let stepText = meta[Key.step], let step = Int(stepText), step >= 0 else {
      throw fail(.invalidMetadata, "\(Key.step) is missing or not a non-negative integer", IOError.corruptSafeTensors)
    }
    var rng: RandomGenerator?
    if let rngText = meta[Key.rng] {
      guard case .array(let items)? = try? JSONParser.parse(rngText), items.count == 4 else {
        throw fail(.invalidMetadata, "\(Key.rng) is not a JSON array of 4 unsigned 64-bit integers", IOError.corruptSafeTensors)
      }
      let words = items.compactMap(\.uint64)
      guard words.count == 4 else {
        throw fail(.invalidMetadata, "\(Key.rng) is not a JSON array of 4 unsigned 64-bit integers", IOError.corruptSafeTensors)
      }
      rng = RandomGenerator(state: words)
    }
    for field in [Key.config, Key.vocabulary] {
      if let text = meta[field], (try? JSONParser.parse(text)) == nil {
        throw fail(.invalidMetadata, "\(field) is not valid JSON", IOError.corruptSafeTensors)
      }
    }
    var model: [(name: String, tensor: Tensor)] = []
    var optimizer: [(name: String, tensor: Tensor)] = []
    for (name, entry) in file.orderedEntries {
      if name.hasPrefix(Self.optimizerPrefix) {
        optimizer.append((String(name.dropFirst(Self.optimizerPrefix.count)), entry.tensor))
      } else {
        model.append((name, entry.tensor))
      }
    }
    self.init(model: model, optimizer: optimizer, step: step, rng: rng, config: meta[Key.config], vocabulary: meta[Key.vocabulary],
              metadata: meta.filter { !Key.all.contains($0.key) })
  }

  /// Writes the checkpoint atomically: a crash at any moment leaves the previous checkpoint or
  /// this one at `url`, never a torn file.
  public func save(to url: URL) throws {
    try attributing(to: url.path) { try file() }.write(to: url)
  }

  /// Reads a checkpoint written by `save(to:)`.
  public static func load(from url: URL) throws -> Checkpoint {
    let file = try SafeTensorsFile.read(from: url)
    return try attributing(to: url.path) { try Checkpoint(file: file) }
  }
}
