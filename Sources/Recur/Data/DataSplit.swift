/// Which part of a data set an item belongs to.
public enum DataSplit: String, Sendable, Codable, CaseIterable, Hashable {
  /// Used to fit the model, the vocabulary, the label set and the scaler.
  case train
  /// Held out for model selection and early stopping.
  case validation
  /// Held out for the final evaluation.
  case test

  /// Parses a split cell: `train`, `validation` or `test`, case-insensitive (also `valid`, `val`, `dev`).
  public init?(parsing text: String) {
    switch text.lowercased() {
    case "train", "training": self = .train
    case "validation", "valid", "val", "dev": self = .validation
    case "test", "testing": self = .test
    default: return nil
    }
  }
}
