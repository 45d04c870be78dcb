/// Samples read from array files (`.npz`, `.npy`, IDX) before a schema maps them: raw feature
/// values in channels-last sample shape and one integer class key per sample.
///
/// The array's first axis is the sample axis; the rest becomes the sample shape:
/// `[N]` → `[1]`, `[N, F]` → `[F]`, `[N, H, W]` → `[H, W, 1]` (one channel, as colearn's image
/// layers expect), `[N, H, W, C]` → `[H, W, C]` (channels-last already). Class keys are the
/// label array's integers; ``DatasetSchema`` maps them to class indices `0..<K` in numeric order.
///
/// Threading: a value type, `Sendable`.
public struct ArraySamples: Sendable {
  /// The file or directory the samples came from, for messages.
  public var path: String
  /// The per-sample shape, channels-last.
  public var sampleShape: [Int]
  /// `count × sampleShape.product` raw values, sample-major.
  public var features: [Float]
  /// One integer label per sample, as stored in the file.
  public var labels: [Int64]

  /// The number of samples.
  public var count: Int { labels.count }

  /// Creates samples after checking that the arrays fit together.
  ///
  /// - Throws: ``DataError/invalidDataset(name:reason:)``.
  public init(path: String, sampleShape: [Int], features: [Float], labels: [Int64])
    throws(DataError)
  {
    let size = sampleShape.reduce(1, *)
    guard !sampleShape.isEmpty, size > 0, features.count == labels.count * size else {
      throw .invalidDataset(
        name: path,
        reason: "\(features.count) values do not make \(labels.count) samples of shape "
          + "\(sampleShape)")
    }
    self.path = path
    self.sampleShape = sampleShape
    self.features = features
    self.labels = labels
  }

  /// The samples at `indices`, in that order.
  func subset(_ indices: [Int]) -> ArraySamples {
    let size = sampleShape.reduce(1, *)
    var newFeatures: [Float] = []
    newFeatures.reserveCapacity(indices.count * size)
    for index in indices { newFeatures += features[index * size..<(index + 1) * size] }
    var copy = self
    copy.features = newFeatures
    copy.labels = indices.map { labels[$0] }
    return copy
  }

  /// Pairs a feature array `x` with a label array `y` (1-D, or `[N, 1]`).
  ///
  /// - Throws: ``DataError/unsupportedArray(path:array:reason:)`` naming the array whose shape
  ///   does not fit.
  public init(x: NPYArray, y: NPYArray) throws(DataError) {
    guard let sampleCount = x.shape.first, x.shape.count <= 4 else {
      throw .unsupportedArray(
        path: x.path, array: x.name,
        reason: "shape \(x.shape) is not samples × features ([N, F]), images ([N, H, W]) or "
          + "images with channels ([N, H, W, C])")
    }
    let rest = Array(x.shape.dropFirst())
    let shape: [Int]
    switch rest.count {
    case 0: shape = [1]
    case 2: shape = rest + [1]
    default: shape = rest
    }
    guard shape.allSatisfy({ $0 > 0 }) else {
      throw .unsupportedArray(path: x.path, array: x.name, reason: "shape \(x.shape) has an empty axis")
    }
    let labelCount = y.shape.first ?? 1
    guard y.shape.count == 1 || (y.shape.count == 2 && y.shape[1] == 1) else {
      throw .unsupportedArray(
        path: y.path, array: y.name,
        reason: "shape \(y.shape) is not one label per sample ([N] or [N, 1])")
    }
    guard labelCount == sampleCount else {
      throw .unsupportedArray(
        path: y.path, array: y.name,
        reason: "\(labelCount) labels for the \(sampleCount) samples of '\(x.name)'; the two "
          + "arrays must have the same first dimension")
    }
    let features = x.floatValues()
    if x.elementType.isFloatingPoint, let bad = features.firstIndex(where: { !$0.isFinite }) {
      throw .unsupportedArray(
        path: x.path, array: x.name,
        reason: "element \(bad) (sample \(bad / max(1, shape.reduce(1, *)))) is "
          + "\(features[bad]); replace NaN and infinite values before training")
    }
    try self.init(path: x.path, sampleShape: shape, features: features, labels: y.integerValues())
  }

