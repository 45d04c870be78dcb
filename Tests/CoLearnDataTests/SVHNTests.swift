import CoLearnData
import Foundation
import Testing

/// SVHN decoding (column-major RGB → channels-last YUV, labels 10 → 0) against the reference
/// values that make_svhn_fixtures.py computed with NumPy.
@Suite struct SVHNTests {
  struct Expected: Decodable {
    struct Probe: Decodable {
      var sample: Int
      var row: Int
      var column: Int
      var yuv: [Double]
    }
    var count: Int
    var labels: [Int32]
    var probes: [Probe]
    var channelMeans: [Double]
    var channelStds: [Double]
  }

  func expected() throws -> Expected {
    let data = try Data(
      contentsOf: URL(
        fileURLWithPath: TestFiles.fixture("svhn_small_expected.json")))
    return try JSONDecoder().decode(Expected.self, from: data)
  }

  @Test(arguments: [
    "svhn_small_uncompressed.mat", "svhn_small_compressed.mat", "svhn_small_matlab_style.mat",
    "svhn_small_bigendian.mat",
  ])
  func decodesToReferenceYUV(fixture: String) throws {
    let reference = try expected()
    let dataset = try SVHN.load(contentsOfFile: TestFiles.fixture(fixture), name: "svhn-small")
    #expect(dataset.count == reference.count)
    #expect(dataset.sampleShape == [32, 32, 3])
    #expect(dataset.labels == reference.labels)
    for probe in reference.probes {
      let base = probe.sample * 3072 + (probe.row * 32 + probe.column) * 3
      for channel in 0..<3 {
        #expect(
          abs(Double(dataset.features[base + channel]) - probe.yuv[channel]) < 1e-3,
          "sample \(probe.sample) (\(probe.row), \(probe.column)) channel \(channel)")
      }
    }
    let statistics = Normalization.fit(to: dataset)
    for channel in 0..<3 {
      #expect(abs(Double(statistics.mean[channel]) - reference.channelMeans[channel]) < 1e-3)
      #expect(
        abs(Double(statistics.standardDeviation[channel]) - reference.channelStds[channel])
          < 1e-3)
    }
  }

  @Test func limitLoadsAPrefix() throws {
    let full = try SVHN.load(
      contentsOfFile: TestFiles.fixture("svhn_small_compressed.mat"),
      name: "s")
    let part = try SVHN.load(
      contentsOfFile: TestFiles.fixture("svhn_small_compressed.mat"),
      name: "s", limit: 4)
    #expect(part.count == 4)
    #expect(part.labels == Array(full.labels.prefix(4)))
    #expect(part.features == Array(full.features.prefix(4 * 3072)))
  }

  @Test func trainAndExtraConcatenates() throws {
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    let directory = root + "/svhn"
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    for split in ["train", "extra", "test"] {
      try FileManager.default.copyItem(
        atPath: TestFiles.fixture("svhn_small_compressed.mat"),
        toPath: "\(directory)/\(split)_32x32.mat")
    }
    let combined = try SVHN.loadTraining(.trainAndExtra(count: 9), from: directory)
    #expect(combined.count == 9)
    let single = try SVHN.load(.train, from: directory)
    #expect(combined.labels == single.labels + single.labels.prefix(3))
    let trainOnly = try SVHN.loadTraining(.trainAndExtra(count: 4), from: directory)
    #expect(trainOnly.count == 4)
    #expect(throws: DataError.self) {
      try SVHN.loadTraining(.trainAndExtra(count: 0), from: directory)
    }

    let data = DataDirectory(path: root)
    let (train, test, normalization) = try loadDataset(
      .svhn, dataDirectory: data,
      options: DatasetLoadOptions(svhnTraining: .trainAndExtra(count: 8), testLimit: 5))
    #expect(train.count == 8)
    #expect(test.count == 5)
    #expect(normalization.mean.count == 3)
  }

  @Test func labelOutsideOneToTenIsRejected() throws {
    let path = TestFiles.fixture("svhn_bad_label.mat")
    #expect(
      throws: DataError.malformedFile(
        path: path,
        reason: "y(3) = 11.0 is not a digit label 1…10")
    ) {
      try SVHN.load(contentsOfFile: path, name: "bad")
    }
  }

  @Test func missingLabelsVariable() {
    let path = TestFiles.fixture("svhn_missing_y.mat")
    #expect(throws: DataError.missingVariable(path: path, name: "y")) {
      try SVHN.load(contentsOfFile: path, name: "bad")
    }
  }

  @Test func missingFilePointsAtFetch() {
    let error = #expect(throws: DataError.self) {
      try SVHN.load(.train, from: "/nonexistent-colearn/svhn")
    }
    #expect(error?.description.contains("colearn data fetch svhn") == true)
  }
}
