/// Where the patches of a stride-s, unpadded convolution lie in a channels-last batch, for the
/// direct convolution kernels (CoLearnNN's `DirectConvolution` and its AVX-512 twins in
/// `CoLearnAVX512`, which read the same geometry).
///
/// Output position `position` of the batch is sample position / P, output row and column
/// (p / W′, p mod W′); its patch starts at `corner(x, position)`, and the patch's k-th value
/// lies `offsets[k]` further on.
public struct ConvolutionPatches: Sendable {
  /// Values per sample, H·W·C.
  public let imageSize: Int
  /// The distance between the first values of vertically neighbouring patches, s·W·C.
  public let rowStep: Int
  /// The distance between the first values of horizontally neighbouring patches, s·C.
  public let positionStep: Int
  public let outputHeight: Int
  public let outputWidth: Int
  /// O, the output channels: a multiple of 16 (of 64 for the AVX-512 kernels).
  public let outputChannels: Int
  /// K = k·k·C.
  public let patchSize: Int

  public init(
    imageSize: Int, rowStep: Int, positionStep: Int, outputHeight: Int, outputWidth: Int,
    outputChannels: Int, patchSize: Int
  ) {
    self.imageSize = imageSize
    self.rowStep = rowStep
    self.positionStep = positionStep
    self.outputHeight = outputHeight
    self.outputWidth = outputWidth
    self.outputChannels = outputChannels
    self.patchSize = patchSize
  }

  /// P = H′·W′, the output positions of one sample.
  @inlinable public var positions: Int { outputHeight &* outputWidth }

  /// The first input value of the patch of output position `position` of the batch.
  @inlinable @inline(__always)
  public func corner(_ x: UnsafePointer<Float>, _ position: Int) -> UnsafePointer<Float> {
    let (b, p) = position.quotientAndRemainder(dividingBy: positions)
    let (oh, ow) = p.quotientAndRemainder(dividingBy: outputWidth)
    return x + (b &* imageSize &+ oh &* rowStep &+ ow &* positionStep)
  }
}
