/// An in-memory labelled dataset: `count` samples of shape ``sampleShape`` stored contiguously,
/// sample-major, in one `[Float]`, and one `Int32` label per sample (SPEC §3).
///
/// Samples are channels-last, `[height, width, channels]` (MNIST `[32, 32, 1]`, SVHN
/// `[32, 32, 3]`, 8 × 8 digits from an `.npz` `[8, 8, 1]`), or `[features]` for tabular data
/// (a CSV table's columns after one-hot encoding): sample `i` occupies
/// `features[i * sampleSize ..< (i + 1) * sampleSize]`.
/// Values are whatever the loader produced: raw 0…255 intensities before
/// ``normalize(with:)``, standardised values after it.
///
/// Threading: a value type, `Sendable`; copies share storage until one of them is mutated.
public struct Dataset: Sendable {
  /// A short name used in messages and run records (`"mnist-train"`, `"svhn-test"`).
  public let name: String
  /// The shape of one sample, channels-last `[height, width, channels]`.
  public let sampleShape: [Int]
  /// `count × sampleSize` values, sample-major.
  public private(set) var features: [Float]
  /// One label per sample, in `0..<classCount`.
  public private(set) var labels: [Int32]
  /// The number of classes (10 for MNIST and SVHN; a ``DatasetSchema``'s class count otherwise).
  public let classCount: Int

  /// The number of samples.
  public var count: Int { labels.count }

  /// The number of values in one sample (the product of ``sampleShape``).
  public var sampleSize: Int { sampleShape.reduce(1, *) }

  /// The number of channels, the last entry of ``sampleShape``.
  public var channelCount: Int { sampleShape.last ?? 1 }

  /// Creates a dataset after checking that the arrays fit together.
  ///
  /// - Parameters:
  ///   - name: A short name for messages.
  ///   - sampleShape: The per-sample shape, channels-last; every entry must be positive.
  ///   - features: `labels.count × sampleShape.product` values, sample-major.
  ///   - labels: One label per sample.
  ///   - classCount: The number of classes; every label must lie in `0..<classCount`.
  /// - Throws: ``DataError/invalidDataset(name:reason:)`` naming the first inconsistency.
  /// - Complexity: O(count) to validate the labels; the arrays are not copied.
  public init(
    name: String, sampleShape: [Int], features: [Float], labels: [Int32], classCount: Int
  ) throws(DataError) {
    guard !sampleShape.isEmpty, sampleShape.allSatisfy({ $0 > 0 }) else {
      throw .invalidDataset(
        name: name,
        reason: "sample shape \(sampleShape) must be non-empty "
          + "and positive")
    }
    guard classCount > 0 else {
      throw .invalidDataset(name: name, reason: "class count \(classCount) must be positive")
    }
    let size = sampleShape.reduce(1, *)
    guard features.count == labels.count * size else {
      throw .invalidDataset(
        name: name,
        reason: "\(features.count) feature values do not make "
          + "\(labels.count) samples of \(size) values")
    }
    if let bad = labels.firstIndex(where: { $0 < 0 || Int($0) >= classCount }) {
      throw .invalidDataset(
        name: name,
        reason: "label \(labels[bad]) of sample \(bad) is outside "
          + "0..<\(classCount)")
    }
    self.name = name
    self.sampleShape = sampleShape
    self.features = features
    self.labels = labels
    self.classCount = classCount
  }

  /// A dataset made of the given samples, in the given order (repeats allowed).
  ///
  /// - Precondition: every index is in `0..<count`.
  /// - Complexity: O(indices.count × sampleSize).
  public func subset(_ indices: [Int]) -> Dataset {
    let size = sampleSize
    var newLabels = [Int32](repeating: 0, count: indices.count)
    let newFeatures = [Float](unsafeUninitializedCapacity: indices.count * size) {
      buffer, initialized in
      newLabels.withUnsafeMutableBufferPointer { labelBuffer in
        if let featureBase = buffer.baseAddress, let labelBase = labelBuffer.baseAddress {
          gather(indices[...], features: featureBase, labels: labelBase)
        }
      }
      initialized = indices.count * size
    }
    return Dataset(
      validatedName: name, sampleShape: sampleShape, features: newFeatures, labels: newLabels,
      classCount: classCount)
  }

  /// The first `n` samples (all of them when `n >= count`).
  ///
  /// - Complexity: O(n × sampleSize).
  public func prefix(_ n: Int) -> Dataset {
    let kept = max(0, min(n, count))
    return Dataset(
      validatedName: name, sampleShape: sampleShape,
      features: Array(features[0..<kept * sampleSize]), labels: Array(labels[0..<kept]),
      classCount: classCount)
  }

  /// The number of samples of each class, indexed by label.
  ///
  /// - Complexity: O(count).
  public func classHistogram() -> [Int] {
    var histogram = [Int](repeating: 0, count: classCount)
    for label in labels {
      histogram[Int(label)] += 1
    }
    return histogram
  }

  /// Copies the samples at `indices` into caller-owned buffers, row after row, without
  /// allocating: the mini-batch gather of the training loop.
  ///
  /// - Parameters:
  ///   - indices: Sample indices, for example a slice of a shuffled permutation.
  ///   - features: Room for `indices.count × sampleSize` values.
  ///   - labels: Room for `indices.count` labels.
  /// - Precondition: every index is in `0..<count`.
  /// - Complexity: O(indices.count × sampleSize), one `memcpy`-speed row copy per sample.
  public func gather(
    _ indices: ArraySlice<Int>, features: UnsafeMutablePointer<Float>,
    labels: UnsafeMutablePointer<Int32>
  ) {
    let size = sampleSize
    let sampleCount = count
    self.features.withUnsafeBufferPointer { source in
      guard let base = source.baseAddress else { return }
      var row = 0
      for index in indices {
        precondition(
          index >= 0 && index < sampleCount, "sample index \(index) out of 0..<\(sampleCount)")
        (features + row * size).update(from: base + index * size, count: size)
        labels[row] = self.labels[index]
        row += 1
      }
    }
  }

  /// Standardises every value in place with the per-channel statistics of `normalization`:
  /// `x ← (x − mean[c]) / std[c]` (SPEC §3).
  ///
  /// - Precondition: `normalization` has ``channelCount`` channels.
  /// - Complexity: O(count × sampleSize).
  public mutating func normalize(with normalization: Normalization) {
    precondition(
      normalization.mean.count == channelCount,
      "normalization has \(normalization.mean.count) channels, dataset \(name) has \(channelCount)")
    features.withUnsafeMutableBufferPointer { normalization.apply(to: $0) }
  }

  /// Creates a dataset from arrays that are already known to be consistent.
  init(
    validatedName name: String, sampleShape: [Int], features: [Float], labels: [Int32],
    classCount: Int
  ) {
    self.name = name
    self.sampleShape = sampleShape
    self.features = features
    self.labels = labels
    self.classCount = classCount
  }

  /// A copy with another name (for example `"mnist-train"` from a loader's `"mnist"`).
  public func renamed(_ newName: String) -> Dataset {
    Dataset(
      validatedName: newName, sampleShape: sampleShape, features: features, labels: labels,
      classCount: classCount)
  }
}
