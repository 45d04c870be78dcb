import CoLearnAVX512
import CoLearnTensor

/// The im2col-free kernels of a convolution whose patch is short (K = k·k·C of a first layer
/// with 1 or 3 input channels: 25 for mnist-cnn, 75 for svhn-cnn), for ``Conv2D``.
///
/// With K that small, the im2col GEMMs are long and thin ([B·P, 25]·[25, 32] forward,
/// [32, B·P]·[B·P, 25] for ∂W) and reach a third of the GEMM peak at best (docs/RESULTS.md's
/// profile: mnist-cnn's first convolution took 54% of a batch-32 step). These kernels read the
/// image in place and keep the outputs in registers instead:
///
/// - forward: for 6 neighbouring output positions and 16 output channels at a time, 12 AVX2
///   accumulators gather Σ_k x(p + offset_k) · Wᵀ[k, o] over the patch, starting from the
///   bias (Wᵀ [K, O] is transposed once per call, so a patch value broadcast meets 16
///   contiguous weights);
/// - ∂W: for 5 patch offsets and 16 output channels at a time (10 accumulators: with 12, the
///   register allocator spilled every iteration), Σ_p x(p + offset_k) · ∂y(p, o)
///   over the positions of a group of samples, with ∂y read 16 channels at a time.
///
/// Every sum runs in a fixed order that does not depend on the thread count: forward splits
/// output rows between cores (each output is one core's), ∂W splits (group of samples, block
/// of patch offsets) tasks, each writing its own partial sums, which are then added in group
/// order. A group is ``groupSamples`` samples for a batch's gradient and one sample for
/// DP-SGD's per-example norms, where each partial is one sample's gradient.
///
/// Applies to stride-1 and strided layers without padding whose O is a multiple of 16 and whose
/// K is at most ``maximumPatch``; other layers keep the im2col GEMMs.
///
/// On a CPU with AVX-512 (``KernelInstructions/detected``) a layer whose O is a multiple of 32
/// runs the AVX-512 twins of both kernels instead (CoLearnAVX512's `AVX512Convolution`: 6
/// positions × 64 or 32 channels forward, 5 offsets × 64 or 32 channels for ∂W), with the same
/// bits.
struct DirectConvolution {
  /// The largest K the direct kernels take: measured against the im2col GEMMs with
  /// `colearn bench --profile`, which times both in the same steps. With the bound raised to
  /// take mnist-cnn's and svhn-cnn's second convolutions (K = 800 and 1,600), their forward
  /// passes took 171.8 µs against the GEMM's 47.0 (mnist-cnn, batch 1; 1,237 against 1,257 at
  /// batch 32) and 540 against 236 (svhn-cnn, batch 1; 11,744 against 9,753 at batch 32): a
  /// long patch is what a GEMM is good at, and transposing its W each call costs. The AVX-512
  /// forward kernel (6 × 64 tiles) beats the GEMM on those layers even so: svhn-cnn's second
  /// convolution 139 → 103 µs at batch 1 on one core (its backward, rebuilding the im2col rows
  /// the forward pass no longer leaves, 177 → 184), so ``Conv2D`` runs it for the forward pass
  /// of any K there.
  static let maximumPatch = 256
  /// Samples per ∂W group: partial sums stay a few per batch and each group's ∂y (4 × 100 KB
  /// for mnist-cnn) stays in L2 while its tasks re-read it.
  static let groupSamples = 4
  /// Samples whose partial ∂W the workspace holds at once; larger batches run in chunks.
  static let partialSamples = 64

  /// Where the patches lie (shared with the AVX-512 kernels).
  let patches: ConvolutionPatches
  /// offsets[k]: where the patch's k-th value lies relative to its top-left corner.
  let offsets: [Int]
  /// ``offsets`` padded with zeros to a whole number of ∂W blocks.
  let paddedOffsets: [Int]
  /// Whether this layer runs the AVX-512 kernels (``KernelInstructions/avx512`` and O a
  /// multiple of 32).
  let usesAVX512: Bool
  /// k·C: the patch is k runs of this many values, each contiguous in the image.
  let kernelRowLength: Int
  /// The values of one group's partial ∂Wᵀ: K rounded up to a whole number of blocks, times O
  /// (the rows past K are the padded block's, never read).
  var partialStride: Int { paddedOffsets.count * outputChannels }

