import CoLearnTensor

/// A 2-D convolution (Torch7 `nn.SpatialConvolution`), with a stride and zero padding, lowered
/// to one GEMM per batch through im2col in the channels-last layout.
///
/// Parameters, in order: `weight` [outputChannels, kernel, kernel, inputChannels] (so that one
/// weight row matches one im2col row), `bias` [outputChannels]. Stride and padding do not change
/// them.
///
/// Shapes: x [B, H, W, C] → y [B, H′, W′, O] with H′ = ⌊(H + 2p − k)/s⌋ + 1 and
/// W′ = ⌊(W + 2p − k)/s⌋ + 1 (stride s, padding p: p zero rows and columns on every side; the
/// paper's models use s = 1, p = 0, so H′ = H − k + 1). With P = H′·W′ output positions and
/// K = k·k·C:
/// - forward: col [B·P, K] = im2col(x); y [B·P, O] = col·Wᵀ + b;
/// - backward: ∂W = ∂yᵀ·col; ∂b = Σ_rows ∂y; ∂col = ∂y·W; ∂x = col2im(∂col).
///
/// im2col writes zeros for the padded positions of a patch and col2im drops them. Stride 1
/// without padding keeps its own copy loops (each patch is k contiguous runs of k·C values);
/// any other stride or padding takes a general loop that clips each run to the image.
///
/// The batch runs in chunks of samples whose im2col rows fit in a few megabytes (see
/// `columnBudgetBytes`); the chunk's im2col rows are the one workspace, reused for ∂col.
public final class Conv2D: Layer {
  public let inputShape: TensorShape
  public let outputShape: TensorShape
  /// The number of output channels O.
  public let outputChannels: Int
  /// The kernel side k.
  public let kernelSize: Int
  /// The step s between neighbouring output positions, in input pixels (≥ 1).
  public let stride: Int
  /// The zero rows and columns p added on each of the four sides of the input (≥ 0).
  public let padding: Int

  let inputHeight: Int
  let inputWidth: Int
  let inputChannels: Int
  let outputHeight: Int
  let outputWidth: Int
  /// K = k·k·C, the length of one im2col row.
  let patchSize: Int
  /// Stride 1 and no padding: the paper's convolutions, with their own im2col/col2im loops.
  let isDense: Bool
  private var columns = FloatBuffer(count: 0)
  /// The batch whose im2col rows ``columns`` holds from the last forward pass, when the batch
  /// was one chunk; nil once ∂col overwrote them (or the forward pass did not write them).
  /// Backward then skips rebuilding them: it follows the forward pass of the same batch
  /// (``Layer``'s contract), and the rows are the same.
  private var columnsHold: (input: UnsafePointer<Float>, batchSize: Int)?
  /// ∂W staged by the fused SGD path of a layer that also propagates ∂x; the direct kernels'
  /// summed ∂Wᵀ [K, O].
  private var weightScratch = FloatBuffer(count: 0)
  /// The im2col-free kernels, for a short patch (``DirectConvolution/applies``); nil otherwise.
  private let direct: DirectConvolution?
  /// The im2col-free forward kernel: ``direct``, or for a long patch (K > 256) on a CPU with
  /// AVX-512 the same kernel over all K (its ∂W stays the im2col GEMM's); nil otherwise.
  private let directForward: DirectConvolution?
  /// Wᵀ [K, O] for the direct forward kernel, transposed at each forward call.
  private var transposedWeight = FloatBuffer(count: 0)
  /// The direct ∂W kernel's partial sums: [groups][K][O] and [groups][O].
  private var partials = FloatBuffer(count: 0)
  private var biasPartials = FloatBuffer(count: 0)
  /// The direct kernel's summed bias gradient [O].
  private var biasScratch = FloatBuffer(count: 0)
  /// Whether a batch of one sample splits the layer by output channel (``splitsChannels``).
  private let splitsChannels: Bool
  /// The second half's ∂col rows [P, K] and its share of ∂x, for ``splitsChannels``.
  private var halfColumns = FloatBuffer(count: 0)
  private var halfInputGradient = FloatBuffer(count: 0)

