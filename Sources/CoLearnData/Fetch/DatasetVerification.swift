/// The result of checking the files of a dataset in the data directory: every file verified
/// (SHA-256 of the uncompressed content for MNIST, structure and sample count for SVHN) and both
/// splits loaded, with their sizes and class histograms. Backs `colearn data verify`.
public struct DatasetVerification: Sendable {
  /// A verified file.
  public struct File: Sendable {
    /// Its path.
    public let path: String
    /// What was checked (`sha256 ba8910…76db` or `73257 samples`).
    public let check: String
  }

  /// The dataset.
  public let dataset: DatasetName
  /// The directory checked (`<data>/<dataset>`).
  public let directory: String
  /// The files, in distribution order.
  public let files: [File]
  /// The number of training samples.
  public let trainCount: Int
  /// The number of test samples.
  public let testCount: Int
  /// Samples per class in the training set.
  public let trainHistogram: [Int]
  /// Samples per class in the test set.
  public let testHistogram: [Int]

  /// Verifies the default files of `dataset` in `dataDirectory`.
  ///
  /// - Throws: The first ``DataError`` found: a missing file (with the fetch hint), a checksum
  ///   mismatch, a truncated or corrupt file.
  public init(_ dataset: DatasetName, in dataDirectory: DataDirectory) throws(DataError) {
    let directory = dataDirectory.directory(for: dataset)
    var files: [File] = []
    var train: Dataset
    var test: Dataset
    switch dataset {
    case .mnist:
      for file in DatasetFile.files(of: dataset) where file.isDefault {
        let path = FileIO.preferredPath(file.name, in: directory)
        let contents = try FileIO.readFile(atPath: path, dataset: dataset)
        try file.verify(contents: contents, path: path)
        if case .sha256(_, let digest) = file.check {
          files.append(File(path: path, check: "sha256 \(digest) ok"))
        }
      }
      train = try MNIST.load(.train, from: directory)
      test = try MNIST.load(.test, from: directory)
    case .svhn:
      train = try SVHN.load(.train, from: directory)
      test = try SVHN.load(.test, from: directory)
      for (split, dataset, expected) in [
        (SVHN.Split.train, train, SVHN.trainCount), (.test, test, SVHN.testCount),
      ] {
        let path = FileIO.join(directory, split.fileName)
        guard dataset.count == expected else {
          throw .malformedFile(
            path: path,
            reason: "\(dataset.count) samples, the official "
              + "file holds \(expected)")
        }
        files.append(File(path: path, check: "\(expected) samples ok"))
      }
    }
    self.dataset = dataset
    self.directory = directory
    self.files = files
    self.trainCount = train.count
    self.testCount = test.count
    self.trainHistogram = train.classHistogram()
    self.testHistogram = test.classHistogram()
  }
}