  static func applies(patchSize: Int, outputChannels: Int, padding: Int) -> Bool {
    padding == 0 && outputChannels % 16 == 0 && patchSize <= maximumPatch
  }

  /// - Parameter instructions: the kernels' instruction set; ``KernelInstructions/detected``
  ///   except in tests that compare the two.
  init?(
    input: TensorShape, outputChannels: Int, kernelSize: Int, stride: Int, padding: Int,
    instructions: KernelInstructions = .detected
  ) {
    guard padding == 0, outputChannels % 16 == 0 else { return nil }
    let channels = input.channels
    patches = ConvolutionPatches(
      imageSize: input.count, rowStep: stride * input.width * channels,
      positionStep: stride * channels, outputHeight: (input.height - kernelSize) / stride + 1,
      outputWidth: (input.width - kernelSize) / stride + 1, outputChannels: outputChannels,
      patchSize: kernelSize * kernelSize * channels)
    var offsets = [Int]()
    for kh in 0..<kernelSize {
      for j in 0..<(kernelSize * channels) { offsets.append(kh * input.width * channels + j) }
    }
    self.offsets = offsets
    kernelRowLength = kernelSize * channels
    // The last ∂W block repeats offset 0 up to five (k×k patches need none); its extra rows of
    // the partial sums are computed and never read (a whole block is faster than single
    // offsets, whose one accumulator pair waits on the FMA latency).
    while offsets.count % Self.blockOffsets != 0 { offsets.append(0) }
    paddedOffsets = offsets
    usesAVX512 =
      instructions == .avx512 && AVX512Convolution.applies(outputChannels: outputChannels)
  }

  var outputChannels: Int { patches.outputChannels }
  var patchSize: Int { patches.patchSize }
  var positions: Int { patches.positions }
  /// Patch offsets per ∂W task.
  static let blockOffsets = 5
  var offsetBlocks: Int { (patchSize + Self.blockOffsets - 1) / Self.blockOffsets }

  // MARK: - Forward

  /// Rows `rows` of Wᵀ [K, O] from W [O, K], for the forward kernel (`rows` starts on a
  /// multiple of 16). The AVX-512 kernels transpose 16 × 16 blocks in registers; the AVX2 ones
  /// copy row by row of Wᵀ: contiguous stores, strided loads (the other order's scattered
  /// stores cost svhn-cnn's first layer a tenth of its batch-1 forward pass).
  func transpose(
    _ weight: UnsafePointer<Float>, rows: Range<Int>, channels: Range<Int>? = nil,
    into transposed: UnsafeMutablePointer<Float>
  ) {
    let (outputs, patch) = (outputChannels, patchSize)
    if usesAVX512 {
      AVX512Convolution.transpose(
        weight, outputs: outputs, patch: patch, rows: rows, channels: channels, into: transposed)
      return
    }
    precondition(channels == nil, "channel ranges need the AVX-512 kernels")
    for k in rows {
      let row = transposed + k &* outputs
      for o in 0..<outputs { row[o] = weight[o &* patch &+ k] }
    }
  }

