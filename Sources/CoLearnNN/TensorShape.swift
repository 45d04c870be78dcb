/// The shape of one sample's activation, channels-last: `[height, width, channels]` for images and
/// `[features]` for vectors. Batches add a leading dimension that is never stored here.
///
/// Channels-last (NHWC) lets a convolution over a whole mini-batch be one GEMM whose output is
/// already in the layout the next layer reads (see docs/ARCHITECTURE.md).
public struct TensorShape: Hashable, Sendable, CustomStringConvertible {
  /// The dimensions, outermost first.
  public var dimensions: [Int]

  /// A shape from its dimensions, outermost first.
  public init(_ dimensions: Int...) {
    self.init(dimensions: dimensions)
  }

  /// A shape from its dimensions, outermost first.
  public init(dimensions: [Int]) {
    precondition(dimensions.allSatisfy { $0 > 0 }, "shape dimensions must be positive: \(dimensions)")
    self.dimensions = dimensions
  }

  /// An image shape.
  public static func image(height: Int, width: Int, channels: Int) -> TensorShape {
    TensorShape(height, width, channels)
  }

  /// The number of values in one sample.
  public var count: Int { dimensions.reduce(1, *) }

  /// The height of an image shape.
  public var height: Int {
    precondition(dimensions.count == 3, "\(self) is not an image shape")
    return dimensions[0]
  }

  /// The width of an image shape.
  public var width: Int {
    precondition(dimensions.count == 3, "\(self) is not an image shape")
    return dimensions[1]
  }

  /// The channel count of an image shape.
  public var channels: Int {
    precondition(dimensions.count == 3, "\(self) is not an image shape")
    return dimensions[2]
  }

  public var description: String {
    dimensions.map(String.init).joined(separator: "×")
  }

  /// The shape after pooling this image shape with `size`×`size` windows moved by `stride`:
  /// ⌊(H − size)/stride⌋ + 1 rows and columns, leftover rows and columns dropped (Torch7 without
  /// `:ceil()`), channels unchanged.
  ///
  /// - Precondition: size ≥ 1, stride ≥ 1 and the window fits; `layer` names the caller in the
  ///   failure message.
  public func pooled(size: Int, stride: Int, for layer: String) -> TensorShape {
    precondition(size >= 1 && stride >= 1, "\(layer) needs size ≥ 1 and stride ≥ 1")
    precondition(
      height >= size && width >= size,
      "\(layer) window \(size)×\(size) does not fit in input \(self)")
    return .image(
      height: (height - size) / stride + 1, width: (width - size) / stride + 1,
      channels: channels)
  }
}
