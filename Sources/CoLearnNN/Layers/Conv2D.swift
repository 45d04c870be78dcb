import CoLearnTensor

/// A 2-D convolution with stride 1 and no padding (Torch7 `nn.SpatialConvolution`), lowered to
/// one GEMM per batch through im2col in the channels-last layout.
///
/// Parameters, in order: `weight` [outputChannels, kernel, kernel, inputChannels] (so that one
/// weight row matches one im2col row), `bias` [outputChannels].
///
/// Shapes: x [B, H, W, C] → y [B, H−k+1, W−k+1, O]. With P = (H−k+1)(W−k+1) output positions and
/// K = k·k·C:
/// - forward: col [B·P, K] = im2col(x); y [B·P, O] = col·Wᵀ + b;
/// - backward: ∂W = ∂yᵀ·col; ∂b = Σ_rows ∂y; ∂col = ∂y·W; ∂x = col2im(∂col).
///
/// The im2col matrix is the one large workspace (B·P·K floats); backward reuses it for ∂col.
public final class Conv2D: Layer {
  public let inputShape: TensorShape
  public let outputShape: TensorShape
  /// The number of output channels O.
  public let outputChannels: Int
  /// The kernel side k.
  public let kernelSize: Int

  private let inputHeight: Int
  private let inputWidth: Int
  private let inputChannels: Int
  private let outputHeight: Int
  private let outputWidth: Int
  /// K = k·k·C, the length of one im2col row.
  private let patchSize: Int
  private var columns = FloatBuffer(count: 0)
  /// ∂W staged by the fused SGD path of a layer that also propagates ∂x.
  private var weightScratch = FloatBuffer(count: 0)

  /// A convolution of `input` ([H, W, C]) with `outputChannels` filters of side `kernelSize`.
  public init(input: TensorShape, outputChannels: Int, kernelSize: Int) {
    precondition(input.dimensions.count == 3, "Conv2D needs an image input, got \(input)")
    precondition(
      kernelSize >= 1 && kernelSize <= input.height && kernelSize <= input.width,
      "kernel \(kernelSize) does not fit input \(input)")
    inputShape = input
    inputHeight = input.height
    inputWidth = input.width
    inputChannels = input.channels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    outputHeight = input.height - kernelSize + 1
    outputWidth = input.width - kernelSize + 1
    patchSize = kernelSize * kernelSize * input.channels
    outputShape = .image(height: outputHeight, width: outputWidth, channels: outputChannels)
  }

  public var description: String {
    "Conv2D(\(inputChannels)→\(outputChannels), \(kernelSize)×\(kernelSize))"
  }

  public var parameterShapes: [ParameterShape] {
    [
      ParameterShape(
        name: "weight", dimensions: [outputChannels, kernelSize, kernelSize, inputChannels]),
      ParameterShape(name: "bias", dimensions: [outputChannels]),
    ]
  }

  private var positions: Int { outputHeight * outputWidth }

  public var forwardMultiplyAdds: Int { positions * patchSize * outputChannels }

  public func reserve(batchSize: Int) {
    let needed = batchSize * positions * patchSize
    if columns.count < needed { columns = FloatBuffer(count: needed) }
    if weightScratch.count == 0 { weightScratch = FloatBuffer(count: outputChannels * patchSize) }
  }