  /// y for the output positions `positions` of the batch (position q is sample q / P, output
  /// row and column of q mod P): y(p, o) = b(o) + Σ_k x(p + offsets[k]) · Wᵀ[k, o]. The
  /// positions run in blocks of six across row and sample boundaries, so only the last block of
  /// the range is shorter (a shorter block's accumulators are too few to hide the FMA latency).
  ///
  /// With `applyingTanh`, writes tanh(y) instead (``fastTanh(_:)-(SIMD16<Float>)``, the same
  /// bits as a ``Tanh`` layer after it): the fused convolution–tanh of ``Network``.
  func forward(
    _ x: UnsafePointer<Float>, positions: Range<Int>, channels: Range<Int>? = nil,
    transposedWeight wt: UnsafePointer<Float>, bias: UnsafePointer<Float>, applyingTanh: Bool,
    into y: UnsafeMutablePointer<Float>
  ) {
    @inline(__always) func finish(_ value: SIMD16<Float>) -> SIMD16<Float> {
      applyingTanh ? fastTanh(value) : value
    }
    let outputs = outputChannels
    let end = positions.upperBound
    var position = positions.lowerBound
    offsets.withUnsafeBufferPointer { offsets in
      if usesAVX512 {
        AVX512Convolution.forward(
          x, patches: patches, positions: position..<end, channels: channels,
          offsets: offsets.baseAddress!, transposedWeight: wt, bias: bias,
          applyingTanh: applyingTanh, into: y)
        return
      }
      precondition(channels == nil, "channel ranges need the AVX-512 kernels")
      while position &+ 6 <= end {
        let (c0, c1) = (patches.corner(x, position), patches.corner(x, position &+ 1))
        let (c2, c3) = (patches.corner(x, position &+ 2), patches.corner(x, position &+ 3))
        let (c4, c5) = (patches.corner(x, position &+ 4), patches.corner(x, position &+ 5))
        let out = y + position &* outputs
        var o = 0
        while o < outputs {
          let b = loadLanes(bias + o)
          var (a0, a1, a2, a3, a4, a5) = (b, b, b, b, b, b)
          let w = wt + o
          for k in 0..<patchSize {
            let weights = loadLanes(w + k &* outputs)
            let offset = offsets[k]
            a0 = a0.addingProduct(c0[offset], weights)
            a1 = a1.addingProduct(c1[offset], weights)
            a2 = a2.addingProduct(c2[offset], weights)
            a3 = a3.addingProduct(c3[offset], weights)
            a4 = a4.addingProduct(c4[offset], weights)
            a5 = a5.addingProduct(c5[offset], weights)
          }
          let row = out + o
          storeLanes(finish(a0), row)
          storeLanes(finish(a1), row + outputs)
          storeLanes(finish(a2), row + 2 &* outputs)
          storeLanes(finish(a3), row + 3 &* outputs)
          storeLanes(finish(a4), row + 4 &* outputs)
          storeLanes(finish(a5), row + 5 &* outputs)
          o &+= 16
        }
        position &+= 6
      }
      while position < end {
        let c = patches.corner(x, position)
        var o = 0
        while o < outputs {
          var a = loadLanes(bias + o)
          for k in 0..<patchSize { a = a.addingProduct(c[offsets[k]], loadLanes(wt + o + k &* outputs)) }
          storeLanes(finish(a), y + position &* outputs + o)
          o &+= 16
        }
        position &+= 1
      }
    }
  }

  // MARK: - Weight and bias gradients

  /// Whether ``weightGradientRows(_:outputGradient:channels:rate:into:)`` takes this layer: the
  /// AVX-512 kernels and k·C a multiple of 32 (a kernel row's k·C values lie side by side in
  /// the image whatever the stride).
  var hasWeightGradientRows: Bool { usesAVX512 && kernelRowLength % 32 == 0 }

  /// Output channels `channels` (whole blocks of 4) of one sample's weight gradient in W's
  /// layout [O, K], x and ∂y read in place (no im2col rows): g(o, k) = Σ_p ∂y(p, o) ·
  /// x(p + offsets[k]) over the positions in order. With `rate`, W −= rate · g into `target`
  /// (which holds W); without, g into `target` (CoLearnAVX512's `weightGradientRows`). Needs
  /// ``hasWeightGradientRows``.
  func weightGradientRows(
    _ x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>, channels: Range<Int>,
    rate: Float?, into target: UnsafeMutablePointer<Float>
  ) {
    precondition(hasWeightGradientRows, "weightGradientRows needs the AVX-512 kernels")
    offsets.withUnsafeBufferPointer { offsets in
      AVX512Convolution.weightGradientRows(
        x, dy: dy, patches: patches, sample: 0, channels: channels,
        offsets: offsets.baseAddress!, rowLength: kernelRowLength, rate: rate, into: target)
    }
  }

