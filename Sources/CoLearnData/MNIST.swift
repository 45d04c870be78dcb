/// MNIST (and any IDX dataset of the same shape and file names: Fashion-MNIST, KMNIST), loaded
/// from `train-images-idx3-ubyte`, `train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte` and
/// `t10k-labels-idx1-ubyte`, each raw or with a `.gz` suffix (SPEC §3).
///
/// The 28 × 28 images are zero-padded by 2 pixels on every side to 32 × 32 (the input size of
/// SPEC §2) and kept on the 0…255 scale; standardisation happens afterwards (``Normalization``).
/// Samples are `[32, 32, 1]`, labels 0…9.
public enum MNIST {
  /// The side of the stored images.
  public static let imageSide = 28
  /// The side after padding.
  public static let paddedSide = 32
  /// Zero pixels added on each side.
  public static let padding = 2
  /// The number of classes.
  public static let classCount = 10
  /// The per-sample shape after padding, channels-last.
  public static let sampleShape = [paddedSide, paddedSide, 1]

  /// The two splits of the distribution.
  public enum Split: String, Sendable, CaseIterable {
    /// 60,000 training samples.
    case train
    /// 10,000 test samples (the `t10k` files).
    case test

    /// The file-name prefix (`train` or `t10k`).
    var filePrefix: String { self == .train ? "train" : "t10k" }
  }

  /// The uncompressed file names of the four distribution files (train images, train labels,
  /// test images, test labels).
  public static let fileNames = [
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
  ]

  /// The path of `name` in `directory`: the uncompressed file if it exists, otherwise the `.gz`
  /// one (which may not exist either; reading it then reports it missing).
  public static func filePath(_ name: String, in directory: String) -> String {
    FileIO.preferredPath(name, in: directory)
  }

  /// Loads one split from `directory` (the folder holding the IDX files, e.g. `<data>/mnist`).
  ///
  /// - Parameters:
  ///   - split: Training or test files.
  ///   - directory: The folder holding the files.
  ///   - name: The dataset name for messages and records; the split is appended (`mnist-train`).
  /// - Returns: Padded images on the 0…255 scale, not yet standardised.
  /// - Throws: ``DataError`` naming the file: missing, truncated, corrupt, wrong shape, image and
  ///   label counts that differ, or a label ≥ 10.
  /// - Complexity: one pass over each file; about 0.6 s for the training split in a release
  ///   build on a 2-core Xeon, most of it zlib inflating 47 MB.
  public static func load(_ split: Split, from directory: String, name: String = "mnist")
    throws(DataError) -> Dataset
  {
    let imagesPath = filePath("\(split.filePrefix)-images-idx3-ubyte", in: directory)
    let labelsPath = filePath("\(split.filePrefix)-labels-idx1-ubyte", in: directory)
    let dataset: DatasetName? = name == "mnist" ? .mnist : nil
    let labelFile = try IDXFile(contentsOfFile: labelsPath, dataset: dataset)
    guard labelFile.dimensions.count == 1 else {
      throw .unexpectedShape(
        path: labelsPath, expected: "one dimension (the sample count)",
        found: labelFile.dimensions)
    }
    let imageFile = try IDXFile(contentsOfFile: imagesPath, dataset: dataset)
    guard imageFile.dimensions.count == 3, imageFile.dimensions[1] == imageSide,
      imageFile.dimensions[2] == imageSide
    else {
      throw .unexpectedShape(
        path: imagesPath, expected: "N × 28 × 28",
        found: imageFile.dimensions)
    }
    let count = imageFile.dimensions[0]
    guard count == labelFile.dimensions[0] else {
      throw .countMismatch(
        imagesPath: imagesPath, imageCount: count, labelsPath: labelsPath,
        labelCount: labelFile.dimensions[0])
    }
    let labels = try decodeLabels(labelFile)
    let features = paddedFeatures(imageFile, count: count)
    return Dataset(
      validatedName: "\(name)-\(split.rawValue)", sampleShape: sampleShape,
      features: features, labels: labels, classCount: classCount)
  }

  /// Loads both splits from `directory`.
  ///
  /// - Throws: ``DataError`` as ``load(_:from:name:)``.
  public static func load(from directory: String, name: String = "mnist") throws(DataError)
    -> (train: Dataset, test: Dataset)
  {
    (try load(.train, from: directory, name: name), try load(.test, from: directory, name: name))
  }

  /// The labels as `Int32`, checked to be below 10.
  static func decodeLabels(_ file: IDXFile) throws(DataError) -> [Int32] {
    let payload = file.payload
    if let bad = payload.firstIndex(where: { Int($0) >= classCount }) {
      throw .labelOutOfRange(
        path: file.path, index: bad - payload.startIndex,
        label: Int(payload[bad]), classCount: classCount)
    }
    return payload.map { Int32($0) }
  }

  /// The images padded to 32 × 32 and converted to `Float`, in one pass over the bytes: every
  /// output value is written exactly once (padding rows and columns as zeros).
  static func paddedFeatures(_ file: IDXFile, count: Int) -> [Float] {
    let side = paddedSide
    let sampleSize = side * side
    return [Float](unsafeUninitializedCapacity: count * sampleSize) { buffer, initialized in
      guard let destination = buffer.baseAddress else {
        initialized = 0
        return
      }
      file.contents.withUnsafeBufferPointer { contents in
        guard let contentBase = contents.baseAddress else { return }
        var source = contentBase + file.payloadOffset
        var target = destination
        for _ in 0..<count {
          target.initialize(repeating: 0, count: padding * side + padding)
          target += padding * side + padding
          for row in 0..<imageSide {
            for column in 0..<imageSide {
              (target + column).initialize(to: Float(source[column]))
            }
            source += imageSide
            target += imageSide
            // The right padding of this row and the left padding of the next (or the bottom).
            let gap = row == imageSide - 1 ? padding + padding * side : 2 * padding
            target.initialize(repeating: 0, count: gap)
            target += gap
          }
        }
        precondition(target == destination + count * sampleSize, "padding arithmetic is off")
      }
      initialized = count * sampleSize
    }
  }
}