  /// The training and (if present) test samples of an `.npz` archive: `x_train`/`y_train` and
  /// optionally `x_test`/`y_test`, or else `x`/`y`.
  ///
  /// - Throws: ``DataError/missingArray(path:array:available:)`` when neither pair is present
  ///   (or `x_test` comes without `y_test`), and the decoding errors of ``NPYArray``.
  public static func load(npz path: String) throws(DataError)
    -> (train: ArraySamples, test: ArraySamples?)
  {
    let archive = try NPZArchive(contentsOfFile: path)
    let prefix: (x: String, y: String)
    if archive.contains("x_train") {
      prefix = ("x_train", "y_train")
    } else if archive.contains("x") {
      prefix = ("x", "y")
    } else {
      throw .missingArray(path: path, array: "x_train", available: archive.arrayNames)
    }
    let train = try ArraySamples(
      x: archive.array(named: prefix.x), y: archive.array(named: prefix.y))
    var test: ArraySamples?
    if archive.contains("x_test") || archive.contains("y_test") {
      test = try ArraySamples(x: archive.array(named: "x_test"), y: archive.array(named: "y_test"))
    }
    return (train, test)
  }

  /// Samples from two `.npy` files: features and labels.
  ///
  /// - Throws: the decoding errors of ``NPYArray`` and the shape checks of
  ///   ``init(x:y:)``.
  public static func load(npyFeatures xPath: String, labels yPath: String) throws(DataError)
    -> ArraySamples
  {
    try ArraySamples(x: NPYArray(contentsOfFile: xPath), y: NPYArray(contentsOfFile: yPath))
  }

  /// The IDX pairs of an MNIST-layout directory: `train-images-idx3-ubyte` and
  /// `train-labels-idx1-ubyte` (raw or `.gz`), and the `t10k-` pair if present. Images are
  /// `[N, H, W]` (→ `[H, W, 1]`) or `[N, H, W, C]` unsigned bytes, kept at their size (MNIST
  /// itself is padded to 32 × 32 by `mnist`, not by `idx:`).
  ///
  /// - Throws: ``DataError`` naming the file: missing, damaged, wrong dimensions, or image and
  ///   label counts that differ.
  public static func load(idxDirectory directory: String) throws(DataError)
    -> (train: ArraySamples, test: ArraySamples?)
  {
    let train = try loadIDXPair(prefix: "train", in: directory)
    let testImages = FileIO.preferredPath("t10k-images-idx3-ubyte", in: directory)
    let testLabels = FileIO.preferredPath("t10k-labels-idx1-ubyte", in: directory)
    let hasTest = FileIO.fileExists(atPath: testImages) || FileIO.fileExists(atPath: testLabels)
    return (train, hasTest ? try loadIDXPair(prefix: "t10k", in: directory) : nil)
  }

  /// One `<prefix>-images-idx3-ubyte` / `<prefix>-labels-idx1-ubyte` pair.
  static func loadIDXPair(prefix: String, in directory: String) throws(DataError) -> ArraySamples {
    let imagesPath = FileIO.preferredPath("\(prefix)-images-idx3-ubyte", in: directory)
    let labelsPath = FileIO.preferredPath("\(prefix)-labels-idx1-ubyte", in: directory)
    let images = try IDXFile(contentsOfFile: imagesPath)
    let labels = try IDXFile(contentsOfFile: labelsPath)
    guard images.dimensions.count == 3 || images.dimensions.count == 4,
      images.dimensions.dropFirst().allSatisfy({ $0 > 0 })
    else {
      throw .unexpectedShape(
        path: imagesPath, expected: "N × H × W or N × H × W × C", found: images.dimensions)
    }
    guard labels.dimensions.count == 1 else {
      throw .unexpectedShape(
        path: labelsPath, expected: "one dimension (the sample count)", found: labels.dimensions)
    }
    guard images.dimensions[0] == labels.dimensions[0] else {
      throw .countMismatch(
        imagesPath: imagesPath, imageCount: images.dimensions[0], labelsPath: labelsPath,
        labelCount: labels.dimensions[0])
    }
    let rest = Array(images.dimensions.dropFirst())
    return try ArraySamples(
      path: imagesPath, sampleShape: rest.count == 2 ? rest + [1] : rest,
      features: images.payload.map { Float($0) }, labels: labels.payload.map { Int64($0) })
  }
}
