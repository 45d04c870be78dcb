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

  /// Wraps `features` and `labels`; their lengths must agree with `sampleSize`.
  public init(features: [Float], labels: [Int32], sampleSize: Int) {
    precondition(sampleSize > 0 && features.count == labels.count * sampleSize,
      "\(features.count) feature values do not make \(labels.count) samples of \(sampleSize)")
    self.features = features
    self.labels = labels
    self.sampleSize = sampleSize
  }

  /// The number of samples.
  public var count: Int { labels.count }
}
