import CoLearnData
import Foundation
import Testing

@Suite struct MNISTTests {
  @Test(arguments: [false, true])
  func padsTo32AndKeepsRawScale(compressed: Bool) throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: compressed)
    let (train, test) = try MNIST.load(from: directory)
    #expect(train.count == 12)
    #expect(test.count == 5)
    #expect(train.name == "mnist-train")
    #expect(train.sampleShape == [32, 32, 1])
    #expect(train.labels == (0..<12).map { Int32($0 % 10) })
    // Pixel (r, c) of sample n is (n + r + 2c) mod 256, moved to (r + 2, c + 2).
    for n in [0, 7, 11] {
      let sample = Array(train.features[n * 1024..<(n + 1) * 1024])
      for row in 0..<32 {
        for column in 0..<32 {
          let inside = (2..<30).contains(row) && (2..<30).contains(column)
          let expected = inside ? Float((n + row - 2 + 2 * (column - 2)) % 256) : 0
          #expect(sample[row * 32 + column] == expected)
        }
      }
    }
  }

  @Test func prefersRawFileOverGzip() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: false)
    try TestFiles.write([1, 2, 3], to: directory + "/train-images-idx3-ubyte.gz")
    #expect(try MNIST.load(.train, from: directory).count == 12)
  }

  @Test func countMismatchNamesBothFiles() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: false)
    let labels = TestFiles.idx(dimensions: [11], payload: [UInt8](repeating: 1, count: 11))
    try TestFiles.write(labels, to: directory + "/train-labels-idx1-ubyte")
    #expect(
      throws: DataError.countMismatch(
        imagesPath: directory + "/train-images-idx3-ubyte", imageCount: 12,
        labelsPath: directory + "/train-labels-idx1-ubyte", labelCount: 11)
    ) {
      try MNIST.load(.train, from: directory)
    }
  }

  @Test func labelOfTenIsRejected() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: false)
    var values = [UInt8](repeating: 3, count: 5)
    values[4] = 10
    try TestFiles.write(
      TestFiles.idx(dimensions: [5], payload: values),
      to: directory + "/t10k-labels-idx1-ubyte")
    #expect(
      throws: DataError.labelOutOfRange(
        path: directory + "/t10k-labels-idx1-ubyte", index: 4, label: 10, classCount: 10)
    ) {
      try MNIST.load(.test, from: directory)
    }
  }

  @Test func wrongImageShapeIsRejected() throws {
    let directory = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(directory) }
    try TestFiles.writeTinyMNIST(in: directory, compress: false)
    try TestFiles.write(
      TestFiles.idx(
        dimensions: [5, 32, 32],
        payload: .init(
          repeating: 0,
          count: 5 * 1024)), to: directory + "/t10k-images-idx3-ubyte")
    #expect(
      throws: DataError.unexpectedShape(
        path: directory + "/t10k-images-idx3-ubyte",
        expected: "N × 28 × 28", found: [5, 32, 32])
    ) {
      try MNIST.load(.test, from: directory)
    }
  }

  @Test func missingDirectoryPointsAtFetch() throws {
    let error = #expect(throws: DataError.self) {
      try loadDataset(.mnist, dataDirectory: DataDirectory(path: "/nonexistent-colearn"))
    }
    #expect(
      error?.description.hasPrefix(
        "/nonexistent-colearn/mnist/train-labels-idx1-ubyte.gz not found") == true)
    #expect(error?.description.hasSuffix("or run `colearn data fetch mnist`") == true)
  }

  /// The real MNIST from `COLEARN_DATA_DIR` (CI sets it to ../shared/data): counts and class
  /// histograms from `shared/data/mnist/SOURCE.md`.
  @Test(
    .enabled(
      if: TestFiles.realDataDirectory != nil,
      "COLEARN_DATA_DIR is not set; set it to the directory holding mnist/ to run this test"))
  func realMNIST() throws {
    let start = Date()
    let (train, test, normalization) = try #require(TestFiles.realMNIST).get()
    let seconds = Date().timeIntervalSince(start)
    #expect(train.count == 60_000)
    #expect(test.count == 10_000)
    #expect(
      train.classHistogram()
        == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949])
    #expect(test.classHistogram() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    // Golden values from NumPy over the padded images (see NormalizationTests).
    #expect(abs(normalization.mean[0] - 25.509416) < 1e-4)
    #expect(abs(normalization.standardDeviation[0] - 70.180423) < 1e-4)
    print("real MNIST loaded and normalised in \(seconds) s (shared with other tests)")
  }
}
