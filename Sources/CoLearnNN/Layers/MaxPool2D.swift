import CoLearnTensor

/// Spatial max pooling over square windows (Torch7 `nn.SpatialMaxPooling(size, size, stride,
/// stride)`, SPEC §2 `mnist-cnn`).
///
/// Shapes: x [B, H, W, C] → y [B, H′, W′, C] (NHWC), with H′ = ⌊(H − size)/stride⌋ + 1 and
/// W′ = ⌊(W − size)/stride⌋ + 1. Rows and columns left over after the last whole window are
/// dropped, as Torch7 does without `:ceil()`: 28×28 with size 3, stride 3 gives 9×9 (row and
/// column 27 are never read) and 5×5 with size 2, stride 2 gives 2×2.
///
/// Forward: y(h′, w′, c) = max over 0 ≤ i, j < size of x(h′·stride + i, w′·stride + j, c). The
/// position of the maximum is saved per output value; ties go to the first maximum in row-major
/// window order (smallest i, then smallest j).
///
/// Backward: ∂x is zero except at the saved positions, which receive the ∂y of every window whose
/// maximum they are. With stride < size the windows overlap and one input can be the maximum of
/// several windows, so the scatter accumulates (+=); leftover rows and columns get 0.
///
/// Cost: O(B · H′ · W′ · size² · C) comparisons forward, O(B · (H·W + H′·W′) · C) backward.
/// Forward loops over channels outside the window scan (see the comment there); backward zeroes ∂x
/// and scatters. Nothing is allocated after ``reserve(batchSize:)``.
public final class MaxPool2D: ParameterFreeLayer {
  public let inputShape: TensorShape
  public let outputShape: TensorShape
  /// The window height and width.
  public let size: Int
  /// The step between windows, vertically and horizontally.
  public let stride: Int

  /// The argmax of every output value, as an offset into its sample's input
  /// (`(h · W + w) · C + c`); `reservedBatchSize × outputShape.count` entries.
  private var argmax = IndexBuffer(count: 0)
  private var reservedBatchSize = 0
  /// The offsets of the size² window elements from the window's corner, row-major.
  private let windowOffsets: IndexBuffer

  /// A max-pooling layer over `input` (an image shape `[H, W, C]`).
  ///
  /// - Parameters:
  ///   - input: the per-sample input shape, channels-last.
  ///   - size: the window height and width (≥ 1, at most H and W).
  ///   - stride: the step between windows (≥ 1).
  public init(input: TensorShape, size: Int, stride: Int) {
    precondition(
      input.count <= Int(Int32.max), "MaxPool2D input \(input) is too large for Int32 offsets")
    inputShape = input
    self.size = size
    self.stride = stride
    outputShape = input.pooled(size: size, stride: stride, for: "MaxPool2D")
    windowOffsets = IndexBuffer(count: size * size)
    for i in 0..<size {
      for j in 0..<size {
        windowOffsets.pointer[i * size + j] = Int32((i * input.width + j) * input.channels)
      }
    }
  }

  public var description: String { "MaxPool2D(\(size)×\(size), stride \(stride))" }
  public var forwardMultiplyAdds: Int { 0 }

  public func reserve(batchSize: Int) {
    guard batchSize > reservedBatchSize else { return }
    argmax = IndexBuffer(count: batchSize * outputShape.count)
    reservedBatchSize = batchSize
  }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    precondition(
      batchSize <= reservedBatchSize,
      "MaxPool2D: batch \(batchSize) exceeds reserved \(reservedBatchSize); call reserve first")
    let width = inputShape.width
    let channels = inputShape.channels
    let outputHeight = outputShape.height
    let outputWidth = outputShape.width
    let inputCount = inputShape.count
    let outputCount = outputShape.count
    let windowOffsets = windowOffsets.pointer
    let windowCount = size * size
    parallelChunks(count: batchSize, costPerItem: outputCount * windowCount) { _, samples in
      for b in samples {
        let x = input + b * inputCount
        let y = output + b * outputCount
        let positions = argmax.pointer + b * outputCount
        for oh in 0..<outputHeight {
          for ow in 0..<outputWidth {
            let window = (oh * outputWidth + ow) * channels
            let corner = ((oh * stride) * width + ow * stride) * channels
            poolWindow(
              x + corner, corner: corner, into: y + window, positions: positions + window,
              channels: channels, offsets: windowOffsets, count: windowCount)
          }
        }
      }
    }
  }

  /// The maxima of one window for every channel: channels in blocks of 8 as SIMD vectors (the
  /// running maximum and its position stay in registers; `.>` keeps the first maximum in
  /// row-major window order on ties, like the scalar loop), the remaining channels one by one.
  @inline(__always)
  private func poolWindow(
    _ xc: UnsafePointer<Float>, corner: Int, into yw: UnsafeMutablePointer<Float>,
    positions pw: UnsafeMutablePointer<Int32>, channels: Int, offsets: UnsafePointer<Int32>,
    count windowCount: Int
  ) {
    let lanes = SIMD8<Int32>(0, 1, 2, 3, 4, 5, 6, 7)
    var c = 0
    while c + 8 <= channels {
      var best = UnsafeRawPointer(xc + c).loadUnaligned(as: SIMD8<Float>.self)
      var position = SIMD8<Int32>(repeating: 0)
      for k in 1..<windowCount {
        let offset = offsets[k]
        let value = UnsafeRawPointer(xc + Int(offset) + c).loadUnaligned(as: SIMD8<Float>.self)
        let larger = value .> best
        best.replace(with: value, where: larger)
        position.replace(with: SIMD8(repeating: offset), where: larger)
      }
      UnsafeMutableRawPointer(yw + c).storeBytes(of: best, as: SIMD8<Float>.self)
      let absolute = position &+ SIMD8(repeating: Int32(truncatingIfNeeded: corner + c)) &+ lanes
      UnsafeMutableRawPointer(pw + c).storeBytes(of: absolute, as: SIMD8<Int32>.self)
      c += 8
    }
    while c < channels {
      var best = xc[c]
      var position = 0
      for k in 1..<windowCount {
        let offset = Int(offsets[k])
        let value = xc[offset &+ c]
        if value > best {
          best = value
          position = offset
        }
      }
      yw[c] = best
      pw[c] = Int32(truncatingIfNeeded: corner &+ position &+ c)
      c += 1
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let inputCount = inputShape.count
    let outputCount = outputShape.count
    parallelChunks(count: batchSize, costPerItem: inputCount) { _, samples in
      (inputGradient + samples.lowerBound * inputCount).update(
        repeating: 0, count: samples.count * inputCount)
      for b in samples {
        let dx = inputGradient + b * inputCount
        let dy = outputGradient + b * outputCount
        let positions = argmax.pointer + b * outputCount
        // Accumulate: with overlapping windows one input may be the maximum of several.
        for o in 0..<outputCount {
          dx[Int(positions[o])] += dy[o]
        }
      }
    }
  }
}

