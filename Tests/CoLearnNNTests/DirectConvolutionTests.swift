import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// The im2col-free kernels of short-patch convolutions (`DirectConvolution`, through `Conv2D`)
/// against the im2col GEMMs they replace, which the gradient checks of Conv2DTests cover.
@Suite(.serialized) struct DirectConvolutionTests {
  /// A layer shape: input, output channels, kernel, stride, batch.
  struct Shape: CustomTestStringConvertible, Sendable {
    var input: TensorShape
    var outputs: Int
    var kernel: Int
    var stride: Int
    var batch: Int
    var testDescription: String { "\(input) → \(outputs), \(kernel)×\(kernel)/\(stride), batch \(batch)" }
  }

  static let shapes: [Shape] = [
    // mnist-cnn's first layer: 784 positions per sample (not a multiple of the 6-position
    // block), 5 samples (a group of 4 and one of 1).
    Shape(input: .image(height: 32, width: 32, channels: 1), outputs: 32, kernel: 5, stride: 1, batch: 5),
    // svhn-cnn's first layer: K = 75, four 16-channel blocks.
    Shape(input: .image(height: 32, width: 32, channels: 3), outputs: 64, kernel: 5, stride: 1, batch: 3),
    // K = 9 is not a whole number of 5-offset blocks; 48 channels; batch 1.
    Shape(input: .image(height: 9, width: 11, channels: 1), outputs: 48, kernel: 3, stride: 1, batch: 1),
    // Strided, two channels (K = 32), more samples than one chunk of partial sums holds.
    Shape(input: .image(height: 10, width: 9, channels: 2), outputs: 16, kernel: 4, stride: 2, batch: 70),
  ]

  struct Step {
    var output: [Float]
    var gradients: [Float]
    var updated: [Float]
    var norms: [Float]
  }