  /// The ∂W task `task` of a chunk of samples, ordered group-major: group g = task / blocks
  /// (samples `first + g·group ..< …`, at most `group`), offset block task mod blocks.
  /// Writes Σ over the group's samples and positions of x(p + offsets[k]) · ∂y(p, o) into
  /// `partials[g][k][o] (g·``partialStride`` + k·O + o)` for the block's k, and, for block 0, Σ ∂y(p, o) into
  /// `biasPartials[g][o]`.
  func weightGradientTask(
    _ task: Int, x: UnsafePointer<Float>, outputGradient dy: UnsafePointer<Float>,
    samples: Range<Int>, group: Int, partials: UnsafeMutablePointer<Float>,
    biasPartials: UnsafeMutablePointer<Float>
  ) {
    let (g, block) = task.quotientAndRemainder(dividingBy: offsetBlocks)
    let start = samples.lowerBound + g * group
    let groupRange = start..<min(start + group, samples.upperBound)
    let outputs = outputChannels
    let partial = partials + g &* partialStride
    let firstOffset = block &* Self.blockOffsets
    paddedOffsets.withUnsafeBufferPointer { offsets in
      if usesAVX512 {
        AVX512Convolution.weightGradientBlock(
          x, dy: dy, patches: patches, samples: groupRange, offsets: offsets.baseAddress!,
          first: firstOffset, into: partial + firstOffset &* outputs)
        return
      }
      var o = 0
      while o < outputs {
        gradientBlock(
          x, dy: dy + o, samples: groupRange, offsets: offsets, first: firstOffset,
          into: partial + (firstOffset &* outputs &+ o))
        o &+= 16
      }
    }
    guard block == 0 else { return }
    let biasPartial = biasPartials + g * outputs
    var o = 0
    while o < outputs {
      // Two accumulators: one would wait on the add latency at every position.
      var (even, odd) = (SIMD16<Float>(), SIMD16<Float>())
      for b in groupRange {
        let rows = dy + (b &* positions &* outputs &+ o)
        var p = 0
        while p &+ 2 <= positions {
          even += loadLanes(rows + p &* outputs)
          odd += loadLanes(rows + (p &+ 1) &* outputs)
          p &+= 2
        }
        if p < positions { even += loadLanes(rows + p &* outputs) }
      }
      storeLanes(even + odd, biasPartial + o)
      o += 16
    }
  }

  /// Σ x(p + offsets[first + i]) · ∂y(p, 16 channels) for i < 5, over the samples' positions.
  @inline(__always)
  private func gradientBlock(
    _ x: UnsafePointer<Float>, dy: UnsafePointer<Float>, samples: Range<Int>,
    offsets: UnsafeBufferPointer<Int>, first: Int, into out: UnsafeMutablePointer<Float>
  ) {
    let (outputs, step) = (outputChannels, patches.positionStep)
    let (k0, k1, k2) = (offsets[first], offsets[first + 1], offsets[first + 2])
    let (k3, k4) = (offsets[first + 3], offsets[first + 4])
    for i in 0..<5 { storeLanes(SIMD16<Float>(), out + i &* outputs) }
    // The sums go through memory once per output row: accumulators that live across the
    // sample and row loops made the register allocator copy all ten at every position.
    for b in samples {
      let image = x + b &* patches.imageSize
      var g = dy + b &* positions &* outputs
      for oh in 0..<patches.outputHeight {
        var p = image + oh &* patches.rowStep
        var (a0, a1, a2) = (loadLanes(out), loadLanes(out + outputs), loadLanes(out + 2 &* outputs))
        var (a3, a4) = (loadLanes(out + 3 &* outputs), loadLanes(out + 4 &* outputs))
        for _ in 0..<patches.outputWidth {
          let d = loadLanes(g)
          a0 = a0.addingProduct(p[k0], d)
          a1 = a1.addingProduct(p[k1], d)
          a2 = a2.addingProduct(p[k2], d)
          a3 = a3.addingProduct(p[k3], d)
          a4 = a4.addingProduct(p[k4], d)
          p += step
          g += outputs
        }
        storeLanes(a0, out)
        storeLanes(a1, out + outputs)
        storeLanes(a2, out + 2 &* outputs)
        storeLanes(a3, out + 3 &* outputs)
        storeLanes(a4, out + 4 &* outputs)
      }
    }
  }
}
