import Foundation

/// A fitted forecaster with everything needed to forecast again: the model (any ``Forecaster``
/// kind), the column names, the ``Scaler`` fitted on the training part and the settings used.
///
/// Stored as one safetensors file (written atomically): the model's tensors plus metadata
///
/// | key | value |
/// |---|---|
/// | `recur.format_version` | `"1"` |
/// | `recur.forecast.kind` | `"esn"`, `"lstm"`, `"gru"` |
/// | `recur.forecast.columns` | JSON array of column names (the first is the reported target) |
/// | `recur.forecast.scaler` | JSON of the ``Scaler`` |
/// | `recur.forecast.lookback`, `recur.forecast.horizon` | decimal |
/// | `recur.forecast.settings` | JSON object of free-form settings (fill policy, season, …) |
/// | `<kind>.…` | the model's own settings |
public struct ForecastCheckpoint: Sendable {
  public var kind: String
  public var columns: [String]
  public var scaler: Scaler
  public var lookback: Int
  public var horizon: Int
  public var settings: [String: String]
  /// The whole file (the model restores itself from it).
  public var file: SafeTensorsFile

  public enum Key {
    public static let formatVersion = "recur.format_version"
    public static let kind = "recur.forecast.kind"
    public static let columns = "recur.forecast.columns"
    public static let scaler = "recur.forecast.scaler"
    public static let lookback = "recur.forecast.lookback"
    public static let horizon = "recur.forecast.horizon"
    public static let settings = "recur.forecast.settings"
  }

  /// Bundles a fitted `model` with its data description.
  public init<M: Forecaster>(model: M, columns: [String], scaler: Scaler, settings: [String: String] = [:]) throws {
    var file = SafeTensorsFile()
    try model.store(in: &file)
    kind = M.kind
    self.columns = columns
    self.scaler = scaler
    lookback = model.lookback
    horizon = model.horizon
    self.settings = settings
    file.metadata[Key.formatVersion] = "1"
    file.metadata[Key.kind] = M.kind
    file.metadata[Key.columns] = try jsonText(columns)
    file.metadata[Key.scaler] = try jsonText(scaler)
    file.metadata[Key.lookback] = String(model.lookback)
    file.metadata[Key.horizon] = String(model.horizon)
    file.metadata[Key.settings] = try jsonText(settings)
    self.file = file
  }

  /// Writes the checkpoint atomically (a crash leaves the old file or the new one).
  public func save(to url: URL) throws {
    do {
      try file.write(to: url)
    } catch {
      throw ForecastError.checkpoint("cannot write checkpoint \(url.path): \(error)")
    }
  }

  /// Reads a checkpoint written by ``save(to:)``.
  public static func load(from url: URL) throws -> ForecastCheckpoint {
    let file: SafeTensorsFile
    do {
      file = try SafeTensorsFile.read(from: url)
    } catch {
      throw ForecastError.checkpoint("cannot read checkpoint \(url.path): \(error)")
    }
    func meta(_ key: String) throws -> String {
      guard let v = file.metadata[key] else {
        throw ForecastError.checkpoint("\(url.lastPathComponent) is not a forecast checkpoint (no \(key)); pass a file written by recur forecast")
      }
      return v
    }
    guard try meta(Key.formatVersion) == "1" else {
      throw ForecastError.checkpoint("\(url.lastPathComponent) has forecast format \(try meta(Key.formatVersion)); this recur reads format 1")
    }
    guard let lookback = Int(try meta(Key.lookback)), let horizon = Int(try meta(Key.horizon)), lookback >= 1, horizon >= 1 else {
      throw ForecastError.checkpoint("\(url.lastPathComponent) has a damaged lookback or horizon; re-create it")
    }
    let columns: [String] = try decodeJSON(try meta(Key.columns), what: "columns", file: url)
    let scaler: Scaler = try decodeJSON(try meta(Key.scaler), what: "scaler", file: url)
    let settings: [String: String] = try decodeJSON(try meta(Key.settings), what: "settings", file: url)
    guard !columns.isEmpty, scaler.columnCount == columns.count else {
      throw ForecastError.checkpoint("\(url.lastPathComponent) stores \(columns.count) columns but a scaler for \(scaler.columnCount); re-create it")
    }
    return ForecastCheckpoint(kind: try meta(Key.kind), columns: columns, scaler: scaler, lookback: lookback,
                              horizon: horizon, settings: settings, file: file)
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

  /// The stored model, as `M` (which must be the stored kind).
  public func model<M: Forecaster>(as type: M.Type) throws -> M {
    guard kind == M.kind else {
      throw ForecastError.checkpoint("the checkpoint holds a '\(kind)' model, not '\(M.kind)'")
    }
    let model = try M(restoringFrom: file)
    guard model.lookback == lookback, model.horizon == horizon else {
      throw ForecastError.checkpoint("the stored model's lookback/horizon differ from the checkpoint's; re-create it")
    }
    return model
  }
}

// MARK: - Helpers for models storing themselves

func jsonText<T: Encodable>(_ value: T) throws -> String {
  let encoder = JSONEncoder()
  encoder.outputFormatting = [.sortedKeys]
  return String(decoding: try encoder.encode(value), as: UTF8.self)
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
  precondition(shape.reduce(1, *) == values.count, "\(values.count) values do not fill shape \(shape)")
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
  return entry.withDataBytes { raw in
    (0..<entry.elementCount).map { i in
      Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self)))
    }
  }
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
