import CoLearnTensor

/// A seeded, stratified split of one source into training and test samples (`--test-fraction`).
///
/// Each class's samples are shuffled with a ``SeededGenerator`` and the first
/// `round(fraction × classCount)` of them go to the test set; classes are visited in sorted
/// order of their label, so the split depends only on the seed, the fraction and the labels in
/// file order: the same seed and file give the same split on every machine, another seed gives
/// another split. Both parts keep file order. Stratification keeps every class's share the
/// same in both parts (up to rounding).
public enum TestSplit {
  /// Splits sample indices `0..<labels.count`.
  ///
  /// - Parameters:
  ///   - labels: One class key per sample (a label text or integer).
  ///   - fraction: The share of each class that goes to the test set, in (0, 1).
  ///   - seed: Seeds the shuffle.
  ///   - spelling: The source, for messages.
  /// - Returns: Ascending training and test indices; together they are every index once.
  /// - Throws: ``DataError/invalidDataSource(spelling:reason:)`` for a fraction outside (0, 1)
  ///   or a split that would leave either part empty.
  /// - Complexity: O(n log n) (grouping by class).
  public static func indices<Label: Hashable & Comparable>(
    labels: [Label], fraction: Double, seed: UInt64, spelling: String
  ) throws(DataError) -> (train: [Int], test: [Int]) {
    guard fraction > 0, fraction < 1 else {
      throw .invalidDataSource(
        spelling: spelling, reason: "--test-fraction \(fraction) must lie strictly between 0 and 1")
    }
    var groups: [Label: [Int]] = [:]
    for (index, label) in labels.enumerated() { groups[label, default: []].append(index) }
    var generator = SeededGenerator(seed: seed)
    var train: [Int] = []
    var test: [Int] = []
    for label in groups.keys.sorted() {
      var members = groups[label] ?? []
      members.shuffle(using: &generator)
      let testCount = Int((fraction * Double(members.count)).rounded())
      test += members.prefix(testCount)
      train += members.dropFirst(testCount)
    }
    guard !train.isEmpty, !test.isEmpty else {
      throw .invalidDataSource(
        spelling: spelling,
        reason: "--test-fraction \(fraction) of \(labels.count) samples leaves "
          + "\(train.isEmpty ? "no training" : "no test") samples; choose another fraction or "
          + "pass --test-data")
    }
    return (train.sorted(), test.sorted())
  }
}
