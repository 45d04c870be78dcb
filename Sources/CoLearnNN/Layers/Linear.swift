import CoLearnTensor

/// A fully connected layer y = W·x + b (Torch7 `nn.Linear`).
///
/// Parameters, in order: `weight` [outputs, inputs] (row-major), `bias` [outputs]. Any input
/// shape is read as a flat vector of `inputShape.count` values, so no separate flatten layer is
/// needed after a channels-last pooling layer.
///
/// Shapes: x [B, in] → y [B, out]. Forward: y = x·Wᵀ + b (one GEMM, a GEMV at B = 1).
/// Backward: ∂W = ∂yᵀ·x, ∂b = Σ_b ∂y, ∂x = ∂y·W. Mini-batches in which most input columns hold
/// one value in every sample multiply only the other columns (``VaryingInputColumns``).
public final class Linear: Layer {
  public let inputShape: TensorShape
  public let outputShape: TensorShape
  /// The number of inputs (the flattened input shape).
  public let inputCount: Int
  /// The number of outputs.
  public let outputCount: Int

  /// A layer from `input` (any shape, read flat) to `outputs` values.
  public init(input: TensorShape, outputs: Int) {
    precondition(outputs > 0, "Linear needs at least one output")
    inputShape = input
    inputCount = input.count
    outputCount = outputs
    outputShape = TensorShape(outputs)
  }

  /// A layer from `inputs` to `outputs` values.
  public convenience init(inputs: Int, outputs: Int) {
    self.init(input: TensorShape(inputs), outputs: outputs)
  }

  public var description: String { "Linear(\(inputCount)→\(outputCount))" }

  public var parameterShapes: [ParameterShape] {
    [
      ParameterShape(name: "weight", dimensions: [outputCount, inputCount]),
      ParameterShape(name: "bias", dimensions: [outputCount]),
    ]
  }

  public var forwardMultiplyAdds: Int { inputCount * outputCount }

  /// The workspace for mini-batches whose columns are mostly constant across the samples
  /// (image backgrounds): only the varying columns go through the GEMMs (``VaryingInputColumns``).
  private lazy var varyingColumns = VaryingInputColumns(inputs: inputCount, outputs: outputCount)

  /// The first layer's workspace for an epoch of plain SGD on mostly-background inputs: only
  /// each sample's entries off the background are multiplied (``SparseInputEpoch``).
  private lazy var sparseEpoch = SparseInputEpoch(inputs: inputCount, outputs: outputCount)

  /// The inner dimension of the last forward pass's product: ``inputCount``, or the number of
  /// varying columns when the batch's constant columns were skipped (for profiles and tests).
  public private(set) var lastMultipliedColumns = 0

  /// The number of entries off the background the last forward pass multiplied when it ran
  /// on the sparse path of an SGD epoch, else nil (for profiles and tests).
  public private(set) var lastSparseEntries: Int?

  /// y transposed ([out, B]) for the small-batch forward pass; grows to the largest such batch.
  private var transposedOutput: [Float] = []
  /// The second row half's share of ∂x at batch 1 (``splitsRows``).
  private var secondHalfInputGradient = FloatBuffer(count: 0)

  /// Mini-batches from 2 up to this size compute yᵀ = W·xᵀ and transpose it: with W read as the
  /// GEMM's left operand, OpenBLAS packs only the small xᵀ and streams W once, which was ~20%
  /// faster for B = 32 (32×1024 · 1024×128: 119 µs instead of 144 µs on one core, and 958
  /// instead of 1209 µs for mnist-cnn's 5120→200 layer); from B ≈ 100 on the direct form wins.
  static let transposedForwardMaximumBatch = 64

  /// With sparse enough `rows`, the weights live in ``SparseInputEpoch``'s form from the start,
  /// every batch is read from `rows`, and the weights' changes come with the write-back.
  @discardableResult
  public func beginSGDEpoch(parameters: UnsafeMutablePointer<Float>, rows: SparseRows?)
    -> SGDEpochPlan
  {
    sparseEpoch.open(parameters: parameters, rows: rows)
      ? SGDEpochPlan(readsRows: true, changesWritten: outputCount * inputCount) : .none
  }

  public func selectSGDEpochBatch(_ samples: UnsafeBufferPointer<Int>) {
    sparseEpoch.selectBatch(samples)
  }

  public func endSGDEpoch(changes: UnsafeMutablePointer<Float>?) {
    sparseEpoch.close(changes: changes)
  }

