import CoLearnData
import CoLearnTensor
import CoLearnTestSupport
import Testing

@Suite struct SyntheticDatasetTests {
  /// Small splits used by other suites too.
  static func tinySplits(shape: [Int] = [8, 8, 1]) -> (train: Dataset, test: Dataset) {
    SyntheticData.make(shape: shape, trainCount: 100, testCount: 50, seed: 7)
  }

  @Test func sameSeedSameData() {
    let first = SyntheticData.mnistLike(trainCount: 30, testCount: 10, seed: 3)
    let second = SyntheticData.mnistLike(trainCount: 30, testCount: 10, seed: 3)
    let other = SyntheticData.mnistLike(trainCount: 30, testCount: 10, seed: 4)
    #expect(first.train.features == second.train.features)
    #expect(first.test.labels == second.test.labels)
    #expect(first.train.features != other.train.features)
  }

  @Test func shapesAndBalancedLabels() {
    let (train, test) = SyntheticData.svhnLike(trainCount: 40, testCount: 20)
    #expect(train.sampleShape == [32, 32, 3])
    #expect(train.features.count == 40 * 3072)
    #expect(train.classHistogram() == [Int](repeating: 4, count: 10))
    #expect(test.classHistogram() == [Int](repeating: 2, count: 10))
  }

  /// Learnable: a nearest-prototype classifier built from the training set's class means gets
  /// nearly everything right on the test set.
  @Test func nearestClassMeanSeparatesTheClasses() {
    let (train, test) = Self.tinySplits(shape: [16, 16, 1])
    let size = train.sampleSize
    var means = [Float](repeating: 0, count: 10 * size)
    let histogram = train.classHistogram()
    for sample in 0..<train.count {
      let label = Int(train.labels[sample])
      for offset in 0..<size {
        means[label * size + offset] +=
          train.features[sample * size + offset]
          / Float(histogram[label])
      }
    }
    var correct = 0
    for sample in 0..<test.count {
      var best = (label: -1, distance: Float.infinity)
      for label in 0..<10 {
        var distance: Float = 0
        for offset in 0..<size {
          let difference = test.features[sample * size + offset] - means[label * size + offset]
          distance += difference * difference
        }
        if distance < best.distance { best = (label, distance) }
      }
      if best.label == Int(test.labels[sample]) { correct += 1 }
    }
    #expect(correct >= test.count * 9 / 10)
  }
}
