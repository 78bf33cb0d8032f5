import Foundation

/// The one file format of every task: a safetensors file holding the model's state dict under
/// PyTorch's names, plus JSON metadata that says what the model is and, for a checkpoint, where
/// its training stood. `train`, `generate`, `eval`, `forecast`, `infer` and `inspect` all read it;
/// any safetensors reader opens it (`safetensors.torch.load_file` gives the state dict plus the
/// `optimizer.`-, `data.`- and `training.`-prefixed training entries).
///
/// | metadata key | value |
/// |---|---|
/// | `recur.format` | the format version (`2`) |
/// | `recur.producer` | the Recur version and the command that wrote the file |
/// | `recur.task` | the task (`language-model`, `forecasting`, …) |
/// | `recur.configuration` | JSON: architecture, vocabulary or scaler — whatever rebuilds the model |
/// | `recur.training` | JSON: the training state of a checkpoint (absent in a model-only file) |
///
/// Tensor names are kept exactly as written (bytes, in order): two names are never merged.
/// Files of format 1 (Recur 0.1 checkpoints) are recognised and rejected with a message that
/// says how to convert them.
public struct ModelArchive: Sendable {
  /// The format this build writes and the newest it reads.
  public static let currentFormat = 2
  /// Prefix of optimiser-state tensors.
  public static let optimizerPrefix = "optimizer."
  /// Prefix of task data-state tensors (e.g. a carried recurrent state).
  public static let dataPrefix = "data."
  /// Prefix of the trained weights of a run that averages them (its state dict holds the average).
  public static let trainingWeightsPrefix = "training."

  /// Whether `name` is a training entry (optimiser, data or trained weights), not the model's.
  public static func isTrainingEntry(_ name: String) -> Bool {
    name.hasPrefix(optimizerPrefix) || name.hasPrefix(dataPrefix) || name.hasPrefix(trainingWeightsPrefix)
  }

  /// The metadata keys of the format.
  public enum Key {
    /// The format version: `"2"`.
    public static let format = "recur.format"
    /// The Recur version and the command that wrote the file.
    public static let producer = "recur.producer"
    /// The task name (`language-model`, `forecasting`, …).
    public static let task = "recur.task"
    /// JSON text that rebuilds the model.
    public static let configuration = "recur.configuration"
    /// JSON text of the training state (checkpoints only).
    public static let training = "recur.training"
    /// The key of format-1 files.
    public static let legacyFormat = "recur.format_version"
  }

  /// The format version of the file.
  public var formatVersion: Int
  /// The Recur version and command that wrote the file.
  public var producer: String
  /// The task the model belongs to.
  public var task: String
  /// JSON text that rebuilds the model (architecture, vocabulary, scaler…).
  public var configuration: String
  /// JSON text of the training state (nil for a model-only file).
  public var training: String?
  /// The tensors, in order: the state dict, then the training entries (`training.*`, `optimizer.*`, `data.*`).
  public var file: SafeTensorsFile

  /// An archive of `task` with its `configuration` (JSON text) and no tensors yet.
  public init(task: String, configuration: String, producer: String = "Recur \(RecurVersion.current)") {
    formatVersion = Self.currentFormat
    self.producer = producer
    self.task = task
    self.configuration = configuration
    file = SafeTensorsFile()
  }

  /// Adds float32 tensors under their names (e.g. `model.stateDict()`).
  public mutating func add(_ tensors: [(name: String, tensor: Tensor)], prefix: String = "") {
    for (name, tensor) in tensors { file[prefix + name] = SafeTensorsFile.Entry(tensor) }
  }

  /// The float tensors whose names start with `prefix`, the prefix removed.
  public func tensors(prefix: String) -> [(name: String, tensor: Tensor)] {
    file.orderedEntries.filter { $0.name.hasPrefix(prefix) && $0.entry.dtype.holdsReals }
      .map { (String($0.name.dropFirst(prefix.count)), $0.entry.tensor) }
  }

