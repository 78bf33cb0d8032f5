/// The library's identity, written into every archive it produces.
public enum RecurVersion {
  /// This build's version.
  public static let current = "0.2.0"
}