  /// A convolution of `input` ([H, W, C]) with `outputChannels` filters of side `kernelSize`,
  /// moved `stride` pixels at a time over the input padded with `padding` zeros on each side.
  ///
  /// Preconditions (programmer errors; a model file is checked before its layers are built):
  /// `input` is an image shape; `outputChannels` ≥ 1; `kernelSize` ≥ 1; `stride` ≥ 1;
  /// `padding` ≥ 0; the kernel fits the padded input (k ≤ H + 2p and k ≤ W + 2p).
  ///
  /// - Parameters:
  ///   - input: the per-sample image shape [H, W, C].
  ///   - outputChannels: O, the number of filters.
  ///   - kernelSize: k, the side of the square filters.
  ///   - stride: s; 1 by default.
  ///   - padding: p; 0 by default.
  ///   - columnBudgetBytes: the size the im2col rows of one chunk of samples may take
  ///     (at least one sample per chunk); see ``defaultColumnBudgetBytes``.
  ///   - allowsDirectKernels: whether a short patch may take the im2col-free kernels
  ///     (``DirectConvolution``); false keeps the im2col GEMMs for every shape (for tests that
  ///     compare the two).
  ///   - kernelInstructions: the direct kernels' instruction set (for tests that compare the
  ///     AVX2 and AVX-512 kernels); the CPU's by default.
  public init(
    input: TensorShape, outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
    columnBudgetBytes: Int = Conv2D.defaultColumnBudgetBytes, allowsDirectKernels: Bool = true,
    kernelInstructions: KernelInstructions = .detected
  ) {
    precondition(input.dimensions.count == 3, "Conv2D needs an image input, got \(input)")
    precondition(
      outputChannels >= 1, "Conv2D needs at least one output channel, got \(outputChannels)")
    precondition(kernelSize >= 1, "Conv2D kernel size must be at least 1, got \(kernelSize)")
    precondition(stride >= 1, "Conv2D stride must be at least 1, got \(stride)")
    precondition(padding >= 0, "Conv2D padding must be non-negative, got \(padding)")
    precondition(
      kernelSize <= input.height + 2 * padding && kernelSize <= input.width + 2 * padding,
      "kernel \(kernelSize) does not fit input \(input) with padding \(padding)")
    inputShape = input
    inputHeight = input.height
    inputWidth = input.width
    inputChannels = input.channels
    self.outputChannels = outputChannels
    self.kernelSize = kernelSize
    self.stride = stride
    self.padding = padding
    isDense = stride == 1 && padding == 0
    outputHeight = (input.height + 2 * padding - kernelSize) / stride + 1
    outputWidth = (input.width + 2 * padding - kernelSize) / stride + 1
    patchSize = kernelSize * kernelSize * input.channels
    outputShape = .image(height: outputHeight, width: outputWidth, channels: outputChannels)
    let sampleBytes = outputHeight * outputWidth * patchSize * MemoryLayout<Float>.stride
    chunkSamples = max(1, columnBudgetBytes / sampleBytes)
    let kernels =
      allowsDirectKernels
      ? DirectConvolution(
        input: input, outputChannels: outputChannels, kernelSize: kernelSize, stride: stride,
        padding: padding, instructions: kernelInstructions)
      : nil
    direct =
      DirectConvolution.applies(
        patchSize: patchSize, outputChannels: outputChannels, padding: padding) ? kernels : nil
    directForward = direct ?? (kernels?.usesAVX512 == true ? kernels : nil)
    splitsChannels =
      direct == nil && outputChannels % 64 == 0 && directForward?.hasWeightGradientRows == true
  }

  /// Whether a batch of one sample runs this layer as two halves of its output channels, each
  /// one core's from forward to update, on the AVX-512 kernels: a long-patch layer (the presets'
  /// second convolutions) whose O is a multiple of 64 and k·C of 32.
  ///
  /// Why: split the usual way (forward by positions, the backward GEMMs by columns, col2im and
  /// the update on one core), svhn-cnn's second convolution moves about 1.4 MB between the
  /// cores per step at mini-batch 1 — W, Wᵀ and the im2col rows each written by one core and
  /// read by the other — and when the host puts the two vCPUs far apart that traffic made two
  /// cores slower than one (docs/RESULTS.md, "Far cores"). Split by channel, a core reads
  /// and writes only its own rows of W and Wᵀ, its ∂W needs no im2col rows (x is read in
  /// place, ``DirectConvolution/weightGradientRows(_:outputGradient:channels:rate:into:)``),
  /// and what crosses is x (once), the halves of ∂y and one half of ∂x.
  ///
  /// The halves are fixed by the shape, not the thread count, so one core runs the same two
  /// halves one after the other and gets the same bits: ∂x is the first half's col2im plus the
  /// second's, added element by element; each ∂W value is its own sum over the positions.
  public var splitsChannelsAtBatchOne: Bool { splitsChannels }

