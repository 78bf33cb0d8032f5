/// A seeded, stratified choice of validation items: the same fraction of every class, the same
/// choice for the same seed.
public enum StratifiedSplit {
  /// The indices (into `labels`) chosen for validation: per class, in class-id order, the items are
  /// shuffled with one generator seeded by `seed` and the first `round(validationFraction · n)`
  /// are taken, keeping at least one item of each class for training.
  public static func validationIndices(labels: [Int], validationFraction: Double, seed: UInt64) throws -> Set<Int> {
    guard validationFraction >= 0, validationFraction < 1 else {
      throw DataError.invalidParameter(InvalidParameter("validationFraction", validationFraction, expected: "in [0, 1)"))
    }
    var byClass: [Int: [Int]] = [:]
    for (i, label) in labels.enumerated() { byClass[label, default: []].append(i) }
    var generator = RandomGenerator(seed: seed)
    var chosen = Set<Int>()
    for label in byClass.keys.sorted() {
      var members = byClass[label]!
      for i in stride(from: members.count - 1, to: 0, by: -1) {
        members.swapAt(i, Int(generator.next() % UInt64(i + 1)))
      }
      let take = min(Int((validationFraction * Double(members.count)).rounded()), members.count - 1)
      chosen.formUnion(members.prefix(max(0, take)))
    }
    return chosen
  }

  /// Divides the training items of `items` (split `.train` or nil) into `.train` and `.validation`,
  /// stratified by `label`; test and validation items keep their split.
  static func assign<Item>(_ items: inout [Item], split: WritableKeyPath<Item, DataSplit?>, label: KeyPath<Item, Int>,
                           validationFraction: Double, seed: UInt64) throws {
    let training = items.indices.filter { (items[$0][keyPath: split] ?? .train) == .train }
    let chosen = try validationIndices(labels: training.map { items[$0][keyPath: label] }, validationFraction: validationFraction, seed: seed)
    for (k, i) in training.enumerated() { items[i][keyPath: split] = chosen.contains(k) ? .validation : .train }
  }
}

extension NumericSequenceSet {
  /// This set with a stratified `validationFraction` of its training items (split `.train` or
  /// nil) moved to `.validation` (use it when the data has no validation part).
  public func splittingValidation(fraction validationFraction: Double, seed: UInt64) throws -> NumericSequenceSet {
    var copy = self
    try StratifiedSplit.assign(&copy.items, split: \.split, label: \.label, validationFraction: validationFraction, seed: seed)
    return copy
  }
}

extension LabeledTextTable {
  /// This table with a stratified `validationFraction` of its training rows (split `.train` or
  /// nil) moved to `.validation`.
  public func splittingValidation(fraction validationFraction: Double, seed: UInt64) throws -> LabeledTextTable {
    var copy = self
    try StratifiedSplit.assign(&copy.examples, split: \.split, label: \.label, validationFraction: validationFraction, seed: seed)
    return copy
  }
}
