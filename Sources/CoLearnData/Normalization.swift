/// Per-channel standardisation statistics, computed on a training set and applied to both the
/// training and the test set: `x ← (x − mean[c]) / std[c]` (SPEC §3).
///
/// The statistics are part of a load result so that a run record can store them and a
/// deployment can standardise new inputs the same way. For MNIST there is one channel over the
/// zero-padded 32 × 32 images, so the mean is the well-known 33.318421 (0.1306605 × 255) scaled by
/// 784 / 1024.
public struct Normalization: Sendable, Hashable, Codable {
  /// The mean of each channel, on the scale of the raw features (0…255 for images).
  public let mean: [Float]
  /// The population standard deviation (divide by n, not n − 1) of each channel. A constant
  /// channel gets 1 so that standardising it gives zeros rather than NaNs.
  public let standardDeviation: [Float]

  /// Creates statistics from known values (for example read back from a run record).
  ///
  /// - Precondition: both arrays have the same, non-zero length and every deviation is positive.
  public init(mean: [Float], standardDeviation: [Float]) {
    precondition(
      !mean.isEmpty && mean.count == standardDeviation.count,
      "normalization needs one mean and one deviation per channel")
    precondition(standardDeviation.allSatisfy { $0 > 0 }, "standard deviations must be positive")
    self.mean = mean
    self.standardDeviation = standardDeviation
  }

  /// The statistics that leave values unchanged (mean 0, deviation 1).
  public static func identity(channelCount: Int) -> Normalization {
    Normalization(
      mean: [Float](repeating: 0, count: channelCount),
      standardDeviation: [Float](repeating: 1, count: channelCount))
  }

  /// The per-channel mean and population standard deviation of `dataset`'s features, the
  /// channel being the last axis of its channels-last sample shape.
  ///
  /// Two passes in `Double` (mean, then the mean squared deviation), so that 61 million MNIST
  /// values lose no precision.
  ///
  /// - Complexity: O(count × sampleSize).
  public static func fit(to dataset: Dataset) -> Normalization {
    dataset.features.withUnsafeBufferPointer { fit(values: $0, channelCount: dataset.channelCount) }
  }

  /// The per-channel statistics of interleaved (channels-last) `values`.
  ///
  /// - Precondition: `values.count` is a multiple of `channelCount`.
  public static func fit(values: UnsafeBufferPointer<Float>, channelCount: Int) -> Normalization {
    precondition(
      channelCount > 0 && values.count % channelCount == 0,
      "\(values.count) values are not a whole number of \(channelCount)-channel pixels")
    let pixels = values.count / channelCount
    guard pixels > 0 else { return identity(channelCount: channelCount) }
    var sums = [Double](repeating: 0, count: channelCount)
    var squares = [Double](repeating: 0, count: channelCount)
    if channelCount == 1 {
      sums[0] = sumOfDeviations(values, from: 0, squared: false)
      squares[0] = sumOfDeviations(values, from: sums[0] / Double(pixels), squared: true)
    } else {
      var index = 0
      for _ in 0..<pixels {
        for channel in 0..<channelCount {
          sums[channel] += Double(values[index])
          index += 1
        }
      }
      let means = sums.map { $0 / Double(pixels) }
      index = 0
      for _ in 0..<pixels {
        for channel in 0..<channelCount {
          let deviation = Double(values[index]) - means[channel]
          squares[channel] += deviation * deviation
          index += 1
        }
      }
    }
    let means = sums.map { Float($0 / Double(pixels)) }
    let deviations = squares.map { square -> Float in
      let deviation = Float((square / Double(pixels)).squareRoot())
      return deviation > 0 && deviation.isFinite ? deviation : 1
    }
    return Normalization(mean: means, standardDeviation: deviations)
  }

  /// `Σ (x − center)` or `Σ (x − center)²` in `Double`, with four independent accumulators so
  /// that the additions overlap in the pipeline (the sum order differs from a plain loop by
  /// rounding only).
  static func sumOfDeviations(
    _ values: UnsafeBufferPointer<Float>, from center: Double,
    squared: Bool
  ) -> Double {
    guard let base = values.baseAddress else { return 0 }
    var (a, b, c, d) = (0.0, 0.0, 0.0, 0.0)
    let whole = values.count / 4 * 4
    var index = 0
    if squared {
      while index < whole {
        let (x, y, z, w) = (
          Double(base[index]) - center, Double(base[index + 1]) - center,
          Double(base[index + 2]) - center, Double(base[index + 3]) - center
        )
        a += x * x
        b += y * y
        c += z * z
        d += w * w
        index += 4
      }
    } else {
      while index < whole {
        a += Double(base[index]) - center
        b += Double(base[index + 1]) - center
        c += Double(base[index + 2]) - center
        d += Double(base[index + 3]) - center
        index += 4
      }
    }
    while index < values.count {
      let x = Double(base[index]) - center
      a += squared ? x * x : x
      index += 1
    }
    return (a + b) + (c + d)
  }

  /// Standardises interleaved (channels-last) `values` in place.
  ///
  /// - Precondition: `values.count` is a multiple of the channel count.
  /// - Complexity: O(values.count), one multiply-add per value.
  public func apply(to values: UnsafeMutableBufferPointer<Float>) {
    let channelCount = mean.count
    precondition(
      values.count % channelCount == 0,
      "\(values.count) values are not a whole number of \(channelCount)-channel pixels")
    let scales = standardDeviation.map { 1 / $0 }
    if channelCount == 1 {
      let shift = mean[0]
      let scale = scales[0]
      for index in values.indices {
        values[index] = (values[index] - shift) * scale
      }
      return
    }
    var index = 0
    for _ in 0..<values.count / channelCount {
      for channel in 0..<channelCount {
        values[index] = (values[index] - mean[channel]) * scales[channel]
        index += 1
      }
    }
  }
}
