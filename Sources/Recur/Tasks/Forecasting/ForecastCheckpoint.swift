import Foundation

/// A fitted forecaster with everything needed to forecast again: the model (any ``Forecaster``
/// kind), the column names, the ``Scaler`` fitted on the training part and the settings used.
///
/// Stored as a ``ModelArchive`` of task `forecasting` (written atomically): the model's tensors
/// under `<kind>.` (its own settings as `<kind>.config` metadata), and as the configuration
/// `{kind, columns, scaler, lookback, horizon, settings, plausibleRange}`.
public struct ForecastCheckpoint: Sendable {
  /// The model kind (`esn`, `lstm`, `gru`…).
  public var kind: String
  /// Column names; the first is the reported target.
  public var columns: [String]
  /// The scaling fitted on the training rows.
  public var scaler: Scaler
  /// Rows of history a forecast needs.
  public var lookback: Int
  /// Rows forecast from each origin.
  public var horizon: Int
  /// Free-form settings (fill policy, season…).
  public var settings: [String: String]
  /// The values fed-back forecasts may take (scaled units; see ``PlausibleRange``); nil in
  /// checkpoints written before it was recorded.
  public var plausibleRange: PlausibleRange?
  /// The model's tensors and metadata (the model restores itself from them).
  public var file: SafeTensorsFile

  /// The archive task name.
  public static let task = "forecasting"

  private struct Stored: Codable {
    var kind: String
    var columns: [String]
    var scaler: Scaler
    var lookback: Int
    var horizon: Int
    var settings: [String: String]
    var plausibleRange: PlausibleRange?
  }

  /// Bundles a fitted `model` with its data description.
  public init(model: any Forecaster, columns: [String], scaler: Scaler, settings: [String: String] = [:],
              plausibleRange: PlausibleRange? = nil) throws {
    var file = SafeTensorsFile()
    try model.store(in: &file)
    kind = model.kind
    self.columns = columns
    self.scaler = scaler
    lookback = model.lookback
    horizon = model.horizon
    self.settings = settings
    self.plausibleRange = plausibleRange
    self.file = file
  }

  /// The checkpoint as an archive.
  public func archive(producer: String = "Recur \(RecurVersion.current)") throws -> ModelArchive {
    let stored = Stored(kind: kind, columns: columns, scaler: scaler, lookback: lookback, horizon: horizon, settings: settings,
                        plausibleRange: plausibleRange)
    var archive = ModelArchive(task: Self.task, configuration: try ModelArchive.json(stored), producer: producer)
    archive.file = file
    return archive
  }

  /// Writes the checkpoint atomically (a crash leaves the old file or the new one).
  public func save(to url: URL, producer: String = "Recur \(RecurVersion.current)") throws {
    try archive(producer: producer).write(to: url)
  }

  /// Adds the checkpoint to a set of outputs written together (see `AtomicFileSet`).
  public func add(to set: inout AtomicFileSet, at url: URL, producer: String = "Recur \(RecurVersion.current)") throws {
    try archive(producer: producer).add(to: &set, at: url)
  }

  /// Reads a checkpoint written by ``save(to:producer:)``.
  public static func load(from url: URL) throws -> ForecastCheckpoint {
    let archive: ModelArchive
    do {
      archive = try ModelArchive.read(from: url)
    } catch {
      throw ForecastError.checkpoint("cannot read checkpoint \(url.path): \(error)")
    }
    return try ForecastCheckpoint(archive: archive, name: url.lastPathComponent)
  }

  /// The checkpoint in an archive of task `forecasting` (`name` names the file in messages).
  /// Throws `ForecastError.checkpoint` for another task or a damaged configuration.
  public init(archive: ModelArchive, name: String = "the checkpoint") throws {
    guard archive.task == Self.task else {
      throw ForecastError.checkpoint("\(name) holds a \(archive.task) model, not a forecaster; pass a file written by recur forecast")
    }
    let stored: Stored
    do {
      stored = try archive.decodeConfiguration(Stored.self)
    } catch {
      throw ForecastError.checkpoint("\(name) has a damaged forecasting configuration; re-create it")
    }
    guard stored.lookback >= 1, stored.horizon >= 1 else {
      throw ForecastError.checkpoint("\(name) has a damaged lookback or horizon; re-create it")
    }
    guard !stored.columns.isEmpty, stored.scaler.columnCount == stored.columns.count else {
      throw ForecastError.checkpoint("\(name) stores \(stored.columns.count) columns but a scaler for \(stored.scaler.columnCount); re-create it")
    }
    if let range = stored.plausibleRange, !range.isValid || range.columns != stored.columns.count {
      throw ForecastError.checkpoint("\(name) has a damaged plausible range; re-create it")
    }
    self.init(kind: stored.kind, columns: stored.columns, scaler: stored.scaler, lookback: stored.lookback,
              horizon: stored.horizon, settings: stored.settings, file: archive.file)
    plausibleRange = stored.plausibleRange
  }

