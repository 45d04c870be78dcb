/// SVHN cropped digits (Netzer et al. 2011), loaded from the official MATLAB files
/// `train_32x32.mat` (73,257 samples), `test_32x32.mat` (26,032) and optionally
/// `extra_32x32.mat` (531,131) in `<data>/svhn/` (SPEC §3).
///
/// Each file holds `X`, a `uint8` array of 32 × 32 × 3 × N in MATLAB's column-major order
/// (element `(row, column, channel, n)` at `row + 32·column + 1024·channel + 3072·n`, so each
/// sample is contiguous), and `y`, an N × 1 `double` array of labels 1…10 where 10 means the
/// digit 0. Samples become channels-last `[32, 32, 3]` in YUV (``YUV``) on the 0…255 scale.
///
/// The paper trains on 100,000 samples, more than the 73,257 of `train`: ``TrainingSet`` offers
/// `train` alone or a prefix of `train` followed by `extra` (`.paper` = the first 100,000).
public enum SVHN {
  /// The side of the images.
  public static let imageSide = 32
  /// The per-sample shape, channels-last.
  public static let sampleShape = [imageSide, imageSide, 3]
  /// The number of classes.
  public static let classCount = 10
  /// Samples in `train_32x32.mat`.
  public static let trainCount = 73_257
  /// Samples in `test_32x32.mat`.
  public static let testCount = 26_032
  /// Samples in `extra_32x32.mat`.
  public static let extraCount = 531_131

  /// The files of the distribution.
  public enum Split: String, Sendable, CaseIterable {
    case train
    case test
    case extra

    /// The file name, `<split>_32x32.mat`.
    public var fileName: String { "\(rawValue)_32x32.mat" }
  }

  /// Which samples make the training set.
  public enum TrainingSet: Sendable, Hashable {
    /// `train_32x32.mat` only (73,257 samples).
    case train
    /// The first `count` samples of `train_32x32.mat` followed by `extra_32x32.mat`; `extra` is
    /// read only when `count` exceeds 73,257, and only as far as needed.
    case trainAndExtra(count: Int)

    /// The paper's 100,000 training samples (SPEC §3).
    public static let paper = TrainingSet.trainAndExtra(count: 100_000)
  }

  /// Loads one file of the distribution from `directory` (the folder holding the `.mat` files).
  ///
  /// - Parameters:
  ///   - split: Which file.
  ///   - directory: The folder, e.g. `<data>/svhn`.
  ///   - limit: Load only the first `limit` samples (inflating no more than needed).
  /// - Returns: YUV samples, channels-last `[32, 32, 3]`, labels 0…9.
  /// - Throws: ``DataError`` naming the file.
  public static func load(_ split: Split, from directory: String, limit: Int? = nil)
    throws(DataError) -> Dataset
  {
    try load(
      contentsOfFile: FileIO.join(directory, split.fileName), name: "svhn-\(split.rawValue)",
      limit: limit, dataset: .svhn)
  }

  /// Loads the training set described by `set` from `directory`.
  ///
  /// - Throws: ``DataError`` naming the file, or ``DataError/invalidDataset(name:reason:)`` when
  ///   more samples are requested than `train` and `extra` hold together.
  public static func loadTraining(_ set: TrainingSet, from directory: String) throws(DataError)
    -> Dataset
  {
    switch set {
    case .train:
      return try load(.train, from: directory)
    case .trainAndExtra(let count):
      guard count > 0, count <= trainCount + extraCount else {
        throw .invalidDataset(
          name: "svhn-train",
          reason: "\(count) training samples requested; "
            + "train and extra hold 1 … \(trainCount + extraCount)")
      }
      let train = try load(.train, from: directory, limit: count)
      guard count > train.count else { return train }
      let extra = try load(.extra, from: directory, limit: count - train.count)
      return try Dataset(
        name: "svhn-train+extra", sampleShape: sampleShape,
        features: train.features + extra.features, labels: train.labels + extra.labels,
        classCount: classCount)
    }
  }

