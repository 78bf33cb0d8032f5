import Recur

/// Checks of flags the library never sees (or sees only after something was written): one
/// message per kind of value, the same in every command.

/// Throws "`flag` must be a positive integer, got N" when `value` is given and below 1.
func requirePositive(_ value: Int?, flag: String) throws {
  if let value, value < 1 { throw CLIError("\(flag) must be a positive integer, got \(value)") }
}

/// Throws unless `value` (when given) is a thread count the kernels' pool can run: 1 …
/// `Kernels.maximumThreads`.
func requireThreadCount(_ value: Int?, flag: String) throws {
  try requirePositive(value, flag: flag)
  if let value, value > Kernels.maximumThreads {
    throw CLIError("\(flag) must be at most \(Kernels.maximumThreads) (the kernels' thread pool), got \(value)")
  }
}

/// Throws unless `value` (when given) is in 1…`maximum`, with `why` saying where the bound comes from.
func requireAtMost(_ value: Int?, _ maximum: Int, flag: String, why: String) throws {
  try requirePositive(value, flag: flag)
  if let value, value > maximum { throw CLIError("\(flag) must be at most \(maximum) (\(why)), got \(value)") }
}

/// Throws "`flag` must be ≥ 0, got N" (with `note` after the bound) when `value` is given and negative.
func requireNonNegative(_ value: Int?, flag: String, note: String = "") throws {
  if let value, value < 0 { throw CLIError("\(flag) must be ≥ 0\(note.isEmpty ? "" : " (\(note))"), got \(value)") }
}

/// The flags among `flags` that were given (`true`), in order.
func flagsGiven(_ flags: [(flag: String, given: Bool)]) -> [String] {
  flags.filter(\.given).map(\.flag)
}