  public func reserve(batchSize: Int) {
    if splitsRows, secondHalfInputGradient.count < inputCount {
      secondHalfInputGradient = FloatBuffer(count: inputCount)
    }
    if batchSize > 1 { varyingColumns.reserve(batchSize: batchSize) }
    if batchSize > 1, batchSize <= Self.transposedForwardMaximumBatch,
      transposedOutput.count < batchSize * outputCount
    {
      transposedOutput = [Float](repeating: 0, count: batchSize * outputCount)
    }
  }

  /// Torch7 default: every weight and bias ~ U(−1/√inputs, 1/√inputs).
  public func initialize<G: RandomNumberGenerator>(
    _ parameters: UnsafeMutableBufferPointer<Float>, using generator: inout G
  ) {
    let bound = 1 / Float(inputCount).squareRoot()
    fillUniform(parameters, lower: -bound, upper: bound, using: &generator)
  }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let weight = parameters
    let bias = parameters + outputCount * inputCount
    lastSparseEntries = nil
    if sparseEpoch.serves(parameters),
      sparseEpoch.forward(input, into: output, batchSize: batchSize, bias: bias)
    {
      lastSparseEntries = sparseEpoch.entryCount
      return
    }
    if batchSize > 1, varyingColumns.split(input, batchSize: batchSize) {
      lastMultipliedColumns = varyingColumns.count
      forwardVarying(into: output, batchSize: batchSize, weight: weight, bias: bias)
      return
    }
    lastMultipliedColumns = inputCount
    if batchSize == 1 {
      output.update(from: bias, count: outputCount)
      forEachRowBlock { rows in
        BLAS.gemv(
          .none, m: rows.count, n: inputCount, a: weight + rows.lowerBound * inputCount,
          lda: inputCount, x: input, beta: 1, y: output + rows.lowerBound)
      }
      return
    }
    forwardProduct(
      input, columns: inputCount, weight: weight, bias: bias, into: output, batchSize: batchSize)
  }

  /// Prepares inference on listed rows (``forward(listed:samples:into:weights:)``) for
  /// `parameters`: stores Wᵀ and b + c·W·1 in `store` (or a new one) for the background c of
  /// `rows`, and returns it. One pass over W; prepare again whenever the parameters change.
  public func prepareListedForward(
    parameters: UnsafePointer<Float>, rows: SparseRows, reusing store: SparseInputInference?
  ) -> SparseInputInference {
    prepareSparseForward(parameters: parameters, background: rows.background, reusing: store)
  }

  /// Prepares inference that multiplies only each sample's entries off `background`, listed
  /// (``forward(listed:batch:into:weights:)``) or found as the features are read
  /// (``forward(features:batchSize:into:weights:)``): Wᵀ and b + c·W·1 in `store` (or a new
  /// one), returned. One pass over W; prepare again whenever the parameters change.
  public func prepareSparseForward(
    parameters: UnsafePointer<Float>, background: Float, reusing store: SparseInputInference?
  ) -> SparseInputInference {
    let store =
      store.flatMap { $0.shape == (inputCount, outputCount) ? $0 : nil }
      ?? SparseInputInference(inputs: inputCount, outputs: outputCount)
    store.prepare(
      weight: parameters, bias: parameters + outputCount * inputCount, background: background)
    return store
  }

  /// y for a batch of features (the layer as a network's first, at inference) in one pass,
  /// multiplying only each sample's entries off the background `weights` was prepared for, found
  /// as the batch is read (``SparseInputInference``): the bits of
  /// ``forward(listed:batch:into:weights:)`` on the same samples listed. When a chunk of the
  /// batch has more than ``SparseRows/maximumDensity`` of its values off the background, runs
  /// ``forward(_:into:batchSize:parameters:)`` instead (`parameters`: the layer's own).
  ///
  /// - Precondition: `weights` came from ``prepareSparseForward(parameters:background:reusing:)``
  ///   for `parameters`.
  public func forward(
    features input: UnsafePointer<Float>, batchSize: Int, into output: UnsafeMutablePointer<Float>,
    weights: SparseInputInference, parameters: UnsafePointer<Float>
  ) {
    precondition(weights.shape == (inputCount, outputCount), "prepared for another layer shape")
    if weights.forward(
      features: input, batchSize: batchSize, into: output, maximumDensity: SparseRows.maximumDensity)
    {
      lastSparseEntries = nil
      lastMultipliedColumns = inputCount
      return
    }
    forward(input, into: output, batchSize: batchSize, parameters: parameters)
  }

  /// y for batch `batch` of `listed` (the layer as a network's first, at inference): only each
  /// sample's entries off the background are multiplied (``SparseInputInference``). Agrees
  /// with ``forward(_:into:batchSize:parameters:)`` on the same samples to rounding.
  ///
  /// - Precondition: `weights` came from ``prepareListedForward(parameters:rows:reusing:)`` for
  ///   rows with the same background.
  public func forward(
    listed: ListedBatches, batch: Int, into output: UnsafeMutablePointer<Float>,
    weights: SparseInputInference
  ) {
    precondition(weights.shape == (inputCount, outputCount), "prepared for another layer shape")
    lastSparseEntries = nil
    lastMultipliedColumns = inputCount
    weights.forward(listed: listed, batch: batch, into: output)
  }

  /// y = x·Wᵀ + b for a batch of more than one sample whose rows hold `columns` inputs and a
  /// weight matrix [outputs, columns]: the whole input, or its varying columns gathered.
  private func forwardProduct(
    _ input: UnsafePointer<Float>, columns: Int, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int
  ) {
    if batchSize <= Self.transposedForwardMaximumBatch {
      forwardTransposed(
        input, columns: columns, into: output, batchSize: batchSize, weight: weight, bias: bias)
      return
    }
    for b in 0..<batchSize {
      (output + b * outputCount).update(from: bias, count: outputCount)
    }
    BLAS.gemm(
      .none, .transposed, m: batchSize, n: outputCount, k: columns,
      a: input, lda: columns, b: weight, ldb: columns, beta: 1, c: output, ldc: outputCount)
  }

  /// y = x_V·W_Vᵀ + (b + W·c) for a batch split by ``VaryingInputColumns``: each block of
  /// output rows gathers its rows of W_V and computes its outputs, on its own core when the
  /// layer is large enough, so that each core touches only its own rows of W.
  private func forwardVarying(
    into output: UnsafeMutablePointer<Float>, batchSize: Int, weight: UnsafePointer<Float>,
    bias: UnsafePointer<Float>
  ) {
    reserve(batchSize: batchSize)
    let columns = varyingColumns
    let k = columns.count
    let x = columns.gatheredInput
    let outputs = outputCount
    let transposed = batchSize <= Self.transposedForwardMaximumBatch
    transposedOutput.withUnsafeMutableBufferPointer { scratch in
      let yT = scratch.baseAddress
      forEachOutputBlock(costPerRow: 2 * k * batchSize) { rows in
        columns.prepareForward(rows: rows, weight: weight, bias: bias)
        let w = UnsafePointer(columns.compactWeight + rows.lowerBound * k)
        if transposed, let yT {
          BLAS.gemm(
            .none, .transposed, m: rows.count, n: batchSize, k: k, a: w, lda: k, b: x, ldb: k,
            c: yT + rows.lowerBound * batchSize, ldc: batchSize)
        } else {
          for b in 0..<batchSize {
            (output + b * outputs + rows.lowerBound).update(
              from: columns.outputScratch + rows.lowerBound, count: rows.count)
          }
          BLAS.gemm(
            .none, .transposed, m: batchSize, n: rows.count, k: k, a: x, lda: k, b: w, ldb: k,
            beta: 1, c: output + rows.lowerBound, ldc: outputs)
        }
      }
      guard transposed, let yT else { return }
      let shiftedBias = columns.outputScratch
      for b in 0..<batchSize {
        let row = output + b * outputs
        for o in 0..<outputs { row[o] = yT[o * batchSize + b] + shiftedBias[o] }
      }
    }
  }

  /// Runs `body` on blocks of output rows: one block, or one per core (``BLAS/threadCount``)
  /// when the rows' work (`costPerRow` each, plus a pass over the row of W) pays for the hand-off.
  private func forEachOutputBlock(costPerRow: Int, _ body: (Range<Int>) -> Void) {
    guard outputCount >= 32 else {
      body(0..<outputCount)
      return
    }
    parallelChunks(count: outputCount, costPerItem: costPerRow + inputCount) { _, rows in
      body(rows)
    }
  }

  /// yᵀ = W·xᵀ into the scratch buffer, then y = (yᵀ)ᵀ + b.
  private func forwardTransposed(
    _ input: UnsafePointer<Float>, columns: Int, into output: UnsafeMutablePointer<Float>,
    batchSize: Int, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>
  ) {
    reserve(batchSize: batchSize)
    let outputs = outputCount
    transposedOutput.withUnsafeMutableBufferPointer { scratch in
      let yT = scratch.baseAddress!
      BLAS.gemm(
        .none, .transposed, m: outputs, n: batchSize, k: columns, a: weight, lda: columns,
        b: input, ldb: columns, c: yT, ldc: batchSize)
      for b in 0..<batchSize {
        let row = output + b * outputs
        for o in 0..<outputs { row[o] = yT[o * batchSize + b] + bias[o] }
      }
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    precondition(
      !sparseEpoch.holdsWeights(of: parameters),
      "Linear.backward inside an SGD epoch: only backwardApplyingSGD may run until endSGDEpoch")
    // ∂W = ∂yᵀ · x   [out, B]·[B, in]; at B = 1 a rank-1 update of zeros (GER is 2–3× faster
    // than a GEMM with k = 1).
    if batchSize == 1 {
      forEachRowBlock(
        inputGradient: inputGradient, outputGradient: outputGradient, weight: parameters
      ) { rows in
        (parameterGradients + rows.lowerBound * inputCount).update(
          repeating: 0, count: rows.count * inputCount)
        BLAS.ger(
          m: rows.count, n: inputCount, alpha: 1, x: outputGradient + rows.lowerBound, y: input,
          a: parameterGradients + rows.lowerBound * inputCount, lda: inputCount)
      }
    } else {
      propagateInputGradient(
        outputGradient, into: inputGradient, batchSize: batchSize, weight: parameters)
      if varyingColumns.split(input, batchSize: batchSize, reuse: true) {
        let columns = varyingColumns
        forEachOutputBlock(costPerRow: 2 * columns.count * batchSize) { rows in
          columns.weightProduct(
            rows: rows, outputGradient: outputGradient, batchSize: batchSize, alpha: 1)
          columns.writeGradient(rows: rows, into: parameterGradients)
        }
      } else {
        BLAS.gemm(
          .transposed, .none, m: outputCount, n: inputCount, k: batchSize,
          a: outputGradient, lda: outputCount, b: input, ldb: inputCount,
          c: parameterGradients, ldc: inputCount)
      }
    }
    // ∂b = Σ_b ∂y[b, :]
    let biasGradient = parameterGradients + outputCount * inputCount
    biasGradient.update(repeating: 0, count: outputCount)
    addColumnSums(
      of: outputGradient, rows: batchSize, columns: outputCount, scale: 1,
      into: biasGradient)
  }

  /// Sample b's weight gradient is the outer product ∂y_b·x_bᵀ and its bias gradient ∂y_b, so
  /// ‖∂ℓ_b/∂(W, b)‖² = ‖∂y_b‖²·(‖x_b‖² + 1) without forming either (the "ghost norm" of Goodfellow
  /// 2015): O(B·(in + out)).
  public func addPerSampleGradientSquaredNorms(
    input: UnsafePointer<Float>, outputGradient: UnsafePointer<Float>, batchSize: Int,
    into squaredNorms: UnsafeMutablePointer<Float>
  ) {
    for b in 0..<batchSize {
      let x = input + b * inputCount
      let dy = outputGradient + b * outputCount
      var inputSquares: Float = 0
      for j in 0..<inputCount { inputSquares += x[j] * x[j] }
      var gradientSquares: Float = 0
      for o in 0..<outputCount { gradientSquares += dy[o] * dy[o] }
      squaredNorms[b] += gradientSquares * (inputSquares + 1)
    }
  }

  /// W −= rate · ∂yᵀ·x and b −= rate · Σ_b ∂y, after ∂x = ∂y·W with the old W. At B = 1 the
  /// weight update is one rank-1 update (GER) straight into W.
  public func backwardApplyingSGD(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafeMutablePointer<Float>, rate: Float
  ) {
    if sparseEpoch.holdsWeights(of: parameters) {
      precondition(
        inputGradient == nil, "an SGD epoch is only opened on a network's first layer")
      sparseEpoch.applySGD(
        input: input, outputGradient: outputGradient, batchSize: batchSize, rate: rate)
      addColumnSums(
        of: outputGradient, rows: batchSize, columns: outputCount, scale: -rate,
        into: parameters + outputCount * inputCount)
      return
    }
    if batchSize == 1 {
      // Each block of rows: its share of ∂x with the old W, then its rank-1 update.
      forEachRowBlock(
        inputGradient: inputGradient, outputGradient: outputGradient, weight: parameters
      ) { rows in
        BLAS.ger(
          m: rows.count, n: inputCount, alpha: -rate, x: outputGradient + rows.lowerBound,
          y: input, a: parameters + rows.lowerBound * inputCount, lda: inputCount)
      }
    } else if varyingColumns.split(input, batchSize: batchSize, reuse: true) {
      propagateInputGradient(
        outputGradient, into: inputGradient, batchSize: batchSize, weight: parameters)
      let columns = varyingColumns
      forEachOutputBlock(costPerRow: 2 * columns.count * batchSize) { rows in
        columns.weightProduct(
          rows: rows, outputGradient: outputGradient, batchSize: batchSize, alpha: -rate)
        columns.addUpdate(rows: rows, into: parameters, alpha: -rate)
      }
    } else {
      propagateInputGradient(
        outputGradient, into: inputGradient, batchSize: batchSize, weight: parameters)
      BLAS.gemm(
        .transposed, .none, m: outputCount, n: inputCount, k: batchSize, alpha: -rate,
        a: outputGradient, lda: outputCount, b: input, ldb: inputCount, beta: 1,
        c: parameters, ldc: inputCount)
    }
    addColumnSums(
      of: outputGradient, rows: batchSize, columns: outputCount, scale: -rate,
      into: parameters + outputCount * inputCount)
  }

  /// Whether a batch of one sample runs W as two halves of its rows, each one core's from
  /// forward to update: W of at least ``rowSplitWeights`` values and 32 rows.
  ///
  /// Why: each core then always touches the same half of W, which stays in its own L2 across
  /// steps, instead of streaming all of W from L3 for the GEMV and again for the GER, and no
  /// row written by one core is read by the other. svhn-cnn's Linear(1600→128) (800 KiB),
  /// whole on the calling core, took 8 / 18 µs forward / backward in a one-thread step but
  /// 18 / 48 in a two-thread step while the host kept the two vCPUs far apart
  /// (docs/RESULTS.md, "Batch 1 split by ownership"). Split, it took 4.7 / 9.6 µs on two near
  /// cores but 11 / 33–44 on two far ones: the input, ∂y and one half's ∂x still cross, and
  /// the layer is too small for that, so its regions do not claim to own their data: when the
  /// trainer keeps only those on two cores (``StepWidthChooser/Way/ownedRegions``), this layer
  /// runs on the caller.
  public var splitsRows: Bool {
    inputCount * outputCount >= Self.rowSplitWeights && outputCount >= 32
  }

  /// The smallest W (values) split by rows at batch 1: 512 KiB, half a core's L2 here.
  public static let rowSplitWeights = 128 * 1024


  /// Runs `body` on blocks of output rows at batch 1: the whole of W, or its two halves
  /// (``splitsRows``), on two cores when the thread count allows.
  private func forEachRowBlock(_ body: (Range<Int>) -> Void) {
    guard splitsRows else {
      body(0..<outputCount)
      return
    }
    // The halves split on a multiple of 16.
    forEachHalf(of: outputCount, splitAt: (outputCount / 2 + 8) & ~15, body)
  }

  /// ``forEachRowBlock(_:)`` for backward at batch 1: each block first adds its rows' share of
  /// ∂x = ∂y·W (the old W), then runs `body` (which may change its rows). With two halves, ∂x
  /// is the first half's product plus the second's, whatever the thread count.
  private func forEachRowBlock(
    inputGradient: UnsafeMutablePointer<Float>?, outputGradient: UnsafePointer<Float>,
    weight: UnsafePointer<Float>, _ body: (Range<Int>) -> Void
  ) {
    let second = secondHalfInputGradient.pointer
    precondition(
      !splitsRows || secondHalfInputGradient.count >= inputCount,
      "Linear used before reserve(batchSize:)")
    forEachRowBlock { rows in
      if let inputGradient {
        BLAS.gemv(
          .transposed, m: rows.count, n: inputCount, a: weight + rows.lowerBound * inputCount,
          lda: inputCount, x: outputGradient + rows.lowerBound,
          y: rows.lowerBound == 0 ? inputGradient : second)
      }
      body(rows)
    }
    if splitsRows, let inputGradient {
      for j in 0..<inputCount { inputGradient[j] += second[j] }
    }
  }

  /// ∂x = ∂y · W   [B, out]·[out, in] for a batch of more than one sample (one sample:
  /// ``forEachRowBlock(inputGradient:outputGradient:weight:_:)``); nothing when `inputGradient` is
  /// nil (first layer).
  private func propagateInputGradient(
    _ outputGradient: UnsafePointer<Float>, into inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, weight: UnsafePointer<Float>
  ) {
    guard let inputGradient else { return }
    BLAS.gemm(
      .none, .none, m: batchSize, n: inputCount, k: outputCount,
      a: outputGradient, lda: outputCount, b: weight, ldb: inputCount,
      c: inputGradient, ldc: inputCount)
  }



}
