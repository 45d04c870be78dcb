import CoLearnData
import Foundation

/// Temporary directories, IDX writers and fixture paths shared by the data tests.
enum TestFiles {
  /// A fresh empty directory under the system temporary directory.
  static func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "colearn-data-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
  }

  /// Removes a directory made by ``makeTemporaryDirectory()``.
  static func remove(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
  }

  /// Writes `bytes` to `path`.
  static func write(_ bytes: [UInt8], to path: String) throws {
    try Data(bytes).write(to: URL(fileURLWithPath: path))
  }

  /// The bytes of an IDX file of unsigned bytes with the given dimensions and payload.
  static func idx(dimensions: [Int], payload: [UInt8], typeCode: UInt8 = 0x08) -> [UInt8] {
    var bytes: [UInt8] = [0, 0, typeCode, UInt8(dimensions.count)]
    for dimension in dimensions {
      bytes += [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: dimension >> $0) }
    }
    return bytes + payload
  }

  /// `bytes` compressed with the system's `gzip -9 -n`.
  static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
    let directory = try makeTemporaryDirectory()
    defer { remove(directory) }
    let path = directory + "/file"
    try write(bytes, to: path)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-9", "-n", path]
    try process.run()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else { throw CocoaError(.fileWriteUnknown) }
    return [UInt8](try Data(contentsOf: URL(fileURLWithPath: path + ".gz")))
  }

  /// Writes a small MNIST-layout directory: `trainCount`/`testCount` images of 28 × 28 whose
  /// pixel `(r, c)` of sample `n` is `(n + r + 2c) mod 256`, labels `n mod 10`.
  static func writeTinyMNIST(
    in directory: String, trainCount: Int = 12, testCount: Int = 5, compress: Bool
  ) throws {
    for (prefix, count) in [("train", trainCount), ("t10k", testCount)] {
      var pixels = [UInt8]()
      for n in 0..<count {
        for r in 0..<28 {
          for c in 0..<28 { pixels.append(UInt8((n + r + 2 * c) % 256)) }
        }
      }
      let labels = (0..<count).map { UInt8($0 % 10) }
      let images = idx(dimensions: [count, 28, 28], payload: pixels)
      let labelFile = idx(dimensions: [count], payload: labels)
      let suffix = compress ? ".gz" : ""
      try write(
        compress ? gzip(images) : images,
        to: "\(directory)/\(prefix)-images-idx3-ubyte\(suffix)")
      try write(
        compress ? gzip(labelFile) : labelFile,
        to: "\(directory)/\(prefix)-labels-idx1-ubyte\(suffix)")
    }
  }

  /// The directory of the checked-in data fixtures (`Tests/Fixtures/data`).
  static let fixtures: String = {
    let here = URL(fileURLWithPath: #filePath)
    return here.deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/data").path
  }()

  /// The path of a checked-in fixture.
  static func fixture(_ name: String) -> String { fixtures + "/" + name }

  /// Whether the tests were compiled with optimisation (`swift test -c release`); unoptimised
  /// SHA-256 of the 47 MB MNIST training images takes tens of seconds.
  static var isOptimizedBuild: Bool {
    #if DEBUG
      false
    #else
      true
    #endif
  }

  /// The real MNIST, loaded and normalised once for all the tests that need it (loading takes
  /// about a second in a release build and several in a debug build).
  static let realMNIST:
    Result<
      (train: Dataset, test: Dataset, normalization: Normalization),
      DataError
    >? = realDataDirectory.map { root in
      Result { () throws(DataError) in
        try loadDataset(.mnist, dataDirectory: DataDirectory.resolve(option: root))
      }
    }

  /// The real data directory from `COLEARN_DATA_DIR`, if set and it holds MNIST.
  static var realDataDirectory: String? {
    guard let value = ProcessInfo.processInfo.environment["COLEARN_DATA_DIR"], !value.isEmpty
    else { return nil }
    return value
  }
}