  /// Loads an SVHN-format `.mat` file at `path` (variables `X` and `y`).
  ///
  /// - Parameters:
  ///   - path: The file.
  ///   - name: The dataset name for messages and records.
  ///   - limit: Load only the first `limit` samples.
  ///   - dataset: Named in the message when the file is missing.
  /// - Returns: YUV samples, channels-last `[32, 32, 3]`, labels 0…9.
  /// - Throws: ``DataError`` naming the file: missing, truncated, corrupt, a missing variable,
  ///   wrong dimensions, counts that differ, or a label that is not a digit 1…10.
  /// - Complexity: one read and inflate of the file, one pass over the pixels.
  public static func load(
    contentsOfFile path: String, name: String, limit: Int? = nil, dataset: DatasetName? = nil
  ) throws(DataError) -> Dataset {
    var limits: [String: Int] = [:]
    if let limit { limits["X"] = limit }
    let file = try MATFile(
      contentsOfFile: path, names: ["X", "y"], lastDimensionLimits: limits, dataset: dataset)
    guard let images = file["X"] else { throw .missingVariable(path: path, name: "X") }
    guard let labelArray = file["y"] else { throw .missingVariable(path: path, name: "y") }
    let dims = images.dimensions
    guard dims.count == 4, dims[0] == imageSide, dims[1] == imageSide, dims[2] == 3 else {
      throw .unexpectedShape(path: path, expected: "X of 32 × 32 × 3 × N", found: dims)
    }
    let total = dims[3]
    guard labelArray.elementCount == total else {
      throw .countMismatch(
        imagesPath: path + " (X)", imageCount: total,
        labelsPath: path + " (y)", labelCount: labelArray.elementCount)
    }
    let count = images.loadedCount / (imageSide * imageSide * 3)
    let labels = try decodeLabels(labelArray.doubleValues().prefix(count), path: path)
    let features = try yuvFeatures(images, count: count, path: path)
    return Dataset(
      validatedName: name, sampleShape: sampleShape, features: features, labels: labels,
      classCount: classCount)
  }

  /// Labels 1…10 as digits 0…9 (10 → 0).
  static func decodeLabels(_ values: ArraySlice<Double>, path: String) throws(DataError)
    -> [Int32]
  {
    var labels = [Int32]()
    labels.reserveCapacity(values.count)
    for (index, value) in values.enumerated() {
      guard value >= 1, value <= 10, value.rounded() == value else {
        throw .malformedFile(
          path: path, reason: "y(\(index + 1)) = \(value) is not a digit label 1…10")
      }
      labels.append(Int32(value) % 10)
    }
    return labels
  }

  /// The images converted from column-major RGB bytes to channels-last YUV floats.
  static func yuvFeatures(_ images: MATArray, count: Int, path: String) throws(DataError)
    -> [Float]
  {
    let fast = images.withUInt8Elements { bytes in
      yuvFeatures(fromColumnMajor: bytes, count: count)
    }
    if let fast { return fast }
    // Another storage type (a re-saved file): promote, check, then take the byte path.
    var bytes = [UInt8]()
    bytes.reserveCapacity(images.loadedCount)
    for value in images.doubleValues() {
      guard value >= 0, value <= 255, value.rounded() == value else {
        throw .malformedFile(path: path, reason: "X holds \(value), not a 0…255 pixel value")
      }
      bytes.append(UInt8(value))
    }
    return bytes.withUnsafeBufferPointer { yuvFeatures(fromColumnMajor: $0, count: count) }
  }

  /// Column-major `32 × 32 × 3 × count` RGB bytes to channels-last YUV, one pass.
  static func yuvFeatures(fromColumnMajor bytes: UnsafeBufferPointer<UInt8>, count: Int)
    -> [Float]
  {
    let side = imageSide
    let plane = side * side
    let sampleSize = plane * 3
    precondition(bytes.count >= count * sampleSize, "X holds fewer bytes than \(count) samples")
    return [Float](unsafeUninitializedCapacity: count * sampleSize) { buffer, initialized in
      guard let output = buffer.baseAddress, let input = bytes.baseAddress else {
        initialized = 0
        return
      }
      for sample in 0..<count {
        let source = input + sample * sampleSize
        let destination = output + sample * sampleSize
        for row in 0..<side {
          for column in 0..<side {
            let pixel = row + side * column
            let yuv = YUV.fromRGB(
              red: Float(source[pixel]), green: Float(source[pixel + plane]),
              blue: Float(source[pixel + 2 * plane]))
            let target = destination + (row * side + column) * 3
            target[0] = yuv.y
            target[1] = yuv.u
            target[2] = yuv.v
          }
        }
      }
      initialized = count * sampleSize
    }
  }
}