  /// Runs `body(half)` for both halves of the output channels (``splitsChannels``): regions
  /// that own their data.
  private func forEachChannelHalf(_ body: (Range<Int>) -> Void) {
    forEachHalf(of: outputChannels, splitAt: outputChannels / 2, ownsItsData: true, body)
  }

  /// Whether this layer runs the im2col-free kernels (forward, and ∂W when it is the first
  /// layer); see ``DirectConvolution``.
  public var usesDirectKernels: Bool { direct != nil }

  /// Whether the forward pass runs a direct kernel: a short patch's, or on a CPU with AVX-512
  /// any unpadded layer whose O is a multiple of 32 (the presets' second convolutions: K = 800
  /// and 1,600).
  public var usesDirectForward: Bool { directForward != nil }

  /// Whether the direct kernels are the AVX-512 ones (CoLearnAVX512).
  public var usesAVX512Kernels: Bool { directForward?.usesAVX512 ?? false }

  /// `Conv2D(C→O, k×k)`, followed by `, stride s` and `, padding p` when they are not 1 and 0
  /// (so the descriptions of stride-1 unpadded layers, which the model hash reads, stay as they
  /// were).
  public var description: String {
    var text = "Conv2D(\(inputChannels)→\(outputChannels), \(kernelSize)×\(kernelSize)"
    if stride != 1 { text += ", stride \(stride)" }
    if padding != 0 { text += ", padding \(padding)" }
    return text + ")"
  }

  public var parameterShapes: [ParameterShape] {
    [
      ParameterShape(
        name: "weight", dimensions: [outputChannels, kernelSize, kernelSize, inputChannels]),
      ParameterShape(name: "bias", dimensions: [outputChannels]),
    ]
  }

  var positions: Int { outputHeight * outputWidth }

  public var forwardMultiplyAdds: Int { positions * patchSize * outputChannels }

  /// The im2col matrix of a whole batch can be tens of megabytes (svhn-cnn's second convolution:
  /// 20 MiB at batch 32; 125 MiB at an evaluation batch of 200). So the batch is processed in
  /// chunks of samples whose im2col rows fit in about `columnBudgetBytes` (3 MiB by default),
  /// and backward rebuilds each chunk's rows instead of keeping them. On this machine the speed
  /// is the same within its ±20% drift (1, 3 MiB and whole-batch chunks were compared
  /// interleaved); the memory is 7× smaller.
  public static let defaultColumnBudgetBytes = 3 << 20

  /// Samples per chunk (at least 1).
  private let chunkSamples: Int

  public func reserve(batchSize: Int) {
    let needed = min(batchSize, chunkSamples) * positions * patchSize
    if columns.count < needed { columns = FloatBuffer(count: needed) }
    if weightScratch.count == 0 { weightScratch = FloatBuffer(count: outputChannels * patchSize) }
    if directForward != nil, transposedWeight.count == 0 {
      transposedWeight = FloatBuffer(count: outputChannels * patchSize)
    }
    if splitsChannels, halfColumns.count == 0 {
      halfColumns = FloatBuffer(count: positions * patchSize)
      halfInputGradient = FloatBuffer(count: inputShape.count)
    }
    if let direct, partials.count == 0 {
      partials = FloatBuffer(count: DirectConvolution.partialSamples * direct.partialStride)
      biasPartials = FloatBuffer(count: DirectConvolution.partialSamples * outputChannels)
      biasScratch = FloatBuffer(count: outputChannels)
    }
  }

