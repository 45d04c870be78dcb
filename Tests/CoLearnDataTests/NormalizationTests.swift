import CoLearnData
import Foundation
import Testing

@Suite struct NormalizationTests {
  @Test func populationStatisticsPerChannel() {
    // Channel 0: 1, 3, 5, 7 → mean 4, population std √5; channel 1 constant 2 → std 1.
    let values: [Float] = [1, 2, 3, 2, 5, 2, 7, 2]
    let normalization = values.withUnsafeBufferPointer {
      Normalization.fit(values: $0, channelCount: 2)
    }
    #expect(normalization.mean == [4, 2])
    #expect(abs(normalization.standardDeviation[0] - Float(5).squareRoot()) < 1e-6)
    #expect(normalization.standardDeviation[1] == 1)
  }

  @Test func standardisedTrainingSetHasMeanZeroAndUnitDeviation() throws {
    var (train, _) = SyntheticDatasetTests.tinySplits(shape: [8, 8, 3])
    let normalization = Normalization.fit(to: train)
    train.normalize(with: normalization)
    let after = Normalization.fit(to: train)
    for channel in 0..<3 {
      #expect(abs(after.mean[channel]) < 1e-5)
      #expect(abs(after.standardDeviation[channel] - 1) < 1e-4)
    }
  }

  /// Golden values for MNIST, computed with NumPy from /work/shared/data/mnist
  /// (`train-images-idx3-ubyte.gz`, padded with zeros to 32 × 32, float64):
  ///
  ///     mean of the 28 × 28 pixels          33.318421449829934  (SOURCE.md: 33.318421)
  ///     mean of the padded 32 × 32 pixels   25.50941642252604   (= 33.318421 · 784 / 1024)
  ///     population std of the padded pixels 70.18042327879907
  ///     standardised test set: mean 0.0051579886606826835, std 1.0079633599865447
  @Test(
    .enabled(
      if: TestFiles.realDataDirectory != nil,
      "COLEARN_DATA_DIR is not set; set it to the directory holding mnist/ to run this test"))
  func mnistGoldenValues() throws {
    let (_, test, normalization) = try #require(TestFiles.realMNIST).get()
    #expect(abs(Double(normalization.mean[0]) - 25.50941642252604) < 1e-4)
    #expect(abs(Double(normalization.mean[0]) - 33.318421 * 784 / 1024) < 1e-4)
    #expect(abs(Double(normalization.standardDeviation[0]) - 70.18042327879907) < 1e-4)
    let testStatistics = Normalization.fit(to: test)
    #expect(abs(Double(testStatistics.mean[0]) - 0.0051579886606826835) < 1e-5)
    #expect(abs(Double(testStatistics.standardDeviation[0]) - 1.0079633599865447) < 1e-5)
  }

  @Test func codableRoundTrip() throws {
    let normalization = Normalization(mean: [1.5, -2], standardDeviation: [3, 0.25])
    let encoded = try JSONEncoder().encode(normalization)
    #expect(try JSONDecoder().decode(Normalization.self, from: encoded) == normalization)
  }
}