  private init(kind: String, columns: [String], scaler: Scaler, lookback: Int, horizon: Int,
               settings: [String: String], file: SafeTensorsFile) {
    self.kind = kind
    self.columns = columns
    self.scaler = scaler
    self.lookback = lookback
    self.horizon = horizon
    self.settings = settings
    self.file = file
  }

  /// The checkpoint in a Recur 0.1 forecast file (`recur.format_version` 1, `recur.forecast.*`
  /// metadata); the model's own tensors and settings are unchanged.
  public static func convertingLegacy(_ file: SafeTensorsFile) throws -> ForecastCheckpoint {
    let meta = file.metadata
    func decoded<T: Decodable>(_ key: String, _ type: T.Type) -> T? {
      meta["recur.forecast." + key].flatMap { try? JSONDecoder().decode(T.self, from: Data($0.utf8)) }
    }
    guard meta[ModelArchive.Key.legacyFormat] == "1", let kind = meta["recur.forecast.kind"],
          let columns = decoded("columns", [String].self), let scaler = decoded("scaler", Scaler.self),
          let lookback = decoded("lookback", Int.self), let horizon = decoded("horizon", Int.self),
          let settings = decoded("settings", [String: String].self), lookback >= 1, horizon >= 1,
          !columns.isEmpty, scaler.columnCount == columns.count else {
      throw ForecastError.checkpoint("not a Recur 0.1 forecast checkpoint, or a damaged one")
    }
    var body = file
    body.metadata = meta.filter { !$0.key.hasPrefix("recur.") }
    return ForecastCheckpoint(kind: kind, columns: columns, scaler: scaler, lookback: lookback, horizon: horizon,
                              settings: settings, file: body)
  }

  /// The stored model as `M`, restored from the checkpoint's tensors.
  public func model<M: Forecaster>(as type: M.Type) throws -> M {
    let model = try M(restoringFrom: file, kind: kind)
    guard model.lookback == lookback, model.horizon == horizon else {
      throw ForecastError.checkpoint("the stored model's lookback/horizon differ from the checkpoint's; re-create it")
    }
    return model
  }
}

// MARK: - Helpers for models storing themselves

extension SafeTensorsFile {
  /// Stores a forecasting model's settings as JSON metadata `<kind>.config`.
  mutating func setModelSettings<T: Encodable>(_ value: T, kind: String) throws {
    metadata[kind + ".config"] = try ModelArchive.json(value)
  }

  /// The settings stored by `setModelSettings(_:kind:)`; `ForecastError.checkpoint` when missing or damaged.
  func modelSettings<T: Decodable>(_ type: T.Type, kind: String) throws -> T {
    guard let text = metadata[kind + ".config"] else {
      throw ForecastError.checkpoint("the checkpoint has no \(kind).config metadata; it was not written for a \(kind) model")
    }
    return try decodeJSON(text, what: kind + ".config")
  }
}

func decodeJSON<T: Decodable>(_ text: String, what: String, file: URL? = nil) throws -> T {
  do {
    return try JSONDecoder().decode(T.self, from: Data(text.utf8))
  } catch {
    throw ForecastError.checkpoint("the checkpoint\(file.map { " " + $0.lastPathComponent } ?? "")'s \(what) metadata is damaged; re-create it")
  }
}

/// An F64 safetensors entry holding `values` exactly.
func float64Entry(_ values: [Double], shape: [Int]) -> SafeTensorsFile.Entry {
  precondition(checkedElementCount(shape) == values.count, "\(values.count) values do not fill shape \(shape)")
  var bytes = [UInt8]()
  bytes.reserveCapacity(values.count * 8)
  for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
  return SafeTensorsFile.Entry(dtype: .f64, shape: shape, raw: bytes)
}

/// The exact values of an F64 entry `name` of `file`, checking its shape.
func float64Values(_ file: SafeTensorsFile, _ name: String, shape: [Int]) throws -> [Double] {
  guard let entry = file[name] else {
    throw ForecastError.checkpoint("the checkpoint lacks tensor \(name); re-create it")
  }
  guard entry.dtype == .f64, entry.shape == shape else {
    throw ForecastError.checkpoint("checkpoint tensor \(name) is \(entry.dtype.rawValue) \(entry.shape), expected F64 \(shape); re-create it")
  }
  let values = entry.withDataBytes { raw in
    (0..<entry.elementCount).map { i in
      Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
    }
  }
  guard values.allSatisfy(\.isFinite) else {
    throw ForecastError.checkpoint("checkpoint tensor \(name) holds NaN or infinite values; re-create it")
  }
  return values
}

/// The exact values of an integer entry `name` of `file`.
func integerValues(_ file: SafeTensorsFile, _ name: String, count: Int? = nil) throws -> [Int64] {
  guard let entry = file[name], let values = entry.integers, entry.shape.count == 1 else {
    throw ForecastError.checkpoint("the checkpoint lacks integer tensor \(name); re-create it")
  }
  if let count, values.count != count {
    throw ForecastError.checkpoint("checkpoint tensor \(name) has \(values.count) values, expected \(count); re-create it")
  }
  return values
}
