import Foundation

/// A safetensors file in memory: named tensors in order, plus the `__metadata__` string map.
///
/// Reads what `safetensors.torch.save_file(model.state_dict())` writes (F32, F16, BF16, F64, the
/// float8 types E4M3 and E5M2, and all integer and bool types; values convert to `Float`,
/// integers are also available exactly) and writes files Python's `safetensors` opens. Tensors
/// built from `Tensor`s are written as F32; tensors read from a file keep their dtype and bytes,
/// so reading and re-writing a file changes nothing but the header layout.
///
///     let file = try SafeTensorsFile.read(from: url)
///     try model.loadStateDict(try file.stateDict)
///     try SafeTensorsFile(tensors: model.stateDict(), metadata: ["note": "epoch 3"]).write(to: url)
///
/// Reading validates the whole header before allocating anything it describes (see
/// `SafeTensorsHeader`); every problem is an `IOError`, never a crash. Writing is atomic
/// (`AtomicFile`).
public struct SafeTensorsFile: Sendable, Equatable {
  /// One tensor: its dtype, shape and data.
  public struct Entry: Sendable, Equatable {
    /// The element type in the file.
    public let dtype: SafeTensorsDType
    /// Extents of the axes; `[]` for a scalar.
    public let shape: [Int]

    enum Storage: Sendable {
      case float32(Tensor)
      /// Little-endian packed elements of `dtype`.
      case raw([UInt8])
    }
    let storage: Storage

    /// An F32 entry holding a snapshot of `tensor`'s values (later in-place updates of a
    /// parameter sharing its storage do not leak in).
    public init(_ tensor: Tensor) {
      self.init(float32: tensor.copied())
    }

    init(float32 tensor: Tensor) {
      dtype = .f32
      shape = tensor.shape
      storage = .float32(tensor)
    }

    /// An integer entry (`.i64` or `.i32`) holding `integers` exactly.
    public init(integers: [Int64], shape: [Int], dtype: SafeTensorsDType = .i64) {
      precondition(dtype == .i64 || dtype == .i32, "integer entries are written as I64 or I32, not \(dtype.rawValue)")
      precondition(checkedElementCount(shape) == integers.count, "\(integers.count) integers do not fill shape \(shape)")
      var bytes: [UInt8] = []
      bytes.reserveCapacity(integers.count * dtype.bitWidth / 8)
      for v in integers {
        if dtype == .i64 {
          withUnsafeBytes(of: v.littleEndian) { bytes.append(contentsOf: $0) }
        } else {
          guard let narrow = Int32(exactly: v) else { preconditionFailure("\(v) does not fit I32") }
          withUnsafeBytes(of: narrow.littleEndian) { bytes.append(contentsOf: $0) }
        }
      }
      self.init(dtype: dtype, shape: shape, raw: bytes)
    }

    /// An entry holding `raw` little-endian bytes of `dtype` as they stand (no conversion); the
    /// byte count must fill `shape`.
    public init(dtype: SafeTensorsDType, shape: [Int], raw: [UInt8]) {
      precondition(checkedElementCount(shape).map { raw.count * 8 == $0 * dtype.bitWidth } == true, "\(raw.count) bytes do not fill \(dtype) \(shape)")
      self.dtype = dtype
      self.shape = shape
      storage = .raw(raw)
    }

    /// Number of elements.
    public var elementCount: Int { Tensor.elementCount(shape) }

    /// Bytes the data takes in the file.
    public var byteCount: Int {
      switch storage {
      case .float32(let t): t.count * 4
      case .raw(let bytes): bytes.count
      }
    }

    /// The values as `Float` (F64 rounded to nearest, integers converted).
    public var tensor: Tensor {
      switch storage {
      case .float32(let t):
        return t
      case .raw(let bytes):
        // Entries are only built from readable dtypes (checked when the file is read).
        guard let kind = dtype.scalarKind else { preconditionFailure("internal: unreadable dtype \(dtype) in an entry") }
        var t = Tensor(uninitializedShape: shape)
        t.withUnsafeMutableBufferPointer { out in
          bytes.withUnsafeBytes { convertToFloat($0, kind: kind, into: out) }
        }
        return t
      }
    }

    /// The exact values of an integer or bool entry; nil for floating-point entries and for U64
    /// entries holding values above `Int64.max`.
    public var integers: [Int64]? {
      guard case .raw(let bytes) = storage, let kind = dtype.scalarKind else { return nil }
      let result = bytes.withUnsafeBytes { convertToInt64($0, kind: kind, count: elementCount) }
      if case .success(let values)? = result { return values }
      return nil
    }

