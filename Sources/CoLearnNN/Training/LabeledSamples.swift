/// A read-only view of labelled samples for training and evaluation: `count` samples of
/// `sampleSize` values each, sample-major, and one class label per sample.
///
/// Arrays are copy-on-write, so wrapping a data set's arrays copies nothing.
public struct LabeledSamples: Sendable {
  /// count × sampleSize values.
  public let features: [Float]
  /// One label in 0..<classes per sample.
  public let labels: [Int32]
  /// The number of values of one sample.
  public let sampleSize: Int
  /// The entries of each sample off its background, when listed (``indexingSparseRows()``):
  /// an epoch of plain SGD then reads batches of a sparse first layer from here.
  public let sparseRows: SparseRows?

  /// Wraps `features` and `labels`; their lengths must agree with `sampleSize`.
  public init(features: [Float], labels: [Int32], sampleSize: Int) {
    precondition(sampleSize > 0 && features.count == labels.count * sampleSize,
      "\(features.count) feature values do not make \(labels.count) samples of \(sampleSize)")
    self.features = features
    self.labels = labels
    self.sampleSize = sampleSize
    sparseRows = nil
  }

  private init(_ samples: LabeledSamples, sparseRows: SparseRows?) {
    features = samples.features
    labels = samples.labels
    sampleSize = samples.sampleSize
    self.sparseRows = sparseRows
  }

  /// The number of samples.
  public var count: Int { labels.count }

  /// The same samples with each one's entries off the background listed once
  /// (``SparseRows``), when at most ``SparseRows/maximumDensity`` of the values are off it;
  /// otherwise the samples unchanged. For training sets visited for many epochs: the listing
  /// costs about one epoch's scan and, for MNIST, a quarter of the features' memory.
  public func indexingSparseRows() -> LabeledSamples {
    guard sparseRows == nil else { return self }
    return LabeledSamples(self, sparseRows: SparseRows(features: features, sampleSize: sampleSize))
  }
}