  /// Torch7 default: every weight and bias ~ U(−1/√(k·k·C), 1/√(k·k·C)).
  public func initialize<G: RandomNumberGenerator>(
    _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout G
  ) {
    let bound = 1 / Float(patchSize).squareRoot()
    fillUniform(parameters, lower: -bound, upper: bound, using: &generator)
  }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let rows = batchSize * positions
    precondition(columns.count >= rows * patchSize, "Conv2D used before reserve(batchSize:)")
    let col = columns.pointer
    imageToColumns(input, batchSize: batchSize, into: col)
    let weight = parameters
    let bias = parameters + outputChannels * patchSize
    parallelChunks(count: rows, costPerItem: outputChannels) { _, range in
      for row in range {
        (output + row * outputChannels).update(from: bias, count: outputChannels)
      }
    }
    BLAS.gemm(
      .none, .transposed, m: rows, n: outputChannels, k: patchSize,
      a: col, lda: patchSize, b: weight, ldb: patchSize, beta: 1, c: output, ldc: outputChannels)
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    let rows = batchSize * positions
    // ∂W [O, K] = ∂yᵀ [O, rows] · col [rows, K]
    BLAS.gemm(
      .transposed, .none, m: outputChannels, n: patchSize, k: rows,
      a: outputGradient, lda: outputChannels, b: columns.pointer, ldb: patchSize,
      c: parameterGradients, ldc: patchSize)
    let biasGradient = parameterGradients + outputChannels * patchSize
    biasGradient.update(repeating: 0, count: outputChannels)
    addColumnSums(of: outputGradient, rows: rows, scale: 1, into: biasGradient)
    propagateInputGradient(
      outputGradient, into: inputGradient, batchSize: batchSize, weight: parameters)
  }

  /// W −= rate · ∂yᵀ·col (one GEMM with alpha = −rate, beta = 1) and b −= rate · Σ ∂y, after
  /// ∂x has been computed with the old W.
  public func backwardApplyingSGD(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafeMutablePointer<Float>, rate: Float
  ) {
    let rows = batchSize * positions
    if inputGradient == nil {
      // First layer: the update is the weight-gradient GEMM itself.
      BLAS.gemm(
        .transposed, .none, m: outputChannels, n: patchSize, k: rows, alpha: -rate,
        a: outputGradient, lda: outputChannels, b: columns.pointer, ldb: patchSize, beta: 1,
        c: parameters, ldc: patchSize)
    } else {
      // ∂W must be computed from col before ∂col overwrites it, and W must stay old until ∂col
      // is computed: stage ∂W in the gradient scratch, then apply it.
      BLAS.gemm(
        .transposed, .none, m: outputChannels, n: patchSize, k: rows,
        a: outputGradient, lda: outputChannels, b: columns.pointer, ldb: patchSize,
        c: weightScratch.pointer, ldc: patchSize)
      propagateInputGradient(
        outputGradient, into: inputGradient, batchSize: batchSize, weight: parameters)
      BLAS.axpy(
        count: outputChannels * patchSize, alpha: -rate, x: weightScratch.pointer, y: parameters)
    }
    addColumnSums(
      of: outputGradient, rows: rows, scale: -rate, into: parameters + outputChannels * patchSize)
  }

  /// ∂col = ∂y·W into the im2col workspace, then ∂x = col2im(∂col); nothing for a first layer.
  private func propagateInputGradient(
    _ outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, weight: UnsafePointer<Float>
  ) {
    guard let inputGradient else { return }
    let rows = batchSize * positions
    BLAS.gemm(
      .none, .none, m: rows, n: patchSize, k: outputChannels,
      a: outputGradient, lda: outputChannels, b: weight, ldb: patchSize,
      c: columns.pointer, ldc: patchSize)
    columnsToImage(columns.pointer, batchSize: batchSize, into: inputGradient)
  }

  /// target[o] += scale · Σ_r matrix[r, o] for a [rows, outputChannels] matrix.
  private func addColumnSums(
    of matrix: UnsafePointer<Float>, rows: Int, scale: Float,
    into target: UnsafeMutablePointer<Float>
  ) {
    for r in 0..<rows {
      let row = matrix + r * outputChannels
      for o in 0..<outputChannels { target[o] += scale * row[o] }
    }
  }

  // MARK: - im2col / col2im

  /// Copies every k×k×C patch into one row of `col` [B·P, K]. In channels-last layout a patch
  /// row of k pixels is k·C contiguous values, so each patch is k contiguous copies.
  private func imageToColumns(
    _ x: UnsafePointer<Float>, batchSize: Int, into col: UnsafeMutablePointer<Float>
  ) {
    let rowStride = inputWidth * inputChannels
    let run = kernelSize * inputChannels
    let imageSize = inputHeight * rowStride
    let sampleColumns = positions * patchSize
    parallelChunks(count: batchSize, costPerItem: sampleColumns) { _, samples in
      var destination = col + samples.lowerBound * sampleColumns
      for b in samples {
        let image = x + b * imageSize
        for oh in 0..<outputHeight {
          for ow in 0..<outputWidth {
            var source = image + oh * rowStride + ow * inputChannels
            for _ in 0..<kernelSize {
              destination.update(from: source, count: run)
              destination += run
              source += rowStride
            }
          }
        }
      }
    }
  }

  /// The adjoint of ``imageToColumns(_:batchSize:into:)``: sums each row of `col` back into the
  /// k×k×C patch it came from.
  private func columnsToImage(
    _ col: UnsafePointer<Float>, batchSize: Int, into x: UnsafeMutablePointer<Float>
  ) {
    let rowStride = inputWidth * inputChannels
    let run = kernelSize * inputChannels
    let imageSize = inputHeight * rowStride
    let sampleColumns = positions * patchSize
    parallelChunks(count: batchSize, costPerItem: sampleColumns) { _, samples in
      (x + samples.lowerBound * imageSize).update(repeating: 0, count: samples.count * imageSize)
      var source = col + samples.lowerBound * sampleColumns
      for b in samples {
        let image = x + b * imageSize
        for oh in 0..<outputHeight {
          for ow in 0..<outputWidth {
            var destination = image + oh * rowStride + ow * inputChannels
            for _ in 0..<kernelSize {
              for i in 0..<run { destination[i] += source[i] }
              source += run
              destination += rowStride
            }
          }
        }
      }
    }
  }
}
