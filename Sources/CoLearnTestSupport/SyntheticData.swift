import CoLearnData
import CoLearnTensor

/// Tiny, learnable, seeded datasets for tests (STYLE §14), built on ``SyntheticDataset``: ten
/// smooth class prototypes plus Gaussian noise, in the shapes of MNIST and SVHN or any other.
public enum SyntheticData {
  /// MNIST-shaped (`[32, 32, 1]`) training and test sets.
  ///
  /// - Parameters:
  ///   - trainCount: Training samples (balanced over 10 classes).
  ///   - testCount: Test samples.
  ///   - noise: The noise standard deviation (prototypes lie in [−1, 1]).
  ///   - seed: The `SeededGenerator` seed; the same seed gives the same data.
  /// - Returns: The training and test sets.
  public static func mnistLike(
    trainCount: Int = 200, testCount: Int = 100, noise: Float = 0.5, seed: UInt64 = 1
  ) -> (train: Dataset, test: Dataset) {
    make(
      shape: MNIST.sampleShape, trainCount: trainCount, testCount: testCount, noise: noise,
      seed: seed, name: "synthetic-mnist")
  }

  /// SVHN-shaped (`[32, 32, 3]`) training and test sets; see ``mnistLike(trainCount:testCount:noise:seed:)``.
  public static func svhnLike(
    trainCount: Int = 200, testCount: Int = 100, noise: Float = 0.5, seed: UInt64 = 1
  ) -> (train: Dataset, test: Dataset) {
    make(
      shape: SVHN.sampleShape, trainCount: trainCount, testCount: testCount, noise: noise,
      seed: seed, name: "synthetic-svhn")
  }

  /// Training and test sets of any channels-last shape and class count.
  public static func make(
    shape: [Int], classCount: Int = 10, trainCount: Int, testCount: Int, noise: Float = 0.5,
    seed: UInt64 = 1, name: String = "synthetic"
  ) -> (train: Dataset, test: Dataset) {
    var generator = SeededGenerator(seed: seed)
    let description = SyntheticDataset(sampleShape: shape, classCount: classCount, noise: noise)
    return description.makeSplits(
      trainCount: trainCount, testCount: testCount, name: name, using: &generator)
  }
}
