/// Fitting a schema to array data (`.npz`, `.npy`, IDX, MNIST, SVHN) and applying it.
///
/// Array classes are the label integers, sorted numerically; a sample's label is the position
/// of its integer in ``DatasetSchema/classes`` (labels 0…9 keep their value; labels {1, 2}
/// become 0 and 1). Standardisation is per channel (``Normalization``), the channel being the
/// last axis of the sample shape.
extension DatasetSchema {
  /// Fits a schema to array samples: the input shape, the class list from `vocabulary` (all
  /// label integers of the source; the samples' own labels when `nil`) and the per-channel
  /// mean and population standard deviation of `samples`' features (the training part).
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)`` if `kind` is tabular.
  /// - Complexity: O(count × sampleSize).
  public static func fit(samples: ArraySamples, kind: SourceKind, vocabulary: [Int64]? = nil)
    throws(DataError) -> DatasetSchema
  {
    let classes = Set(vocabulary ?? samples.labels).sorted().map(String.init)
    let channels = samples.sampleShape.last ?? 1
    let normalization = samples.features.withUnsafeBufferPointer {
      Normalization.fit(values: $0, channelCount: channels)
    }
    return try DatasetSchema(
      sourceKind: kind, inputShape: samples.sampleShape, features: [], labelColumn: nil,
      classes: classes.isEmpty ? ["0"] : classes, normalization: normalization)
  }

  /// The schema of an already-indexed dataset (MNIST, SVHN): classes `"0"` … `"K−1"` and the
  /// given statistics.
  ///
  /// - Throws: ``DataError/invalidSchema(path:reason:)`` if `kind` is tabular or the
  ///   statistics do not fit the sample shape.
  public static func describing(
    _ dataset: Dataset, kind: SourceKind, normalization: Normalization
  ) throws(DataError) -> DatasetSchema {
    try DatasetSchema(
      sourceKind: kind, inputShape: dataset.sampleShape, features: [], labelColumn: nil,
      classes: (0..<dataset.classCount).map(String.init), normalization: normalization)
  }

  /// Turns array samples into a standardised dataset with this schema's statistics (not the
  /// samples' own).
  ///
  /// - Parameters:
  ///   - samples: Raw features and integer labels.
  ///   - name: The dataset name.
  /// - Throws: ``DataError/schemaMismatch(path:reason:)`` for a tabular schema, another sample
  ///   shape, or a label that is not one of the schema's classes (naming the sample).
  /// - Complexity: O(count × sampleSize).
  public func apply(to samples: ArraySamples, name: String) throws(DataError) -> Dataset {
    let path = samples.path
    guard !sourceKind.isTabular, let normalization else {
      throw .schemaMismatch(
        path: path,
        reason: "the schema describes a CSV table (label column '\(labelColumn ?? "")'), but "
          + "\(path) holds arrays; use csv: data with this schema")
    }
    guard samples.sampleShape == inputShape else {
      throw .schemaMismatch(
        path: path,
        reason: "the samples of \(path) have shape \(samples.sampleShape), the schema's input "
          + "shape is \(inputShape)")
    }
    let classIndex = ClassIndex(classes: classes)
    var labels = [Int32](repeating: 0, count: samples.count)
    for (sample, value) in samples.labels.enumerated() {
      guard let index = classIndex.index(of: value) else {
        throw .schemaMismatch(
          path: path,
          reason: "label \(value) of sample \(sample) in \(path) is not one of the schema's "
            + "classes (\(Self.listed(classes)))")
      }
      labels[sample] = Int32(index)
    }
    var dataset = try Dataset(
      name: name, sampleShape: inputShape, features: samples.features, labels: labels,
      classCount: classes.count)
    dataset.normalize(with: normalization)
    return dataset
  }

  /// Standardises an already-indexed dataset (MNIST, SVHN) in place with this schema, after
  /// checking its shape and classes (in place: SVHN's training set is 1.2 GB of floats).
  ///
  /// - Throws: ``DataError/schemaMismatch(path:reason:)``; `dataset` is then unchanged.
  public func apply(toIndexed dataset: inout Dataset, path: String) throws(DataError) {
    guard !sourceKind.isTabular, let normalization else {
      throw .schemaMismatch(
        path: path, reason: "the schema describes a CSV table, but \(path) holds images")
    }
    guard dataset.sampleShape == inputShape,
      classes == (0..<dataset.classCount).map(String.init)
    else {
      throw .schemaMismatch(
        path: path,
        reason: "\(path) has samples of shape \(dataset.sampleShape) and classes "
          + "0…\(dataset.classCount - 1); the schema has shape \(inputShape) and classes "
          + "\(Self.listed(classes))")
    }
    dataset.normalize(with: normalization)
  }
}
