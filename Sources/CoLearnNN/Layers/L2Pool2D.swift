import CoLearnTensor

/// Spatial L2 pooling over square windows: square, average, square root (SPEC §2 `svhn-cnn`).
///
/// Shapes: x [B, H, W, C] → y [B, H′, W′, C] (NHWC), with H′ = ⌊(H − size)/stride⌋ + 1 and
/// W′ = ⌊(W − size)/stride⌋ + 1; leftover rows and columns are dropped, as in ``MaxPool2D``.
///
/// Forward: y(h′, w′, c) = √( (1/size²) · Σ_{0 ≤ i, j < size} x(h′·stride + i, w′·stride + j, c)² ).
///
/// SPEC §2 says "square, average, square root", so this averages. Torch7's
/// `nn.SpatialLPPooling(C, 2, size, size, stride, stride)` sums instead (it is
/// `Power(2) → SpatialAveragePooling → MulConstant(size²) → Power(1/2)`), which is this layer
/// times the constant `size` (2 for svhn-cnn); the following SubtractiveNormalization and
/// convolution see a rescaled input, nothing else changes. The peer reference
/// (`/work/shared/peers/models.py`, `L2Pool`) averages too, and adds 1e-12 inside the root; this
/// layer adds no epsilon (see below).
///
/// Backward: ∂x(p) = Σ over the windows containing p of ∂y · x(p) / (size² · y), and 0 for a
/// window with y = 0 (then every x in it is 0; the one-sided limit of the gradient does not exist,
/// 0 is the subgradient of minimum norm). No epsilon is needed: within a window
/// |x(p)| ≤ size · y, so |x(p) / (size² · y)| ≤ 1/size and the gradient stays bounded as y → 0.
/// With stride < size the windows overlap and the contributions accumulate.
///
/// Cost: O(B · H′ · W′ · size² · C) forward and backward, innermost over the contiguous channels.
/// Nothing is allocated in forward or backward.
public final class L2Pool2D: ParameterFreeLayer {
  public let inputShape: TensorShape
  public let outputShape: TensorShape
  /// The window height and width.
  public let size: Int
  /// The step between windows, vertically and horizontally.
  public let stride: Int

  /// Per-channel ∂y / (size² · y) of the window being back-propagated (C values).
  private let scales: FloatBuffer

  /// An L2-pooling layer over `input` (an image shape `[H, W, C]`).
  ///
  /// - Parameters:
  ///   - input: the per-sample input shape, channels-last.
  ///   - size: the window height and width (≥ 1, at most H and W).
  ///   - stride: the step between windows (≥ 1).
  public init(input: TensorShape, size: Int, stride: Int) {
    inputShape = input
    self.size = size
    self.stride = stride
    outputShape = input.pooled(size: size, stride: stride, for: "L2Pool2D")
    scales = FloatBuffer(count: input.channels * WorkerPool.shared.maximumWidth)
  }

  public var description: String { "L2Pool2D(\(size)×\(size), stride \(stride))" }
  public var forwardMultiplyAdds: Int { 0 }
  public func reserve(batchSize: Int) {}

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let width = inputShape.width
    let channels = inputShape.channels
    let outputWidth = outputShape.width
    let inputCount = inputShape.count
    let outputCount = outputShape.count
    let inverseArea = 1 / Float(size * size)
    forEachRowChunk(batchSize: batchSize) { _, b, rows in
      let x = input + b * inputCount
      let y = output + b * outputCount
      for oh in rows {
        for ow in 0..<outputWidth {
          let yw = y + (oh * outputWidth + ow) * channels
          yw.update(repeating: 0, count: channels)
          for i in 0..<size {
            for j in 0..<size {
              let xw = x + ((oh * stride + i) * width + ow * stride + j) * channels
              for c in 0..<channels {
                yw[c] += xw[c] * xw[c]
              }
            }
          }
          for c in 0..<channels {
            yw[c] = (yw[c] * inverseArea).squareRoot()
          }
        }
      }
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let height = inputShape.height
    let width = inputShape.width
    let channels = inputShape.channels
    let outputHeight = outputShape.height
    let outputWidth = outputShape.width
    let inputCount = inputShape.count
    let outputCount = outputShape.count
    let rowValues = width * channels
    let area = Float(size * size)
    forEachRowChunk(batchSize: batchSize) { share, b, rows in
      let scale = scales.pointer + share * channels
      let x = input + b * inputCount
      let y = output + b * outputCount
      let dx = inputGradient + b * inputCount
      let dy = outputGradient + b * outputCount
      // This chunk's input rows: those its windows start in, and for the last output row every
      // row below (the ones no window reaches get 0). Disjoint between chunks: a chunk only
      // splits a sample when windows do not overlap.
      let firstRow = rows.lowerBound * stride
      let endRow = rows.upperBound == outputHeight ? height : rows.upperBound * stride
      (dx + firstRow * rowValues).update(repeating: 0, count: (endRow - firstRow) * rowValues)
      for oh in rows {
        for ow in 0..<outputWidth {
          let window = (oh * outputWidth + ow) * channels
          let yw = y + window
          let dyw = dy + window
          for c in 0..<channels {
            let value = yw[c]
            scale[c] = value > 0 ? dyw[c] / (area * value) : 0
          }
          for i in 0..<size {
            for j in 0..<size {
              let offset = ((oh * stride + i) * width + ow * stride + j) * channels
              let xw = x + offset
              let dxw = dx + offset
              for c in 0..<channels {
                dxw[c] += scale[c] * xw[c]
              }
            }
          }
        }
      }
    }
  }

  /// Runs `body(share, sample, output rows)` over the batch: whole samples split between the
  /// cores, or at mini-batch 1 (when windows do not overlap) the sample's output rows, so that
  /// each core pools — and back-propagates into — the rows of the input that the layer before
  /// produced on that same core (a direct convolution with its fused tanh splits its positions
  /// in whole six-position tiles, which end within six positions of these rows; svhn-cnn's first
  /// splits at position 390 of 784), instead of reading half of them from the other core's cache.
  private func forEachRowChunk(
    batchSize: Int, _ body: (_ share: Int, _ sample: Int, _ rows: Range<Int>) -> Void
  ) {
    let outputHeight = outputShape.height
    let inputCount = inputShape.count
    if batchSize == 1 && stride >= size {
      // Two operations an input value each way (a square and a sum; a product and a sum).
      parallelChunks(count: outputHeight, costPerItem: 2 * inputCount / outputHeight) {
        share, rows in body(share, 0, rows)
      }
      return
    }
    parallelChunks(count: batchSize, costPerItem: inputCount) { share, samples in
      for b in samples { body(share, b, 0..<outputHeight) }
    }
  }
}