  /// The model's state dict: every floating-point tensor outside the training prefixes. Throws
  /// `IOError.duplicateName` for two names that differ only in Unicode normalisation (never merged).
  public var stateDict: [String: Tensor] {
    get throws {
      try uniqueByName(file.orderedEntries.filter { (name, entry) in
        !Self.isTrainingEntry(name) && entry.dtype.holdsReals
      }.map { ($0.name, $0.entry.tensor) })
    }
  }

  /// The number of elements of the model's state dict (every floating-point tensor outside the
  /// training prefixes), as stored in the file.
  public var storedParameterCount: Int {
    var tally = SizeTally()
    for (name, entry) in file.orderedEntries
    where !Self.isTrainingEntry(name) && entry.dtype.holdsReals {
      tally.add(product: entry.shape)
    }
    return tally.total ?? Int.max
  }

  /// Checks the number of parameters a stored configuration implies against the tensors the
  /// file actually holds, before a model is built from the configuration (so a damaged or
  /// hostile number never becomes an allocation). Throws `IOError.invalidMetadata` when the
  /// configuration implies more parameters than are stored.
  public func requireStoredParameters(_ implied: SizeTally) throws {
    let stored = storedParameterCount
    guard let count = implied.total, count <= stored else {
      throw IOError(.invalidMetadata, format: "archive",
                    problem: "its configuration implies \(implied.total.map { "\($0)" } ?? "more than \(Int.max)") parameters but the file holds \(stored)",
                    remedy: "The configuration is damaged or belongs to other weights; use a file written by recur")
    }
  }

  /// The configuration decoded as `T`. Throws `IOError.invalidMetadata` when it does not decode.
  public func decodeConfiguration<T: Decodable>(_ type: T.Type) throws -> T { try Self.decode(type, configuration, Key.configuration) }

  /// The training state decoded as `T`, or nil for a model-only file.
  public func decodeTraining<T: Decodable>(_ type: T.Type) throws -> T? { try training.map { try Self.decode(type, $0, Key.training) } }