  /// Forward, backward (first layer: no ∂x), the fused SGD update and the per-sample squared
  /// gradient norms of one batch, from the same random input, weights and ∂y.
  func step(_ layer: Conv2D, _ shape: Shape) -> Step {
    var generator = SeededGenerator(seed: 21)
    let batch = shape.batch
    layer.reserve(batchSize: batch)
    let x = (0..<(batch * layer.inputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<(batch * layer.outputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let w0 = (0..<layer.parameterCount).map { _ in Float.random(in: -0.3...0.3, using: &generator) }
    var y = [Float](repeating: .nan, count: dy.count)
    var gradients = [Float](repeating: .nan, count: w0.count)
    var updated = w0
    var norms = [Float](repeating: 0, count: batch)
    y.withUnsafeMutableBufferPointer { out in
      layer.forward(x, into: out.baseAddress!, batchSize: batch, parameters: w0)
    }
    gradients.withUnsafeMutableBufferPointer { g in
      layer.backward(
        input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: batch,
        parameters: w0, parameterGradients: g.baseAddress!)
    }
    updated.withUnsafeMutableBufferPointer { p in
      layer.backwardApplyingSGD(
        input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: batch,
        parameters: p.baseAddress!, rate: 0.05)
    }
    norms.withUnsafeMutableBufferPointer { n in
      layer.addPerSampleGradientSquaredNorms(
        input: x, outputGradient: dy, batchSize: batch, into: n.baseAddress!)
    }
    return Step(output: y, gradients: gradients, updated: updated, norms: norms)
  }

  func layers(_ shape: Shape) -> (direct: Conv2D, im2col: Conv2D) {
    let make = { (allows: Bool) in
      Conv2D(
        input: shape.input, outputChannels: shape.outputs, kernelSize: shape.kernel,
        stride: shape.stride, allowsDirectKernels: allows)
    }
    return (make(true), make(false))
  }

  @Test(arguments: shapes)
  func agreesWithTheIm2colGEMMs(shape: Shape) {
    let (direct, im2col) = layers(shape)
    #expect(direct.usesDirectKernels)
    #expect(!im2col.usesDirectKernels)
    let a = step(direct, shape)
    let b = step(im2col, shape)
    // Sums of up to 70 × 20 × 32 products of values below 1: regrouped, not equal.
    #expect(maximumAbsoluteDifference(a.output, b.output) < 1e-5)
    #expect(maximumAbsoluteDifference(a.gradients, b.gradients) < 2e-3)
    #expect(maximumAbsoluteDifference(a.updated, b.updated) < 1e-4)
    for (p, q) in zip(a.norms, b.norms) { #expect(abs(p - q) <= 1e-4 * q) }
    #expect(!a.output.contains { $0.isNaN } && !a.gradients.contains { $0.isNaN })
    #expect(a.gradients.contains { abs($0) > 1 }, "a batch's gradient is not all zeros")
    #expect(a.norms.allSatisfy { $0 > 0 })
  }

  /// The per-sample norms are those of each sample's own gradient: sample b alone, as a batch
  /// of one, gives the same ‖∂W‖² + ‖∂b‖².
  @Test func perSampleNormsAreEachSamplesGradient() {
    let shape = Self.shapes[0]
    let (direct, _) = layers(shape)
    let batch = step(direct, shape)
    var generator = SeededGenerator(seed: 21)
    let x = (0..<(shape.batch * direct.inputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<(shape.batch * direct.outputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let w = (0..<direct.parameterCount).map { _ in Float.random(in: -0.3...0.3, using: &generator) }
    for b in [0, 4] {
      var gradient = [Float](repeating: 0, count: w.count)
      let sampleX = Array(x[(b * direct.inputShape.count)..<((b + 1) * direct.inputShape.count)])
      let sampleDy = Array(dy[(b * direct.outputShape.count)..<((b + 1) * direct.outputShape.count)])
      let unused = [Float](repeating: 0, count: sampleDy.count)  // Conv2D's backward reads no y
      gradient.withUnsafeMutableBufferPointer { g in
        direct.backward(
          input: sampleX, output: unused, outputGradient: sampleDy, inputGradient: nil,
          batchSize: 1, parameters: w, parameterGradients: g.baseAddress!)
      }
      let squared = gradient.reduce(0) { $0 + $1 * $1 }
      #expect(abs(batch.norms[b] - squared) <= 1e-5 * squared)
    }
  }

  /// The forward kernel is differentiated by finite differences (the analytic side is the
  /// im2col backward with ∂x, which a direct layer keeps).
  @Test func forwardMatchesFiniteDifferences() {
    let layer = Conv2D(input: .image(height: 8, width: 9, channels: 2), outputChannels: 16, kernelSize: 3)
    #expect(layer.usesDirectKernels)
    let report = checkGradients(of: layer, batchSize: 2)
    #expect(report.passed, "\(report)")
  }

  /// Forward, ∂W, the update and the norms give the same bits on one core and on two: each
  /// output row and each partial sum belongs to one task, and the partials add in group order.
  @Test func sameBitsOnOneAndTwoCores() {
    let shape = Shape(
      input: .image(height: 32, width: 32, channels: 3), outputs: 64, kernel: 5, stride: 1, batch: 9)
    func run(threads: Int) -> Step {
      let saved = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(saved) }
      return step(layers(shape).direct, shape)
    }
    let one = run(threads: 1)
    let two = run(threads: 2)
    #expect(one.output == two.output)
    #expect(one.gradients == two.gradients)
    #expect(one.updated == two.updated)
    #expect(one.norms == two.norms)
  }

  /// The AVX-512 kernels give the AVX2 kernels' bits: forward, ∂W, the update and the norms of
  /// layers with 32, 64, 96 and 128 channels (blocks of 64, and of 32), 784 positions a sample
  /// (six-position blocks and a tail), strided, and more samples than one chunk of partial sums.
  /// Runs where the CPU has them.
  @Test(
    .enabled(if: KernelInstructions.detected == .avx512, "the AVX-512 kernels are off (the CPU lacks them or COLEARN_MAX_CPU_ISA)"),
    arguments: [
      Shape(input: .image(height: 32, width: 32, channels: 3), outputs: 64, kernel: 5, stride: 1, batch: 3),
      Shape(input: .image(height: 9, width: 11, channels: 2), outputs: 128, kernel: 3, stride: 1, batch: 1),
      Shape(input: .image(height: 10, width: 9, channels: 2), outputs: 64, kernel: 4, stride: 2, batch: 70),
      // mnist-cnn's first layer (blocks of 32), a group of 4 and one of 1.
      Shape(input: .image(height: 28, width: 28, channels: 1), outputs: 32, kernel: 5, stride: 1, batch: 5),
      Shape(input: .image(height: 7, width: 8, channels: 3), outputs: 96, kernel: 3, stride: 1, batch: 2),
    ])
  func avx512KernelsGiveTheAVX2KernelsBits(shape: Shape) {
    func layer(_ instructions: KernelInstructions) -> Conv2D {
      Conv2D(
        input: shape.input, outputChannels: shape.outputs, kernelSize: shape.kernel,
        stride: shape.stride, kernelInstructions: instructions)
    }
    let (wide, narrow) = (layer(.avx512), layer(.baseline))
    #expect(wide.usesAVX512Kernels && !narrow.usesAVX512Kernels && narrow.usesDirectKernels)
    let a = step(wide, shape)
    let b = step(narrow, shape)
    #expect(a.output == b.output)
    #expect(a.gradients == b.gradients)
    #expect(a.updated == b.updated)
    #expect(a.norms == b.norms)
    #expect(a.gradients.contains { abs($0) > 1 }, "a batch's gradient is not all zeros")
  }

  /// On a CPU with AVX-512 a long patch (the presets' second convolutions, K = 800 and 1,600)
  /// runs the direct forward kernel: close to the im2col GEMM's sums (regrouped), with the same
  /// backward pass (the GEMMs over rebuilt columns, so the same bits) and the same bits on one
  /// and two cores.
  @Test(
    .enabled(if: KernelInstructions.detected == .avx512, "the AVX-512 kernels are off (the CPU lacks them or COLEARN_MAX_CPU_ISA)"),
    arguments: [
      Shape(input: .image(height: 9, width: 9, channels: 32), outputs: 64, kernel: 5, stride: 1, batch: 3),
      Shape(input: .image(height: 14, width: 14, channels: 64), outputs: 64, kernel: 5, stride: 1, batch: 2),
    ])
  func longPatchesRunTheDirectForward(shape: Shape) {
    let (direct, im2col) = layers(shape)
    #expect(direct.usesDirectForward && direct.usesAVX512Kernels && !direct.usesDirectKernels)
    #expect(!im2col.usesDirectForward)
    var generator = SeededGenerator(seed: 8)
    let batch = shape.batch
    let x = (0..<(batch * direct.inputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<(batch * direct.outputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let w = (0..<direct.parameterCount).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
    func run(_ layer: Conv2D, threads: Int) -> (y: [Float], dw: [Float], dx: [Float]) {
      let saved = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(saved) }
      layer.reserve(batchSize: batch)
      var y = [Float](repeating: .nan, count: dy.count)
      var dw = [Float](repeating: .nan, count: w.count)
      var dx = [Float](repeating: .nan, count: x.count)
      y.withUnsafeMutableBufferPointer { layer.forward(x, into: $0.baseAddress!, batchSize: batch, parameters: w) }
      dw.withUnsafeMutableBufferPointer { g in
        dx.withUnsafeMutableBufferPointer { d in
          layer.backward(
            input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
            batchSize: batch, parameters: w, parameterGradients: g.baseAddress!)
        }
      }
      return (y, dw, dx)
    }
    let a = run(direct, threads: 1)
    let b = run(im2col, threads: 1)
    let c = run(direct, threads: 2)
    #expect(maximumAbsoluteDifference(a.y, b.y) < 1e-5)
    #expect(a.y.contains { abs($0) > 0.1 } && !a.y.contains { $0.isNaN })
    #expect(a.dw == b.dw && a.dx == b.dx)
    #expect(a.y == c.y && a.dw == c.dw && a.dx == c.dx)
  }

  /// A batch of one sample of a long-patch layer runs as two halves of its output channels
  /// (`Conv2D.splitsChannelsAtBatchOne`): forward, ∂W, ∂x and the fused update agree with the
  /// im2col GEMMs to rounding, and give the same bits on one core, on two, and with the shares
  /// on the caller. Kernel rows of 160 and 96 values (blocks of 32), of 320 (blocks of 64),
  /// stride 2.
  @Test(
    .enabled(if: KernelInstructions.detected == .avx512, "the AVX-512 kernels are off (the CPU lacks them or COLEARN_MAX_CPU_ISA)"),
    arguments: [
      Shape(input: .image(height: 9, width: 9, channels: 32), outputs: 64, kernel: 5, stride: 1, batch: 1),
      Shape(input: .image(height: 14, width: 14, channels: 64), outputs: 64, kernel: 5, stride: 1, batch: 1),
      Shape(input: .image(height: 11, width: 10, channels: 32), outputs: 128, kernel: 3, stride: 2, batch: 1),
    ])
  func oneSampleSplitsTheChannels(shape: Shape) {
    let (split, im2col) = layers(shape)
    #expect(split.splitsChannelsAtBatchOne && !im2col.splitsChannelsAtBatchOne)
    var generator = SeededGenerator(seed: 12)
    let x = (0..<split.inputShape.count).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<split.outputShape.count).map { _ in Float.random(in: -1...1, using: &generator) }
    let w = (0..<split.parameterCount).map { _ in Float.random(in: -0.05...0.05, using: &generator) }
    struct Result: Equatable { var y, dw, dx, updated, updateDx: [Float] }
    func run(_ layer: Conv2D, threads: Int, onCaller: Bool = false) -> Result {
      let saved = BLAS.threadCount
      BLAS.setThreadCount(threads)
      defer { BLAS.setThreadCount(saved) }
      func body() -> Result {
        layer.reserve(batchSize: 1)
        var y = [Float](repeating: .nan, count: dy.count)
        var dw = [Float](repeating: .nan, count: w.count)
        var dx = [Float](repeating: .nan, count: x.count)
        var updated = w
        var updateDx = [Float](repeating: .nan, count: x.count)
        y.withUnsafeMutableBufferPointer { layer.forward(x, into: $0.baseAddress!, batchSize: 1, parameters: w) }
        dw.withUnsafeMutableBufferPointer { g in
          dx.withUnsafeMutableBufferPointer { d in
            layer.backward(
              input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
              batchSize: 1, parameters: w, parameterGradients: g.baseAddress!)
          }
        }
        updated.withUnsafeMutableBufferPointer { p in
          updateDx.withUnsafeMutableBufferPointer { d in
            layer.backwardApplyingSGD(
              input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
              batchSize: 1, parameters: p.baseAddress!, rate: 0.5)
          }
        }
        return Result(y: y, dw: dw, dx: dx, updated: updated, updateDx: updateDx)
      }
      return onCaller ? WorkerPool.shared.withSharesOnCaller(body) : body()
    }
    let a = run(split, threads: 1)
    let reference = run(im2col, threads: 1)
    #expect(!a.y.contains { $0.isNaN } && a.dw.contains { abs($0) > 1 } && a.dx.contains { abs($0) > 0.1 })
    #expect(maximumAbsoluteDifference(a.y, reference.y) < 1e-5)
    #expect(maximumAbsoluteDifference(a.dw, reference.dw) < 1e-4)
    #expect(maximumAbsoluteDifference(a.dx, reference.dx) < 1e-5)
    #expect(maximumAbsoluteDifference(a.updated, reference.updated) < 1e-4)
    #expect(a.updateDx == a.dx)
    #expect(run(split, threads: 2) == a)
    #expect(run(split, threads: 2, onCaller: true) == a)
  }

  /// Which layers take the direct kernels: the short patches of the presets' first layers, not
  /// their second convolutions (K = 800 and 1,600: their ∂W is the im2col GEMM's, and on AVX2
  /// their forward pass too), padded layers, or channel counts that are no multiple of 16.
  @Test func theShortPatchesOfThePresetsTakeTheDirectKernels() {
    func convolutions(_ spec: ModelSpec) -> [Bool] {
      spec.makeLayers().compactMap { ($0 as? Conv2D)?.usesDirectKernels }
    }
    #expect(convolutions(.mnistCNN) == [true, false])
    #expect(convolutions(.svhnCNN) == [true, false])
    let forward = ModelSpec.svhnCNN.makeLayers().compactMap { ($0 as? Conv2D)?.usesDirectForward }
    #expect(forward == [true, KernelInstructions.detected == .avx512])
    let image = TensorShape.image(height: 12, width: 12, channels: 1)
    #expect(!Conv2D(input: image, outputChannels: 16, kernelSize: 5, padding: 2).usesDirectKernels)
    #expect(!Conv2D(input: image, outputChannels: 20, kernelSize: 5).usesDirectKernels)
    // The AVX-512 kernels take whole blocks of 32 channels.
    let avx512 = KernelInstructions.detected == .avx512
    #expect(Conv2D(input: image, outputChannels: 64, kernelSize: 5).usesAVX512Kernels == avx512)
    #expect(Conv2D(input: image, outputChannels: 96, kernelSize: 5).usesAVX512Kernels == avx512)
    #expect(!Conv2D(input: image, outputChannels: 48, kernelSize: 5).usesAVX512Kernels)
  }
}

extension DirectConvolutionTests {
  /// A network fuses a direct convolution and the Tanh after it (tanh applied to the
  /// accumulators): its output has the same bits as the layers run one by one.
  @Test(arguments: [ModelSpec.mnistCNN, .svhnCNN])
  func fusedConvolutionTanhGivesTheLayersBits(spec: ModelSpec) {
    let network = spec.makeNetwork()
    let batch = 3
    network.reserve(batchSize: batch)
    var generator = SeededGenerator(seed: 5)
    var w = [Float](repeating: 0, count: network.parameterCount)
    network.initialize(&w, using: &generator)
    let x = (0..<(batch * network.inputShape.count)).map { _ in Float.random(in: -2...2, using: &generator) }
    let fused = Array(
      UnsafeBufferPointer(
        start: network.forward(x, batchSize: batch, parameters: w),
        count: batch * network.outputShape.count))
    // The same layers one by one, through their own forward passes.
    var current = x
    for (layer, range) in zip(network.layers, network.layout.layerRanges) {
      var next = [Float](repeating: .nan, count: batch * layer.outputShape.count)
      w.withUnsafeBufferPointer { p in
        next.withUnsafeMutableBufferPointer { out in
          layer.forward(
            current, into: out.baseAddress!, batchSize: batch,
            parameters: p.baseAddress! + range.lowerBound)
        }
      }
      current = next
    }
    #expect(network.layers[0] is Conv2D && network.layers[1] is Tanh)
    #expect(fused == current)
  }

  /// The vector tanh is the scalar one lane by lane, over the whole range and its saturation.
  @Test func vectorTanhIsTheScalarTanh() {
    var generator = SeededGenerator(seed: 9)
    for _ in 0..<2_000 {
      var x = SIMD16<Float>()
      for lane in 0..<16 { x[lane] = Float.random(in: -12...12, using: &generator) }
      let y = fastTanh(x)
      for lane in 0..<16 { #expect(y[lane] == fastTanh(x[lane])) }
    }
  }
}
