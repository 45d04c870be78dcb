import CoLearnTensor
import Foundation

/// A learnable stand-in for MNIST or SVHN, for tests and smoke runs that must not depend on
/// downloaded files: each class has a smooth random prototype image, and each sample is its
/// class's prototype plus independent Gaussian noise.
///
/// Prototypes are drawn on a coarse 4 × 4 grid per channel, uniform in [−1, 1], and bilinearly
/// upsampled to the sample's height and width, so neighbouring pixels are correlated as in real
/// images and convolutional models have something to find. With the default noise (σ = 0.5) a
/// small MLP separates the classes within an epoch or two. Labels are balanced (sample `i` of
/// the unshuffled set has class `i mod classCount`) and then shuffled. Everything is drawn from
/// the caller's seeded generator, so the same seed gives the same data (up to the last bit of
/// the platform's `log` and `cos`).
public struct SyntheticDataset: Sendable, Hashable {
  /// The per-sample shape, channels-last `[height, width, channels]`.
  public var sampleShape: [Int]
  /// The number of classes.
  public var classCount: Int
  /// The standard deviation of the per-value Gaussian noise.
  public var noise: Float
  /// The side of the coarse grid the prototypes are drawn on.
  public var gridSide: Int

  /// Describes a synthetic dataset.
  ///
  /// - Precondition: every dimension, the class count and the grid side are positive.
  public init(
    sampleShape: [Int] = MNIST.sampleShape, classCount: Int = 10, noise: Float = 0.5,
    gridSide: Int = 4
  ) {
    precondition(
      sampleShape.count == 3 && sampleShape.allSatisfy { $0 > 0 },
      "synthetic samples are [height, width, channels], got \(sampleShape)")
    precondition(classCount > 0 && gridSide > 1 && noise >= 0, "invalid synthetic parameters")
    self.sampleShape = sampleShape
    self.classCount = classCount
    self.noise = noise
    self.gridSide = gridSide
  }

  /// Draws one prototype per class: `classCount × sampleSize` values, class-major.
  public func prototypes(using generator: inout some RandomNumberGenerator) -> [Float] {
    let (height, width, channels) = (sampleShape[0], sampleShape[1], sampleShape[2])
    let grid = gridSide
    var result = [Float](repeating: 0, count: classCount * height * width * channels)
    var coarse = [Float](repeating: 0, count: grid * grid * channels)
    for label in 0..<classCount {
      for index in coarse.indices {
        coarse[index] = 2 * uniformUnitFloat(using: &generator) - 1
      }
      let base = label * height * width * channels
      for row in 0..<height {
        let y = height > 1 ? Float(row) / Float(height - 1) * Float(grid - 1) : 0
        let y0 = min(Int(y), grid - 2)
        let fy = y - Float(y0)
        for column in 0..<width {
          let x = width > 1 ? Float(column) / Float(width - 1) * Float(grid - 1) : 0
          let x0 = min(Int(x), grid - 2)
          let fx = x - Float(x0)
          for channel in 0..<channels {
            func at(_ r: Int, _ c: Int) -> Float { coarse[(r * grid + c) * channels + channel] }
            let top = at(y0, x0) * (1 - fx) + at(y0, x0 + 1) * fx
            let bottom = at(y0 + 1, x0) * (1 - fx) + at(y0 + 1, x0 + 1) * fx
            result[base + (row * width + column) * channels + channel] =
              top * (1 - fy)
              + bottom * fy
          }
        }
      }
    }
    return result
  }

  /// Draws `count` samples around the given prototypes.
  ///
  /// - Parameters:
  ///   - count: The number of samples.
  ///   - prototypes: From ``prototypes(using:)``.
  ///   - name: The dataset name.
  ///   - generator: The source of the label order and the noise.
  /// - Returns: A dataset of `count` samples with balanced, shuffled labels.
  public func samples(
    count: Int, prototypes: [Float], name: String,
    using generator: inout some RandomNumberGenerator
  ) -> Dataset {
    let size = sampleShape.reduce(1, *)
    precondition(prototypes.count == classCount * size, "prototypes do not match the shape")
    var labels = (0..<count).map { Int32($0 % classCount) }
    labels.shuffle(using: &generator)
    var features = [Float](repeating: 0, count: count * size)
    for sample in 0..<count {
      let prototype = Int(labels[sample]) * size
      for offset in 0..<size {
        features[sample * size + offset] =
          prototypes[prototype + offset]
          + noise * Self.gaussian(using: &generator)
      }
    }
    return Dataset(
      validatedName: name, sampleShape: sampleShape, features: features, labels: labels,
      classCount: classCount)
  }

  /// A training and a test set drawn around the same prototypes.
  ///
  /// - Parameters:
  ///   - trainCount: Training samples.
  ///   - testCount: Test samples.
  ///   - name: The prefix of the dataset names (`<name>-train`, `<name>-test`).
  ///   - generator: A seeded generator (e.g. `SeededGenerator(seed:)`).
  /// - Returns: The two sets, named `<name>-train` and `<name>-test`.
  public func makeSplits(
    trainCount: Int, testCount: Int, name: String = "synthetic",
    using generator: inout some RandomNumberGenerator
  ) -> (train: Dataset, test: Dataset) {
    let centres = prototypes(using: &generator)
    let train = samples(
      count: trainCount, prototypes: centres, name: "\(name)-train",
      using: &generator)
    let test = samples(
      count: testCount, prototypes: centres, name: "\(name)-test",
      using: &generator)
    return (train, test)
  }

  /// A standard normal draw (Box–Muller, one of the pair).
  static func gaussian(using generator: inout some RandomNumberGenerator) -> Float {
    let u1 = max(uniformUnitFloat(using: &generator), .leastNormalMagnitude)
    let u2 = uniformUnitFloat(using: &generator)
    return (-2 * log(u1)).squareRoot() * cos(2 * .pi * u2)
  }
}