  /// `value` as JSON text with sorted keys (reproducible files).
  public static func json<T: Encodable>(_ value: T) throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return String(decoding: try encoder.encode(value), as: UTF8.self)
    } catch {
      throw IOError(.invalidArgument, format: "archive", problem: "cannot encode \(T.self) as JSON: \(error)",
                    remedy: "Make the value JSON-encodable (finite numbers, string keys)")
    }
  }

  private static func decode<T: Decodable>(_ type: T.Type, _ text: String, _ field: String) throws -> T {
    do {
      return try JSONDecoder().decode(type, from: Data(text.utf8))
    } catch {
      throw IOError(.invalidMetadata, format: "archive", problem: "\(field) does not decode as \(T.self)",
                    remedy: "The file is damaged or was written for another task; use a file written by recur for this task")
    }
  }

  // MARK: - Files

  /// The archive as a safetensors file.
  public func safeTensorsFile() -> SafeTensorsFile {
    var out = file
    out.metadata[Key.format] = String(formatVersion)
    out.metadata[Key.producer] = producer
    out.metadata[Key.task] = task
    out.metadata[Key.configuration] = configuration
    if let training { out.metadata[Key.training] = training }
    return out
  }

  /// Reads an archive from a parsed safetensors file. Throws `IOError.notACheckpoint` for plain
  /// weights files, format-1 files and newer formats; `.invalidMetadata` for damaged fields.
  public init(file: SafeTensorsFile) throws {
    func fail(_ kind: IOError.Kind, _ problem: String, _ remedy: String) -> IOError { IOError(kind, format: "archive", problem: problem, remedy: remedy) }
    let meta = file.metadata
    if let legacy = meta[Key.legacyFormat], meta[Key.format] == nil {
      throw fail(.notACheckpoint, "a Recur 0.1 checkpoint (format \(legacy.prefix(8)))",
                 "Convert it with `recur convert OLD.safetensors NEW.safetensors`")
    }
    guard let versionText = meta[Key.format] else {
      throw fail(.notACheckpoint, "no \(Key.format) metadata: a safetensors weights file, not a Recur archive",
                 "Load plain weights with SafeTensorsFile.read(from:) and Module.loadStateDict(_:)")
    }
    guard let version = Int(versionText), version >= 2 else {
      throw fail(.invalidMetadata, "\(Key.format) is \(versionText.prefix(40).debugDescription), not a format number", IOError.corruptSafeTensors)
    }
    guard version <= Self.currentFormat else {
      throw fail(.notACheckpoint, "archive format \(version) is newer than this Recur reads (\(Self.currentFormat))", "Upgrade Recur")
    }
    guard let task = meta[Key.task], let configuration = meta[Key.configuration] else {
      throw fail(.invalidMetadata, "\(Key.task) or \(Key.configuration) is missing", IOError.corruptSafeTensors)
    }
    // The task name is shown in messages ("it holds a … model"): a short, printable word.
    guard (1...64).contains(task.count), task.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value != 0x7F && $0.value < 0x80 }) else {
      throw fail(.invalidMetadata, "\(Key.task) is \(quotedForMessage(task)), not a task name", IOError.corruptSafeTensors)
    }
    for (field, text) in [(Key.configuration, configuration), (Key.training, meta[Key.training])] {
      if let text, (try? JSONParser.parse(text)) == nil { throw fail(.invalidMetadata, "\(field) is not valid JSON", IOError.corruptSafeTensors) }
    }
    try Self.requireFinite(file, path: nil)
    formatVersion = version
    producer = meta[Key.producer] ?? ""
    self.task = task
    self.configuration = configuration
    training = meta[Key.training]
    var body = file
    body.metadata = meta.filter { !$0.key.hasPrefix("recur.") }
    self.file = body
  }

  /// Writes the archive atomically: a crash at any moment leaves the previous file or this one.
  /// Throws `IOError.invalidArgument` (and writes nothing) when a tensor holds NaN or infinity.
  public func write(to url: URL) throws {
    try Self.requireFinite(file, path: url.path)
    try safeTensorsFile().write(to: url)
  }

  /// Adds the archive to a set of outputs written together (see `AtomicFileSet`), refusing
  /// non-finite tensors as `write(to:)` does.
  public func add(to set: inout AtomicFileSet, at url: URL) throws {
    try Self.requireFinite(file, path: url.path)
    try safeTensorsFile().add(to: &set, at: url)
  }

  /// Throws `IOError.invalidArgument` naming the first floating-point tensor that holds NaN or
  /// infinity (F64 tensors, which are read exactly, are checked as doubles).
  static func requireFinite(_ file: SafeTensorsFile, path: String?) throws {
    for (name, entry) in file.orderedEntries where entry.dtype.holdsReals && !entry.holdsFiniteValues {
      throw IOError(.invalidArgument, format: "archive", path: path,
                    problem: "tensor \(quotedForMessage(name)) holds NaN or infinite values (or values beyond float32's range)",
                    remedy: "The weights are damaged or training diverged; use a checkpoint written before that")
    }
  }

  /// Reads an archive written by `write(to:)`.
  public static func read(from url: URL) throws -> ModelArchive {
    let file = try SafeTensorsFile.read(from: url)
    return try attributing(to: url.path) { try ModelArchive(file: file) }
  }
}

extension SafeTensorsFile.Entry {
  /// Whether every value is finite: F64 entries as doubles, other real dtypes as float32.
  var holdsFiniteValues: Bool {
    guard dtype == .f64 else { return tensor.isFinite }
    return withDataBytes { raw in
      (0..<elementCount).allSatisfy { i in
        Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))).isFinite
      }
    }
  }
}
