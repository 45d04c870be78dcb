/// One file of a dataset distribution and how to recognise a good copy of it.
///
/// MNIST files are pinned by the SHA-256 of their *uncompressed* IDX content (the gzip wrappers
/// legitimately differ between mirrors and re-compressions; see `../shared/data/mnist/SOURCE.md`).
/// SVHN has no published SHA-256, so its files are checked structurally: they must parse and
/// hold the documented number of samples.
public struct DatasetFile: Sendable, Hashable {
  /// How a copy is checked.
  public enum Check: Sendable, Hashable {
    /// The uncompressed content has this many bytes and this SHA-256 (lowercase hex).
    case sha256(byteCount: Int, digest: String)
    /// The file parses as an SVHN `.mat` file with this many samples.
    case svhnSamples(Int)
  }

  /// The name in the data directory, without any `.gz` suffix (`train-images-idx3-ubyte`).
  public let name: String
  /// The name on the download mirrors (`train-images-idx3-ubyte.gz`).
  public let remoteName: String
  /// How a copy is checked.
  public let check: Check
  /// Whether `colearn data fetch` gets it without being asked (SVHN's 1.3 GB `extra` is opt-in).
  public let isDefault: Bool

  /// Describes a file (the built-in lists are ``mnistFiles`` and ``svhnFiles``).
  public init(name: String, remoteName: String, check: Check, isDefault: Bool) {
    self.name = name
    self.remoteName = remoteName
    self.check = check
    self.isDefault = isDefault
  }

  /// The files of `dataset`, in download order.
  public static func files(of dataset: DatasetName) -> [DatasetFile] {
    switch dataset {
    case .mnist: mnistFiles
    case .svhn: svhnFiles
    }
  }

  /// The four MNIST files with the SHA-256 of the original LeCun IDX files.
  public static let mnistFiles: [DatasetFile] = [
    DatasetFile(
      name: "train-images-idx3-ubyte", remoteName: "train-images-idx3-ubyte.gz",
      check: .sha256(
        byteCount: 47_040_016,
        digest: "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
      isDefault: true),
    DatasetFile(
      name: "train-labels-idx1-ubyte", remoteName: "train-labels-idx1-ubyte.gz",
      check: .sha256(
        byteCount: 60_008,
        digest: "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
      isDefault: true),
    DatasetFile(
      name: "t10k-images-idx3-ubyte", remoteName: "t10k-images-idx3-ubyte.gz",
      check: .sha256(
        byteCount: 7_840_016,
        digest: "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
      isDefault: true),
    DatasetFile(
      name: "t10k-labels-idx1-ubyte", remoteName: "t10k-labels-idx1-ubyte.gz",
      check: .sha256(
        byteCount: 10_008,
        digest: "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
      isDefault: true),
  ]

  /// The SVHN cropped-digits files.
  public static let svhnFiles: [DatasetFile] = [
    DatasetFile(
      name: "train_32x32.mat", remoteName: "train_32x32.mat",
      check: .svhnSamples(SVHN.trainCount), isDefault: true),
    DatasetFile(
      name: "test_32x32.mat", remoteName: "test_32x32.mat",
      check: .svhnSamples(SVHN.testCount), isDefault: true),
    DatasetFile(
      name: "extra_32x32.mat", remoteName: "extra_32x32.mat",
      check: .svhnSamples(SVHN.extraCount), isDefault: false),
  ]

  /// The public mirrors of `dataset`, tried in order (directory URLs ending in `/`).
  public static func mirrors(of dataset: DatasetName) -> [String] {
    switch dataset {
    case .mnist:
      [
        "https://ossci-datasets.s3.amazonaws.com/mnist/",
        "https://storage.googleapis.com/cvdf-datasets/mnist/",
      ]
    case .svhn:
      ["http://ufldl.stanford.edu/housenumbers/"]
    }
  }

  /// Checks the content of a copy of this file.
  ///
  /// - Parameters:
  ///   - contents: The bytes as stored (gzip-compressed or not; MNIST copies are inflated
  ///     before hashing).
  ///   - path: Where the bytes came from, for messages.
  /// - Throws: ``DataError/checksumMismatch(path:expected:actual:)``, a size mismatch as
  ///   ``DataError/truncatedFile(path:expectedBytes:actualBytes:)``, or any parse error.
  public func verify(contents: [UInt8], path: String) throws(DataError) {
    switch check {
    case .sha256(let byteCount, let digest):
      let isGzip = contents.withUnsafeBytes { Inflate.isGzip($0) }
      let plain: [UInt8]
      if isGzip {
        let inflated = contents.withUnsafeBytes { bytes in
          Result { () throws(DataError) -> [UInt8] in
            try Inflate.inflate(bytes, sizeHint: byteCount, path: path)
          }
        }
        plain = try inflated.get()
      } else {
        plain = contents
      }
      guard plain.count == byteCount else {
        if plain.count < byteCount {
          throw .truncatedFile(path: path, expectedBytes: byteCount, actualBytes: plain.count)
        }
        throw .malformedFile(
          path: path,
          reason: "\(plain.count) bytes of content, expected "
            + "\(byteCount)")
      }
      let actual = SHA256.hexDigest(plain)
      guard actual == digest else {
        throw .checksumMismatch(path: path, expected: digest, actual: actual)
      }
    case .svhnSamples(let expected):
      let file = try MATFile(contents: contents, path: path, names: ["X", "y"])
      guard let images = file["X"] else { throw .missingVariable(path: path, name: "X") }
      guard file["y"] != nil else { throw .missingVariable(path: path, name: "y") }
      guard images.dimensions == [SVHN.imageSide, SVHN.imageSide, 3, expected] else {
        throw .unexpectedShape(
          path: path, expected: "X of 32 × 32 × 3 × \(expected)",
          found: images.dimensions)
      }
    }
  }
}
