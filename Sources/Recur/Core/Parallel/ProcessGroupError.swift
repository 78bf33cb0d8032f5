/// Why the processes of a data-parallel run could not start or talk to each other.
public struct ProcessGroupError: Error, Equatable, CustomStringConvertible {
  /// One line: what failed and what to do.
  public var description: String

  /// An error saying `description`.
  public init(_ description: String) { self.description = description }
}
