import Foundation

/// One hostile invocation of `recur`: arguments, the files it finds in its (fresh) working
/// directory, and its standard input.
public struct HostileCase: Sendable {
  /// What is attacked: `flag`, `checkpoint`, `safetensors`, `npy`, `csv`, `corpus`…
  public var group: String
  /// A readable, unique name (`train --hidden-size=2^62`, `lm_best: configuration.model.hiddenSize = -1`).
  public var name: String
  public var arguments: [String]
  /// File name (relative to the working directory) → contents.
  public var files: [String: [UInt8]]
  public var stdin: [UInt8]?
  /// Standard output goes to `/dev/full` (every write fails with ENOSPC) instead of a pipe.
  public var stdoutToDevFull = false

  public init(group: String, name: String, arguments: [String], files: [String: [UInt8]], stdin: [UInt8]? = nil,
              stdoutToDevFull: Bool = false) {
    self.stdoutToDevFull = stdoutToDevFull
    self.group = group
    self.name = name
    self.arguments = arguments
    self.files = files
    self.stdin = stdin
  }
}

/// The valid files the generator damages (checkpoints of every kind, data files, weights), by name.
public struct HostileSeeds: Sendable {
  public var files: [String: [UInt8]]
  public init(files: [String: [UInt8]]) { self.files = files }

  /// The seed `name` (a missing seed is a bug of the generator's registry).
  public subscript(name: String) -> [UInt8] {
    guard let bytes = files[name] else { preconditionFailure("no hostile seed named \(name)") }
    return bytes
  }

  /// The seeds `names`, by name.
  public func pick(_ names: [String]) -> [String: [UInt8]] {
    Dictionary(uniqueKeysWithValues: names.map { ($0, self[$0]) })
  }
}
