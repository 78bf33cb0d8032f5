import Foundation

/// Why a weights file, array file or checkpoint could not be read or written.
///
/// Every reader in `IO/` throws this one type, never traps: files may come from anywhere, so a
/// truncated download, a hand-edited header or a hostile file is an error with a message, not a
/// crash. The message names the file, says what is wrong and what to do:
///
///     model.safetensors: tensor "lstm.weight_ih_l0" has shape [32, 16] × F32 = 2048 bytes but
///     data_offsets [0, 1024) hold 1024 bytes. The file is corrupt or was written by a broken
///     tool; re-export it with safetensors.torch.save_file.
public struct IOError: Error, CustomStringConvertible, LocalizedError, Equatable, Sendable {
  /// The family of the problem, for code that wants to react to it (tests, the fuzzer).
  public enum Kind: String, Sendable, CaseIterable {
    /// Opening, reading, writing, syncing or renaming failed at the operating-system level.
    case fileSystem
    /// The file ends before its own header says it should.
    case truncated
    /// The header is larger than the reader accepts (a guard against huge allocations).
    case headerTooLarge
    /// The header is not well-formed (bad magic, invalid JSON or Python literal, wrong structure).
    case invalidHeader
    /// An element type the format allows but Recur cannot read, or one the format does not know.
    case unsupportedDType
    /// A shape with negative or non-integer extents, or whose element count overflows.
    case invalidShape
    /// shape × element size does not match the bytes the header assigns to the tensor.
    case sizeMismatch
    /// Data offsets out of range, overlapping, leaving gaps, or not covering the data.
    case invalidOffsets
    /// Two tensors (or two header keys) with the same name.
    case duplicateName
    /// An array layout Recur does not read (Fortran order, object or structured arrays).
    case unsupportedLayout
    /// Metadata that is present but malformed (not strings, bad JSON, bad numbers).
    case invalidMetadata
    /// A valid safetensors file that is not a Recur checkpoint, or one from a newer format.
    case notACheckpoint
    /// The caller asked to write something the format cannot hold (reserved or clashing names).
    case invalidArgument
  }

  /// The family of the problem.
  public var kind: Kind
  /// The file's path, or nil when the bytes came from memory.
  public var path: String?
  /// The format being read or written ("safetensors", "npy", "checkpoint").
  public var format: String
  /// What is wrong, as one sentence without the final period.
  public var problem: String
  /// What to do about it.
  public var remedy: String

  /// An error of `kind` while reading or writing `format` data, with the problem and the remedy.
  public init(_ kind: Kind, format: String, path: String? = nil, problem: String, remedy: String) {
    self.kind = kind
    self.format = format
    self.path = path
    self.problem = problem
    self.remedy = remedy
  }

  /// One line: where, what, and what to do.
  public var description: String {
    let place = path ?? "\(format) data (in memory)"
    return "\(place): \(problem). \(remedy)"
  }

  /// The same text as `description`, for `LocalizedError`.
  public var errorDescription: String? { description }

  /// The same error attributed to `path` (readers of bytes do not know the file name).
  func at(_ path: String) -> IOError {
    var copy = self
    copy.path = path
    return copy
  }
}

// MARK: - Common remedies

extension IOError {
  static let corruptSafeTensors =
    "The file is corrupt, truncated or not a safetensors file; re-export it with safetensors.torch.save_file or Recur"
  static let corruptNumPy =
    "The file is corrupt, truncated or not a .npy file; re-save it with numpy.save"
}

/// `text` quoted for an error message: JSON escapes (so the message stays on one line) and at most
/// 80 characters, since names in hostile files can be megabytes long.
func quotedForMessage(_ text: String, quote: Character = "\"") -> String {
  let shown = text.count > 80 ? String(text.prefix(80)) + "…" : text
  let escaped = jsonQuoted(shown).dropFirst().dropLast()
  return "\(quote)\(escaped)\(quote)"
}

/// `shape` for an error message, abbreviated when it has many axes.
func shapeForMessage(_ shape: [Int]) -> String {
  guard shape.count > 8 else { return "\(shape)" }
  return "[" + shape.prefix(8).map(String.init).joined(separator: ", ") + ", … (\(shape.count) axes)]"
}

/// Runs `body`, attributing any `IOError` it throws to `path`.
func attributing<R>(to path: String, _ body: () throws -> R) throws -> R {
  do { return try body() } catch let error as IOError { throw error.at(path) }
}
