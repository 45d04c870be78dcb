import CoLearnData
import Foundation
import Testing

/// Import with verification, offline failure, and verification of a data directory.
@Suite struct DatasetFetcherTests {
  /// The real MNIST directory, when `COLEARN_DATA_DIR` is set.
  var realMNIST: String? { TestFiles.realDataDirectory.map { $0 + "/mnist" } }

  /// (Not timed: the 3-second per-mirror timeout bounds it, and wall-clock limits are flaky on a
  /// loaded machine.)
  @Test func offlineFetchFailsWithTheImportHint() async throws {
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    var fetcher = DatasetFetcher(dataset: .mnist, timeout: 3)
    // Port 9 (discard) on the loopback interface refuses connections at once; .invalid never
    // resolves (RFC 6761).
    fetcher.mirrors = ["http://127.0.0.1:9/mnist/", "https://mirror.colearn.invalid/mnist/"]
    do {
      _ = try await fetcher.fetch(.mnist, into: DataDirectory(path: root))
      Issue.record("fetch succeeded without a network")
    } catch {
      guard case .mirrorsUnreachable(let dataset, let attempts) = error else {
        Issue.record("expected mirrorsUnreachable, got \(error)")
        return
      }
      #expect(dataset == .mnist)
      #expect(attempts.count == 2)
      #expect(error.description.hasPrefix("could not reach any MNIST mirror ("))
      #expect(error.description.contains("this machine looks offline"))
      #expect(error.description.contains("colearn data fetch mnist --from DIR"))
    }
  }

  @Test func importRejectsAFileWithTheWrongContent() throws {
    let source = try TestFiles.makeTemporaryDirectory()
    let root = try TestFiles.makeTemporaryDirectory()
    defer {
      TestFiles.remove(source)
      TestFiles.remove(root)
    }
    try TestFiles.writeTinyMNIST(in: source, compress: true)
    let error = #expect(throws: DataError.self) {
      try DatasetFetcher(dataset: .mnist).importFiles(
        .mnist, from: source, into: DataDirectory(path: root))
    }
    guard case .truncatedFile(let path, 47_040_016, _) = error else {
      Issue.record("expected a size mismatch, got \(String(describing: error))")
      return
    }
    #expect(path == source + "/train-images-idx3-ubyte.gz")
    #expect(!FileManager.default.fileExists(atPath: root + "/mnist/train-images-idx3-ubyte.gz"))
  }

  @Test func verifyReportsAMissingFileWithTheFetchHint() throws {
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    let error = #expect(throws: DataError.self) {
      try DatasetVerification(.mnist, in: DataDirectory(path: root))
    }
    #expect(error?.description.contains("colearn data fetch mnist") == true)
  }

  @Test func verifySVHNChecksTheOfficialSampleCount() throws {
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    try FileManager.default.createDirectory(
      atPath: root + "/svhn", withIntermediateDirectories: true)
    for split in ["train", "test"] {
      try FileManager.default.copyItem(
        atPath: TestFiles.fixture("svhn_small_compressed.mat"),
        toPath: "\(root)/svhn/\(split)_32x32.mat")
    }
    #expect(
      throws: DataError.unexpectedShape(
        path: root + "/svhn/train_32x32.mat", expected: "X of 32 × 32 × 3 × 73257",
        found: [32, 32, 3, 6])
    ) {
      try DatasetVerification(.svhn, in: DataDirectory(path: root))
    }
  }

  @Test func checksumMismatchIsReported() throws {
    let file = DatasetFile(
      name: "x", remoteName: "x.gz",
      check: .sha256(byteCount: 3, digest: String(repeating: "0", count: 64)), isDefault: true)
    #expect(
      throws: DataError.checksumMismatch(
        path: "x",
        expected: String(repeating: "0", count: 64),
        actual: "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
    ) {
      try file.verify(contents: Array("abc".utf8), path: "x")
    }
  }

  /// The label files are small enough to hash in a debug build; check them against the pins.
  @Test(
    .enabled(
      if: TestFiles.realDataDirectory != nil,
      "COLEARN_DATA_DIR is not set; set it to the directory holding mnist/ to run this test"))
  func realLabelFilesMatchTheirPins() throws {
    let directory = try #require(realMNIST)
    for file in DatasetFile.mnistFiles where file.name.contains("labels") {
      let path = directory + "/" + file.name + ".gz"
      let contents = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
      try file.verify(contents: contents, path: path)
    }
  }

  /// Import verifies each copy against its pin and writes it under the data directory; a second
  /// import of the same files finds them in place.
  @Test func importWritesVerifiedCopies() throws {
    let source = try TestFiles.makeTemporaryDirectory()
    let root = try TestFiles.makeTemporaryDirectory()
    defer {
      TestFiles.remove(source)
      TestFiles.remove(root)
    }
    try TestFiles.writeTinyMNIST(in: source, compress: true)
    var fetcher = DatasetFetcher(dataset: .mnist)
    fetcher.files = try DatasetFile.mnistFiles.map { file in
      let gz = [UInt8](try Data(contentsOf: URL(fileURLWithPath: "\(source)/\(file.name).gz")))
      let plain = try IDXFile(contentsOfFile: "\(source)/\(file.name).gz").contents
      #expect(gz != plain)
      return DatasetFile(
        name: file.name, remoteName: file.remoteName,
        check: .sha256(byteCount: plain.count, digest: SHA256.hexDigest(plain)), isDefault: true)
    }
    let data = DataDirectory(path: root)
    let results = try fetcher.importFiles(.mnist, from: source, into: data)
    #expect(results.map(\.outcome) == [DatasetFetcher.Outcome](repeating: .imported, count: 4))
    #expect(results.map(\.path) == MNIST.fileNames.map { "\(root)/mnist/\($0).gz" })
    let (train, test) = try MNIST.load(from: data.directory(for: .mnist))
    #expect(train.count == 12)
    #expect(test.count == 5)
    let again = try fetcher.importFiles(.mnist, from: data.directory(for: .mnist), into: data)
    #expect(again.map(\.outcome) == [DatasetFetcher.Outcome](repeating: .alreadyPresent, count: 4))
  }

  /// Importing the real files verifies all four SHA-256 pins (about two seconds in a release
  /// build; unoptimised SHA-256 takes half a minute, hence release only), then
  /// `DatasetVerification` reports counts and histograms.
  @Test(
    .enabled(
      if: TestFiles.realDataDirectory != nil,
      "COLEARN_DATA_DIR is not set; set it to the directory holding mnist/ to run this test"),
    .enabled(
      if: TestFiles.isOptimizedBuild,
      "hashing 55 MB unoptimised is slow; run `swift test -c release` to include this test"))
  func importAndVerifyRealMNIST() throws {
    let source = try #require(realMNIST)
    let root = try TestFiles.makeTemporaryDirectory()
    defer { TestFiles.remove(root) }
    let data = DataDirectory(path: root)
    let results = try DatasetFetcher(dataset: .mnist).importFiles(.mnist, from: source, into: data)
    #expect(results.map(\.outcome) == [DatasetFetcher.Outcome](repeating: .imported, count: 4))
    let report = try DatasetVerification(.mnist, in: data)
    #expect(report.trainCount == 60_000)
    #expect(report.testCount == 10_000)
    #expect(report.files.count == 4)
    #expect(report.testHistogram == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
  }
}
