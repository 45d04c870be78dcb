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
    var counts: [Int] = []
    var histograms: [[Int]] = []
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
      for split in [MNIST.Split.train, .test] {
        let loaded = try MNIST.load(split, from: directory)
        counts.append(loaded.count)
        histograms.append(loaded.classHistogram())
      }
    case .svhn:
      // Inflating the whole file checks zlib's Adler-32 of every element; the labels give the
      // histogram without converting 900 MB of pixels to floats.
      for split in [SVHN.Split.train, .test] {
        let path = FileIO.join(directory, split.fileName)
        let expected = split == .train ? SVHN.trainCount : SVHN.testCount
        let contents = try FileIO.readFile(atPath: path, dataset: dataset)
        let file = DatasetFile.svhnFiles.first { $0.name == split.fileName }
        try file?.verify(contents: contents, path: path)
        let mat = try MATFile(contents: contents, path: path, names: ["y"])
        guard let y = mat["y"] else { throw .missingVariable(path: path, name: "y") }
        let labels = try SVHN.decodeLabels(y.doubleValues()[...], path: path)
        var histogram = [Int](repeating: 0, count: SVHN.classCount)
        for label in labels { histogram[Int(label)] += 1 }
        files.append(File(path: path, check: "\(expected) samples ok"))
        counts.append(labels.count)
        histograms.append(histogram)
      }
    }
    self.dataset = dataset
    self.directory = directory
    self.files = files
    self.trainCount = counts[0]
    self.testCount = counts[1]
    self.trainHistogram = histograms[0]
    self.testHistogram = histograms[1]
  }
}
