import CoLearnData
import Testing

@Suite struct DatasetTests {
  /// Three 2 × 1 × 1 samples: values 0,1 / 10,11 / 20,21, labels 2, 0, 1.
  func small() throws -> Dataset {
    try Dataset(
      name: "small", sampleShape: [2, 1, 1], features: [0, 1, 10, 11, 20, 21], labels: [2, 0, 1],
      classCount: 3)
  }

  @Test func sizes() throws {
    let dataset = try small()
    #expect(dataset.count == 3)
    #expect(dataset.sampleSize == 2)
    #expect(dataset.channelCount == 1)
  }

  @Test func rejectsFeatureCountThatIsNotWholeSamples() {
    #expect(throws: DataError.self) {
      try Dataset(
        name: "x", sampleShape: [2, 1, 1], features: [0, 1, 2], labels: [0, 0],
        classCount: 2)
    }
  }

  @Test func rejectsLabelOutsideClassRange() {
    #expect(
      throws: DataError.invalidDataset(
        name: "x",
        reason: "label 2 of sample 1 is outside 0..<2")
    ) {
      try Dataset(name: "x", sampleShape: [1], features: [0, 1], labels: [0, 2], classCount: 2)
    }
  }

  @Test func rejectsEmptyOrNonPositiveShape() {
    #expect(throws: DataError.self) {
      try Dataset(name: "x", sampleShape: [], features: [], labels: [], classCount: 2)
    }
    #expect(throws: DataError.self) {
      try Dataset(name: "x", sampleShape: [0, 1], features: [], labels: [], classCount: 2)
    }
  }

  @Test func subsetKeepsOrderAndRepeats() throws {
    let subset = try small().subset([2, 0, 2])
    #expect(subset.features == [20, 21, 0, 1, 20, 21])
    #expect(subset.labels == [1, 2, 1])
    #expect(try small().subset([]).count == 0)
  }

  @Test func prefixClampsToCount() throws {
    let dataset = try small()
    #expect(dataset.prefix(2).labels == [2, 0])
    #expect(dataset.prefix(2).features == [0, 1, 10, 11])
    #expect(dataset.prefix(10).count == 3)
    #expect(dataset.prefix(0).count == 0)
  }

  @Test func classHistogramCountsEveryClass() throws {
    let dataset = try Dataset(
      name: "h", sampleShape: [1], features: [0, 0, 0, 0, 0], labels: [1, 1, 3, 0, 1],
      classCount: 5)
    #expect(dataset.classHistogram() == [1, 3, 0, 1, 0])
  }

  @Test func gatherCopiesRowsIntoCallerBuffers() throws {
    let dataset = try small()
    var features = [Float](repeating: -1, count: 6)
    var labels = [Int32](repeating: -1, count: 3)
    let order = [9, 1, 2, 0, 9]
    features.withUnsafeMutableBufferPointer { featureBuffer in
      labels.withUnsafeMutableBufferPointer { labelBuffer in
        guard let f = featureBuffer.baseAddress, let l = labelBuffer.baseAddress else { return }
        dataset.gather(order[1..<4], features: f, labels: l)
      }
    }
    #expect(features == [10, 11, 20, 21, 0, 1])
    #expect(labels == [0, 1, 2])
  }

  @Test func normalizeUsesPerChannelStatistics() throws {
    var dataset = try Dataset(
      name: "n", sampleShape: [1, 2, 2], features: [1, 10, 3, 30], labels: [0], classCount: 1)
    dataset.normalize(with: Normalization(mean: [2, 20], standardDeviation: [1, 10]))
    #expect(dataset.features == [-1, -1, 1, 1])
  }
}