  /// Torch7 default: every weight and bias ~ U(−1/√(k·k·C), 1/√(k·k·C)).
  public func initialize<G: RandomNumberGenerator>(
    _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout G
  ) {
    let bound = 1 / Float(patchSize).squareRoot()
    fillUniform(parameters, lower: -bound, upper: bound, using: &generator)
  }

  /// Calls `body(first, count)` for consecutive chunks of the batch.
  private func forEachChunk(batchSize: Int, _ body: (_ first: Int, _ count: Int) -> Void) {
    let size = chunkSamples
    var first = 0
    while first < batchSize {
      let count = min(size, batchSize - first)
      body(first, count)
      first += count
    }
  }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    precondition(
      columns.count >= min(batchSize, chunkSamples) * positions * patchSize,
      "Conv2D used before reserve(batchSize:)")
    let col = columns.pointer
    let weight = parameters
    let bias = parameters + outputChannels * patchSize
    if directForward != nil {
      columnsHold = nil
      forwardDirect(input, into: output, batchSize: batchSize, parameters: parameters, applyingTanh: false)
      return
    }
    parallelChunks(count: batchSize * positions, costPerItem: outputChannels) { _, range in
      for row in range {
        (output + row * outputChannels).update(from: bias, count: outputChannels)
      }
    }
    forEachChunk(batchSize: batchSize) { first, count in
      imageToColumns(input + first * inputShape.count, batchSize: count, into: col)
      BLAS.gemm(
        .none, .transposed, m: count * positions, n: outputChannels, k: patchSize,
        a: col, lda: patchSize, b: weight, ldb: patchSize, beta: 1,
        c: output + first * positions * outputChannels, ldc: outputChannels)
    }
    columnsHold = batchSize <= chunkSamples ? (input, batchSize) : nil
  }

  /// Writes tanh(y) of the batch into `output` in one pass, when this layer runs the direct
  /// kernels (the same bits as ``forward(_:into:batchSize:parameters:)`` followed by a ``Tanh``);
  /// returns false, writing nothing, otherwise. ``Network`` fuses a direct convolution and the
  /// ``Tanh`` after it this way: the pre-activation is never written, which neither layer's
  /// backward reads.
  func forwardApplyingTanh(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) -> Bool {
    guard directForward != nil else { return false }
    columnsHold = nil
    forwardDirect(input, into: output, batchSize: batchSize, parameters: parameters, applyingTanh: true)
    return true
  }

  private func forwardDirect(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>, applyingTanh: Bool
  ) {
    guard let direct = directForward else { return }
    precondition(
      transposedWeight.count >= outputChannels * patchSize, "Conv2D used before reserve(batchSize:)")
    let (outputs, patch, transposed) = (outputChannels, patchSize, transposedWeight.pointer)
    let (weight, bias) = (parameters, parameters + outputs * patch)
    if splitsChannels && batchSize == 1 {
      // Each half transposes its own columns of Wᵀ and computes its own channels at every
      // position; on one core, one pass over all the channels gives the same bits.
      func pass(_ channels: Range<Int>) {
        direct.transpose(weight, rows: 0..<patch, channels: channels, into: transposed)
        direct.forward(
          input, positions: 0..<positions, channels: channels, transposedWeight: transposed,
          bias: bias, applyingTanh: applyingTanh, into: output)
      }
      if halvesRunOnOneCore { pass(0..<outputs) } else { forEachChannelHalf(pass) }
      return
    }
    // A long patch's rows of Wᵀ (102,400 weights for svhn-cnn's second convolution) are shared
    // between the cores, in blocks of 16.
    parallelChunks(count: (patch + 15) / 16, costPerItem: 16 * outputs) { _, blocks in
      direct.transpose(
        weight, rows: (blocks.lowerBound * 16)..<min(blocks.upperBound * 16, patch),
        into: transposed)
    }
    // The cores take whole blocks of six positions (the kernels' tiles), so a small layer
    // splits evenly: mnist-cnn's second convolution at batch 1 (25 positions, 5 rows) as 12
    // and 13 positions, where a split by rows gave 15 and 10.
    let total = batchSize * positions
    parallelChunks(count: (total + 5) / 6, costPerItem: 6 * patch * outputs) { _, blocks in
      direct.forward(
        input, positions: (blocks.lowerBound * 6)..<min(blocks.upperBound * 6, total),
        transposedWeight: transposed, bias: bias, applyingTanh: applyingTanh, into: output)
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    if splitsChannels && batchSize == 1 {
      backwardSplittingChannels(
        input: input, outputGradient: outputGradient, inputGradient: inputGradient,
        weight: parameters, rate: nil, into: parameterGradients)
      return
    }
    if let direct, inputGradient == nil {
      sumDirectGradients(direct, input: input, outputGradient: outputGradient, batchSize: batchSize)
      let (outputs, patch, total) = (outputChannels, patchSize, weightScratch.pointer)
      for o in 0..<outputs {
        for k in 0..<patch { parameterGradients[o &* patch &+ k] = total[k &* outputs &+ o] }
      }
      (parameterGradients + outputs * patch).update(from: biasScratch.pointer, count: outputs)
      return
    }
    backPropagate(
      input: input, outputGradient: outputGradient, inputGradient: inputGradient,
      batchSize: batchSize, weight: parameters, weightGradient: parameterGradients, scale: 1,
      accumulateIntoExisting: false)
    let biasGradient = parameterGradients + outputChannels * patchSize
    biasGradient.update(repeating: 0, count: outputChannels)
    addColumnSums(
      of: outputGradient, rows: batchSize * positions, columns: outputChannels, scale: 1,
      into: biasGradient)
  }

  /// Sample b's weight gradient is ∂y_bᵀ·col_b [O, K] over its own P im2col rows, formed in the
  /// ∂W scratch matrix one sample at a time (the FLOPs of the batch's weight-gradient GEMM), and
  /// its bias gradient Σ_p ∂y_b(p). Compared by operation count with the Gram-matrix form
  /// Σ_{p,q} (∂y_p·∂y_q)(col_p·col_q), which costs P²·(O + K): for mnist-cnn's first layer
  /// (P = 784, O = 32, K = 25) that is 56× the GEMM, for its second (P = 25, O = 64, K = 800)
  /// 0.42×; the GEMM is kept for both, as the second layer's share of the step is small.
  public func addPerSampleGradientSquaredNorms(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    into squaredNorms: UnsafeMutablePointer<Float>
  ) {
    if let direct {
      let (weights, outputs) = (outputChannels * patchSize, outputChannels)
      forEachDirectChunk(
        direct, input: input, outputGradient: outputGradient, batchSize: batchSize, group: 1
      ) { samples in
        for (g, b) in samples.enumerated() {
          let partial = partials.pointer + g * direct.partialStride
          let bias = biasPartials.pointer + g * outputs
          var total: Float = 0
          for j in 0..<weights { total += partial[j] * partial[j] }
          for o in 0..<outputs { total += bias[o] * bias[o] }
          squaredNorms[b] += total
        }
      }
      return
    }
    let col = columns.pointer
    let gradient = weightScratch.pointer
    let weights = outputChannels * patchSize
    // The rows are rebuilt chunk by chunk (the same rows for a one-chunk batch, others for
    // more): backward rebuilds its own.
    columnsHold = nil
    forEachChunk(batchSize: batchSize) { first, count in
      imageToColumns(input + first * inputShape.count, batchSize: count, into: col)
      for s in 0..<count {
        let dy = outputGradient + (first + s) * positions * outputChannels
        BLAS.gemm(
          .transposed, .none, m: outputChannels, n: patchSize, k: positions,
          a: dy, lda: outputChannels, b: col + s * positions * patchSize, ldb: patchSize,
          c: gradient, ldc: patchSize)
        var total: Float = 0
        for j in 0..<weights { total += gradient[j] * gradient[j] }
        for o in 0..<outputChannels {
          var bias: Float = 0
          for p in 0..<positions { bias += dy[p * outputChannels + o] }
          total += bias * bias
        }
        squaredNorms[first + s] += total
      }
    }
  }

  /// W −= rate · ∂yᵀ·col and b −= rate · Σ ∂y, after ∂x has been computed with the old W. A first
  /// layer (no ∂x) folds the update into its weight-gradient GEMMs (alpha = −rate, beta = 1);
  /// otherwise ∂W is staged in a scratch matrix and applied at the end.
  public func backwardApplyingSGD(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafeMutablePointer<Float>, rate: Float
  ) {
    if splitsChannels && batchSize == 1 {
      backwardSplittingChannels(
        input: input, outputGradient: outputGradient, inputGradient: inputGradient,
        weight: parameters, rate: rate, into: parameters)
      return
    }
    if let direct, inputGradient == nil {
      sumDirectGradients(direct, input: input, outputGradient: outputGradient, batchSize: batchSize)
      let (outputs, patch, total) = (outputChannels, patchSize, weightScratch.pointer)
      for o in 0..<outputs {
        for k in 0..<patch { parameters[o &* patch &+ k] -= rate * total[k &* outputs &+ o] }
      }
      let bias = parameters + outputs * patch
      let biasTotal = biasScratch.pointer
      for o in 0..<outputs { bias[o] -= rate * biasTotal[o] }
      return
    }
    if inputGradient == nil {
      backPropagate(
        input: input, outputGradient: outputGradient, inputGradient: nil, batchSize: batchSize,
        weight: parameters, weightGradient: parameters, scale: -rate, accumulateIntoExisting: true)
    } else {
      backPropagate(
        input: input, outputGradient: outputGradient, inputGradient: inputGradient,
        batchSize: batchSize, weight: parameters, weightGradient: weightScratch.pointer, scale: 1,
        accumulateIntoExisting: false)
      BLAS.axpy(
        count: outputChannels * patchSize, alpha: -rate, x: weightScratch.pointer, y: parameters)
    }
    addColumnSums(
      of: outputGradient, rows: batchSize * positions, columns: outputChannels, scale: -rate,
      into: parameters + outputChannels * patchSize)
  }

  /// Chunk by chunk: rebuild the chunk's im2col rows, add scale · ∂y_chunkᵀ·col to
  /// `weightGradient` (overwriting it on the first chunk unless `accumulateIntoExisting`), then,
  /// when ∂x is wanted, ∂col = ∂y_chunk·W into the same rows and col2im into ∂x.
  private func backPropagate(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>?, batchSize: Int, weight: UnsafePointer<Float>,
    weightGradient: UnsafeMutablePointer<Float>, scale: Float, accumulateIntoExisting: Bool
  ) {
    let col = columns.pointer
    forEachChunk(batchSize: batchSize) { first, count in
      let rows = count * positions
      let dy = outputGradient + first * positions * outputChannels
      if let held = columnsHold, held.input == input, held.batchSize == batchSize {
        // The forward pass's rows of this one-chunk batch are still there.
      } else {
        imageToColumns(input + first * inputShape.count, batchSize: count, into: col)
      }
      // ∂W [O, K] (+)= scale · ∂yᵀ [O, rows] · col [rows, K]
      BLAS.gemm(
        .transposed, .none, m: outputChannels, n: patchSize, k: rows, alpha: scale,
        a: dy, lda: outputChannels, b: col, ldb: patchSize,
        beta: (first == 0 && !accumulateIntoExisting) ? 0 : 1,
        c: weightGradient, ldc: patchSize)
      guard let inputGradient else { return }
      columnsHold = nil
      // ∂col [rows, K] = ∂y [rows, O] · W [O, K], over the chunk's im2col rows.
      BLAS.gemm(
        .none, .none, m: rows, n: patchSize, k: outputChannels,
        a: dy, lda: outputChannels, b: weight, ldb: patchSize, c: col, ldc: patchSize)
      columnsToImage(col, batchSize: count, into: inputGradient + first * inputShape.count)
    }
  }

  // MARK: - One sample, split by channel

  /// Backward of one sample by channel halves (``splitsChannels``): each half computes its ∂col
  /// rows ∂y[:, half]·W[half, :] and their col2im (with the old W), then its rows of ∂W and
  /// ∂b — with `rate`, the SGD step of its rows of W and b in `target` (which is `weight`);
  /// without, the gradients into `target` [W, b]. Then ∂x = the first half's col2im + the
  /// second's, element by element (on both cores when ∂x is large enough to pay).
  private func backwardSplittingChannels(
    input: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    inputGradient: UnsafeMutablePointer<Float>?, weight: UnsafePointer<Float>, rate: Float?,
    into target: UnsafeMutablePointer<Float>
  ) {
    guard let direct = directForward else { return }
    precondition(
      halfColumns.count >= positions * patchSize, "Conv2D used before reserve(batchSize:)")
    columnsHold = nil
    let (outputs, patch, count) = (outputChannels, patchSize, positions)
    let (firstColumns, secondColumns) = (columns.pointer, halfColumns.pointer)
    let secondGradient = halfInputGradient.pointer
    forEachChannelHalf { half in
      let second = half.lowerBound != 0
      if let inputGradient {
        let col = second ? secondColumns : firstColumns
        // ∂col [P, K] = ∂y[:, half] [P, O/2] · W[half, :] [O/2, K]: single-threaded here (the
        // nested split runs on this core).
        BLAS.gemm(
          .none, .none, m: count, n: patch, k: half.count, a: dy + half.lowerBound, lda: outputs,
          b: weight + half.lowerBound * patch, ldb: patch, c: col, ldc: patch)
        columnsToImage(col, batchSize: 1, into: second ? secondGradient : inputGradient)
      }
      direct.weightGradientRows(
        input, outputGradient: dy, channels: half, rate: rate, into: target)
      let bias = target + outputs * patch
      for o in half {
        var sum: Float = 0
        for p in 0..<count { sum += dy[p &* outputs &+ o] }
        if let rate { bias[o] -= rate * sum } else { bias[o] = sum }
      }
    }
    guard let inputGradient else { return }
    let total = inputShape.count
    parallelChunks(count: (total + 15) / 16, costPerItem: 64) { _, blocks in
      let end = min(blocks.upperBound * 16, total)
      for i in (blocks.lowerBound * 16)..<end { inputGradient[i] += secondGradient[i] }
    }
  }

  // MARK: - Direct ∂W

  /// Runs the direct ∂W tasks (``DirectConvolution/weightGradientTask``) over the batch in
  /// chunks of at most ``DirectConvolution/partialSamples`` samples, in groups of `group`,
  /// and calls `body` with each chunk's samples once ``partials`` and ``biasPartials`` hold its
  /// groups' sums.
  private func forEachDirectChunk(
    _ direct: DirectConvolution, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, batchSize: Int, group: Int,
    _ body: (_ samples: Range<Int>) -> Void
  ) {
    precondition(
      partials.count >= DirectConvolution.partialSamples * direct.partialStride,
      "Conv2D used before reserve(batchSize:)")
    let step = DirectConvolution.partialSamples / group * group
    let (partial, biasPartial) = (partials.pointer, biasPartials.pointer)
    var first = 0
    while first < batchSize {
      let samples = first..<min(first + step, batchSize)
      let groups = (samples.count + group - 1) / group
      parallelChunks(
        count: groups * direct.offsetBlocks,
        costPerItem: group * positions * DirectConvolution.blockOffsets * outputChannels
      ) { _, tasks in
        for task in tasks {
          direct.weightGradientTask(
            task, x: input, outputGradient: outputGradient, samples: samples, group: group,
            partials: partial, biasPartials: biasPartial)
        }
      }
      body(samples)
      first = samples.upperBound
    }
  }

  /// The batch's ∂Wᵀ [K, O] into ``weightScratch`` and ∂b into ``biasScratch``, through the
  /// direct kernels: the groups' partial sums added in group order.
  private func sumDirectGradients(
    _ direct: DirectConvolution, input: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, batchSize: Int
  ) {
    let (weights, outputs) = (outputChannels * patchSize, outputChannels)
    let (total, biasTotal) = (weightScratch.pointer, biasScratch.pointer)
    total.update(repeating: 0, count: weights)
    biasTotal.update(repeating: 0, count: outputs)
    let group = DirectConvolution.groupSamples
    forEachDirectChunk(
      direct, input: input, outputGradient: outputGradient, batchSize: batchSize, group: group
    ) { samples in
      for g in 0..<((samples.count + group - 1) / group) {
        let partial = partials.pointer + g * direct.partialStride
        for j in 0..<weights { total[j] += partial[j] }
        let bias = biasPartials.pointer + g * outputs
        for o in 0..<outputs { biasTotal[o] += bias[o] }
      }
    }
  }
}