    /// Calls `body` with the little-endian data bytes.
    func withDataBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
      switch storage {
      case .float32(let t):
        if UInt32(littleEndian: 1) == 1 {
          return try t.withUnsafeBufferPointer { try body(UnsafeRawBufferPointer($0)) }
        }
        let swapped = t.scalars.map { $0.bitPattern.littleEndian }
        return try swapped.withUnsafeBytes(body)
      case .raw(let bytes):
        return try bytes.withUnsafeBytes(body)
      }
    }

    /// Same dtype, shape and data bytes (so NaNs compare equal to themselves and -0 ≠ +0).
    public static func == (a: Entry, b: Entry) -> Bool {
      a.dtype == b.dtype && a.shape == b.shape && a.withDataBytes { x in b.withDataBytes { y in x.elementsEqual(y) } }
    }
  }

  /// Tensor names in file order.
  public private(set) var names: [String] = []
  /// Entries by the UTF-8 bytes of their names: Swift's `String` equality would merge
  /// canonically equivalent names ("é" and "e\u{301}"), which are two tensors to PyTorch.
  private var entries: [NameKey: Entry] = [:]

  /// A tensor name compared byte for byte.
  struct NameKey: Hashable {
    let bytes: [UInt8]
    init(_ name: String) { bytes = Array(name.utf8) }
  }
  /// The `__metadata__` map: free-form strings (store numbers and structures as JSON text).
  public var metadata: [String: String]

  /// An empty file with the given metadata.
  public init(metadata: [String: String] = [:]) {
    self.metadata = metadata
  }

  /// F32 tensors in the given order — e.g. `SafeTensorsFile(tensors: model.stateDict())`.
  public init(tensors: [(name: String, tensor: Tensor)], metadata: [String: String] = [:]) {
    self.metadata = metadata
    for (name, tensor) in tensors {
      precondition(entries[NameKey(name)] == nil, "duplicate tensor name \"\(name)\"")
      self[name] = Entry(tensor)
    }
  }

  /// Number of tensors.
  public var count: Int { names.count }

  /// The entry named `name`; setting appends a new name at the end, replaces an existing entry in
  /// place, or (with nil) removes it. The name `__metadata__` is reserved by the format.
  public subscript(name: String) -> Entry? {
    get { entries[NameKey(name)] }
    set {
      if let newValue {
        precondition(name != "__metadata__", "\"__metadata__\" is reserved by the safetensors format and cannot name a tensor")
        if entries.updateValue(newValue, forKey: NameKey(name)) == nil { names.append(name) }
      } else if entries.removeValue(forKey: NameKey(name)) != nil {
        names.removeAll { $0.utf8.elementsEqual(name.utf8) }
      }
    }
  }

  /// The entries in file order.
  public var orderedEntries: [(name: String, entry: Entry)] { names.map { ($0, entries[NameKey($0)]!) } }

  /// All tensors as `Float` tensors in file order (the shape `Module.stateDict()` returns).
  public var orderedTensors: [(name: String, tensor: Tensor)] { names.map { ($0, entries[NameKey($0)]!.tensor) } }

  /// All tensors as `Float` tensors by name, ready for `Module.loadStateDict(_:strict:)`.
  /// Throws `IOError.duplicateName` when two names differ only in Unicode normalisation ("é" and
  /// "e\u{301}"): a Swift dictionary would merge them, and the file has two tensors.
  public var stateDict: [String: Tensor] {
    get throws { try uniqueByName(orderedEntries.map { ($0.name, $0.entry.tensor) }) }
  }

  /// Equal when the names, their order, the metadata and every tensor's dtype, shape and bytes are.
  public static func == (a: SafeTensorsFile, b: SafeTensorsFile) -> Bool {
    a.names.map { Array($0.utf8) } == b.names.map { Array($0.utf8) } && a.metadata == b.metadata && a.entries == b.entries
  }

  // MARK: - Reading

  /// Parses a whole file held in memory. Throws `IOError` for anything malformed or unsupported.
  public init(bytes: [UInt8]) throws {
    let header = try SafeTensorsHeader(bytes: bytes)
    if let bad = header.tensors.first(where: { !$0.dtype.isReadable }) {
      throw IOError(.unsupportedDType, format: "safetensors",
                    problem: "tensor \(quotedForMessage(bad.name)) has dtype \(bad.dtype.rawValue), which Recur cannot convert to float",
                    remedy: "Convert it in Python before saving (tensor.float()); `recur inspect` still lists such files")
    }
    metadata = header.metadata
    bytes.withUnsafeBytes { raw in
      let data = UnsafeRawBufferPointer(rebasing: raw[header.dataStart...])
      for info in header.tensors {
        let slice = UnsafeRawBufferPointer(rebasing: data[info.byteRange])
        let entry: Entry
        if info.dtype == .f32 {
          var t = Tensor(uninitializedShape: info.shape)
          t.withUnsafeMutableBufferPointer { convertToFloat(slice, kind: .float32, into: $0) }
          entry = Entry(float32: t)
        } else {
          entry = Entry(dtype: info.dtype, shape: info.shape, raw: Array(slice))
        }
        entries[NameKey(info.name)] = entry
        names.append(info.name)
      }
    }
  }

  /// Reads the file at `url`.
  public static func read(from url: URL) throws -> SafeTensorsFile {
    let file = try ReadableFile(path: url.path, format: "safetensors")
    let bytes = try file.readAll()
    return try attributing(to: url.path) { try SafeTensorsFile(bytes: bytes) }
  }

  // MARK: - Writing

  /// The JSON header, padded with spaces so the data starts at a multiple of 8 bytes (as the
  /// reference implementation pads).
  func headerBytes() -> [UInt8] {
    var json = "{"
    var first = true
    if !metadata.isEmpty {
      json += "\"__metadata__\":{"
      json += metadata.keys.sorted().map { "\(jsonQuoted($0)):\(jsonQuoted(metadata[$0]!))" }.joined(separator: ",")
      json += "}"
      first = false
    }
    var offset = 0
    for name in names {
      let entry = entries[NameKey(name)]!
      let end = offset + entry.byteCount
      if !first { json += "," }
      first = false
      json += "\(jsonQuoted(name)):{\"dtype\":\"\(entry.dtype.rawValue)\",\"shape\":[\(entry.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(end)]}"
      offset = end
    }
    json += "}"
    var bytes = Array(json.utf8)
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
    return bytes
  }

  /// The complete file: length prefix, header, data.
  public func serialized() -> [UInt8] {
    let header = headerBytes()
    var bytes: [UInt8] = []
    bytes.reserveCapacity(8 + header.count + names.reduce(0) { $0 + entries[NameKey($1)]!.byteCount })
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: header)
    for name in names { entries[NameKey(name)]!.withDataBytes { bytes.append(contentsOf: $0) } }
    return bytes
  }

  /// Writes the file atomically (see `AtomicFile`): a crash at any moment leaves the previous
  /// file or this one at `url`. Streams the tensors, so memory use does not double.
  public func write(to url: URL) throws {
    let write = try writer(for: url)
    try AtomicFile.write(to: url, write)
  }

  /// Adds the file to a set of outputs written together (see `AtomicFileSet`).
  public func add(to set: inout AtomicFileSet, at url: URL) throws {
    try set.add(url, try writer(for: url))
  }

  /// What streams the file into an atomic output; throws when the header is too large to be read back.
  private func writer(for url: URL) throws -> (AtomicFile.Output) throws -> Void {
    let header = headerBytes()
    guard header.count <= SafeTensorsHeader.maximumHeaderByteCount else {
      throw IOError(.invalidArgument, format: "safetensors", path: url.path,
                    problem: "header would be \(header.count) bytes, more than the \(SafeTensorsHeader.maximumHeaderByteCount)-byte limit readers accept",
                    remedy: "Store large metadata (vocabularies, corpora) in a separate file")
    }
    return { out in
      try withUnsafeBytes(of: UInt64(header.count).littleEndian) { try out.write($0) }
      try out.write(header)
      for name in self.names { try self.entries[NameKey(name)]!.withDataBytes { try out.write($0) } }
    }
  }
}

/// `pairs` as a dictionary; throws `IOError.duplicateName` when two names are canonically
/// equivalent Unicode (equal as Swift strings) but different bytes, instead of merging them.
func uniqueByName(_ pairs: [(String, Tensor)]) throws -> [String: Tensor] {
  var result: [String: Tensor] = [:]
  var spelled: [String: [UInt8]] = [:]
  for (name, tensor) in pairs {
    if let other = spelled[name], other != Array(name.utf8) {
      throw IOError(.duplicateName, format: "safetensors",
                    problem: "tensor names \(quotedForMessage(String(decoding: other, as: UTF8.self))) and \(quotedForMessage(name)) differ only in Unicode normalisation",
                    remedy: "Rename one of them (both are kept as two tensors in the file, but a state dict keyed by text would merge them)")
    }
    spelled[name] = Array(name.utf8)
    result[name] = tensor
  }
  return result
}
