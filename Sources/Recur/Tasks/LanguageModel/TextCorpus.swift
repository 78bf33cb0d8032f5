import Foundation

/// A text to train a character-level model on: the file's contents, checked to be UTF-8 text and
/// long enough, with the train/validation split.
///
/// Every problem a user can cause by pointing at the wrong file is a `TextCorpusError` whose
/// message names the file, says what is wrong and what to do (never a crash or a silent
/// misreading).
public struct TextCorpus: Sendable {
  /// The whole text (a leading UTF-8 byte-order mark removed).
  public let text: String
  /// Where it came from, for messages and checkpoints (a path, or "bundled:NAME").
  public let source: String

  /// A corpus from text in memory.
  public init(text: String, source: String = "text") {
    self.text = text
    self.source = source
  }

  /// The corpus bundled with Recur: Jane Austen's *Pride and Prejudice* (Project Gutenberg
  /// #1342, public domain in the USA), about 685 000 characters of plain English prose.
  public static func bundled() throws -> TextCorpus {
    guard let url = Bundle.module.url(forResource: bundledName, withExtension: "txt") else {
      throw TextCorpusError(.bundledCorpusMissing(name: bundledName),
                            "the bundled corpus \(bundledName).txt is missing from the Recur resources; "
                              + "reinstall Recur or load a text file (TextCorpus.load(path:))")
    }
    let corpus = try load(path: url.path)
    return TextCorpus(text: corpus.text, source: "bundled:\(bundledName)")
  }

  /// File name (without extension) of the bundled corpus.
  public static let bundledName = "austen_pride_and_prejudice"

  /// Reads and checks the file at `path`: it must exist, be a regular file, be non-empty and be
  /// valid UTF-8 without NUL bytes (a NUL almost always means a binary file or UTF-16 text).
  public static func load(path: String) throws -> TextCorpus {
    let remedy = "pass the path of a UTF-8 text file"
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw TextCorpusError(.unusableFile(path: path), "corpus file \(path) does not exist; check the path or \(remedy)")
    }
    guard !isDirectory.boolValue else {
      throw TextCorpusError(.unusableFile(path: path), "corpus \(path) is a directory, not a text file; \(remedy) inside it")
    }
    let data: Data
    do {
      data = try Data(contentsOf: URL(fileURLWithPath: path))
    } catch {
      throw TextCorpusError(.unusableFile(path: path), "cannot read corpus \(path) (\((error as NSError).localizedDescription)); check its permissions or \(remedy)")
    }
    guard !data.isEmpty else {
      throw TextCorpusError(.unusableFile(path: path), "corpus \(path) is empty; \(remedy) with some text in it")
    }
    var bytes = [UInt8](data)
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { bytes.removeFirst(3) }
    if let nul = bytes.firstIndex(of: 0) {
      throw TextCorpusError(.unusableFile(path: path), "corpus \(path) looks binary (a NUL byte at offset \(nul)), not UTF-8 text; "
        + "\(remedy) (convert UTF-16 with `iconv -f UTF-16 -t UTF-8`)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      let offset = firstInvalidUTF8Offset(bytes)
      throw TextCorpusError(.unusableFile(path: path), "corpus \(path) is not valid UTF-8 (invalid byte 0x\(String(bytes[offset], radix: 16, uppercase: true)) at offset \(offset)); "
        + "convert it with `iconv -f LATIN1 -t UTF-8` or \(remedy)")
    }
    guard !text.unicodeScalars.isEmpty else {
      throw TextCorpusError(.unusableFile(path: path), "corpus \(path) is empty; \(remedy) with some text in it")
    }
    return TextCorpus(text: text, source: path)
  }

  /// Number of characters (Unicode scalars).
  public var characterCount: Int { text.unicodeScalars.count }

  /// Checks that the text has at least `seqLength + 1` characters (one window of inputs plus
  /// the target after it).
  public func checkLength(seqLength: Int) throws {
    let n = characterCount
    guard n >= seqLength + 1 else {
      throw TextCorpusError(.shorterThanOneWindow(source: source, characters: n, seqLength: seqLength),
                            "corpus \(source) has \(n) characters, fewer than seqLength + 1 = \(seqLength + 1); "
                              + "use a longer text or a smaller seqLength")
    }
  }

  /// Splits token ids into the first `1 − validationFraction` for training and the rest for
  /// validation (contiguous, so no window of the validation text was seen in training).
  public static func split(_ ids: [Int], validationFraction: Double) -> (train: [Int], validation: [Int]) {
    precondition(validationFraction >= 0 && validationFraction < 1, "validationFraction must be in [0, 1), got \(validationFraction)")
    let trainCount = ids.count - Int((Double(ids.count) * validationFraction).rounded())
    return (Array(ids[..<trainCount]), Array(ids[trainCount...]))
  }

  private static func firstInvalidUTF8Offset(_ bytes: [UInt8]) -> Int {
    var iterator = bytes.makeIterator()
    var decoder = UTF8()
    var offset = 0
    while true {
      switch decoder.decode(&iterator) {
      case .scalarValue(let s): offset += UTF8.width(s)
      case .emptyInput: return max(0, bytes.count - 1)
      case .error: return min(offset, bytes.count - 1)
      }
    }
  }
}

/// A corpus (or a text in memory) that cannot be used, with what to do about it. The message names
/// files by path and parameters by their Swift names (`seqLength`, `batchSize`); ``reason`` carries
/// the same facts typed, for callers that name settings their own way (a CLI names its flags).
public struct TextCorpusError: Error, CustomStringConvertible, Equatable, Sendable {
  /// What is wrong, typed.
  public enum Reason: Equatable, Sendable {
    /// Described by the message only.
    case other
    /// The file at `path` cannot be a corpus: missing, a directory, unreadable, empty, binary or
    /// not UTF-8 (the message says which).
    case unusableFile(path: String)
    /// The corpus bundled with Recur is missing from its resources.
    case bundledCorpusMissing(name: String)
    /// The text (`source`) has `characters` characters, fewer than `seqLength + 1`.
    case shorterThanOneWindow(source: String, characters: Int, seqLength: Int)
    /// The `part` of the text ("training", "validation", "text") has `characters` characters,
    /// fewer than `batchSize` streams of `seqLength + 1`.
    case tooShortForBatches(part: String, characters: Int, batchSize: Int, seqLength: Int)
  }

  /// What is wrong, typed (``Reason/other`` for errors described only by their message).
  public let reason: Reason
  /// What is wrong, naming the file and the settings, and what to do.
  public let description: String

  /// An error described by `description` only.
  public init(_ description: String) {
    self.init(.other, description)
  }

  /// An error for `reason`, described by `description`.
  public init(_ reason: Reason, _ description: String) {
    self.reason = reason
    self.description = description
  }
}
