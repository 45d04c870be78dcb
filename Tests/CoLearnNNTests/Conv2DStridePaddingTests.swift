import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Testing

/// One convolution geometry: input H×W×C, O filters of side k, stride s, padding p.
struct ConvolutionCase: Sendable, CustomTestStringConvertible {
  var height: Int, width: Int, channels: Int, outputs: Int, kernel: Int, stride: Int, padding: Int
  /// Passed as `columnBudgetBytes`; 1 forces one sample per chunk.
  var budget = Conv2D.defaultColumnBudgetBytes

  var input: TensorShape { .image(height: height, width: width, channels: channels) }
  var outputHeight: Int { (height + 2 * padding - kernel) / stride + 1 }
  var outputWidth: Int { (width + 2 * padding - kernel) / stride + 1 }

  func layer() -> Conv2D {
    Conv2D(
      input: input, outputChannels: outputs, kernelSize: kernel, stride: stride, padding: padding,
      columnBudgetBytes: budget)
  }

  var testDescription: String {
    "\(height)×\(width)×\(channels) → \(outputs), k \(kernel), s \(stride), p \(padding)"
      + (budget == 1 ? ", one sample per chunk" : "")
  }

  /// Small odd-sized inputs with several channels; padding 2 with k = 2 has patch rows that are
  /// all padding.
  static let stridedOrPadded = [
    ConvolutionCase(height: 7, width: 5, channels: 3, outputs: 2, kernel: 3, stride: 2, padding: 0),
    ConvolutionCase(height: 5, width: 7, channels: 2, outputs: 3, kernel: 3, stride: 1, padding: 1),
    ConvolutionCase(height: 5, width: 5, channels: 3, outputs: 2, kernel: 3, stride: 1, padding: 2),
    ConvolutionCase(height: 7, width: 7, channels: 2, outputs: 3, kernel: 3, stride: 2, padding: 1),
    ConvolutionCase(height: 9, width: 7, channels: 2, outputs: 2, kernel: 3, stride: 3, padding: 2),
    ConvolutionCase(height: 5, width: 5, channels: 2, outputs: 2, kernel: 2, stride: 2, padding: 2),
    ConvolutionCase(
      height: 7, width: 5, channels: 2, outputs: 3, kernel: 3, stride: 2, padding: 1, budget: 1),
  ]
}

/// The convolution written as the textbook loops over (b, oh, ow, o, kh, kw, c), skipping the
/// padded pixels: the forward output, ∂x, ∂W and ∂b for a given ∂y, to test the im2col layer
/// against.
private func naiveConvolution(
  _ geometry: ConvolutionCase, batchSize: Int, x: [Float], parameters: [Float], dy: [Float]
) -> (y: [Float], dx: [Float], dw: [Float]) {
  let (h, w, c, o, k) = (
    geometry.height, geometry.width, geometry.channels, geometry.outputs, geometry.kernel
  )
  let (oh, ow) = (geometry.outputHeight, geometry.outputWidth)
  let biasStart = o * k * k * c
  var y = [Float](repeating: 0, count: batchSize * oh * ow * o)
  var dx = [Float](repeating: 0, count: x.count)
  var dw = [Float](repeating: 0, count: parameters.count)
  for b in 0..<batchSize {
    for i in 0..<oh {
      for j in 0..<ow {
        for f in 0..<o {
          let out = ((b * oh + i) * ow + j) * o + f
          var sum = parameters[biasStart + f]
          dw[biasStart + f] += dy[out]
          for kh in 0..<k {
            for kw in 0..<k {
              let row = i * geometry.stride - geometry.padding + kh
              let column = j * geometry.stride - geometry.padding + kw
              guard row >= 0, row < h, column >= 0, column < w else { continue }
              for ch in 0..<c {
                let wi = ((f * k + kh) * k + kw) * c + ch
                let xi = ((b * h + row) * w + column) * c + ch
                sum += parameters[wi] * x[xi]
                dw[wi] += dy[out] * x[xi]
                dx[xi] += dy[out] * parameters[wi]
              }
            }
          }
          y[out] = sum
        }
      }
    }
  }
  return (y, dx, dw)
}

/// `count` multiples of 1/4 in [−1, 1]: their products and the sums of a few thousand of them
/// are exact in Float, so any summation order gives the same bits.
private func quarters(_ count: Int, seed: Int) -> [Float] {
  (0..<count).map { Float((($0 + seed) * 7 + seed * 3) % 9 - 4) / 4 }
}

/// What one batch through a layer produced.
private struct LayerRun {
  /// The forward output, and backward's ∂x and ∂w.
  var y: [Float], dx: [Float], gradient: [Float]
  /// The fused SGD step as a hidden layer: its ∂x and the updated parameters.
  var fusedDx: [Float], fused: [Float]
  /// The parameters after the fused SGD step as a first layer (no ∂x).
  var fusedFirst: [Float]
}

/// Runs forward, backward and both fused SGD paths (with and without ∂x) of `layer`.
private func runLayer(
  _ layer: Conv2D, batchSize: Int, x: [Float], parameters: [Float], dy: [Float], rate: Float
) -> LayerRun {
  layer.reserve(batchSize: batchSize)
  var y = [Float](repeating: .nan, count: dy.count)
  y.withUnsafeMutableBufferPointer { out in
    layer.forward(x, into: out.baseAddress!, batchSize: batchSize, parameters: parameters)
  }
  var dx = [Float](repeating: .nan, count: x.count)
  var gradient = [Float](repeating: .nan, count: parameters.count)
  dx.withUnsafeMutableBufferPointer { d in
    gradient.withUnsafeMutableBufferPointer { g in
      layer.backward(
        input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
        batchSize: batchSize, parameters: parameters, parameterGradients: g.baseAddress!)
    }
  }
  var fusedDx = [Float](repeating: .nan, count: x.count)
  var fused = parameters
  fused.withUnsafeMutableBufferPointer { p in
    fusedDx.withUnsafeMutableBufferPointer { d in
      layer.backwardApplyingSGD(
        input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!,
        batchSize: batchSize, parameters: p.baseAddress!, rate: rate)
    }
  }
  var fusedFirst = parameters
  fusedFirst.withUnsafeMutableBufferPointer { p in
    layer.backwardApplyingSGD(
      input: x, output: y, outputGradient: dy, inputGradient: nil, batchSize: batchSize,
      parameters: p.baseAddress!, rate: rate)
  }
  return LayerRun(
    y: y, dx: dx, gradient: gradient, fusedDx: fusedDx, fused: fused, fusedFirst: fusedFirst)
}

@Suite struct Conv2DStridePaddingTests {
  @Test(arguments: ConvolutionCase.stridedOrPadded)
  func gradientsMatchFiniteDifferences(geometry: ConvolutionCase) {
    let layer = geometry.layer()
    let expected = TensorShape.image(
      height: geometry.outputHeight, width: geometry.outputWidth, channels: geometry.outputs)
    #expect(layer.outputShape == expected)
    let report = checkGradients(of: layer, batchSize: 2)
    #expect(report.passed, "\(report)")
  }

  /// The fused SGD step, as a hidden layer (∂x wanted) and as a first layer (no ∂x), equals
  /// backward followed by w −= α·∂w, and the hidden layer's ∂x equals backward's.
  @Test(arguments: ConvolutionCase.stridedOrPadded)
  func fusedStepMatchesBackwardThenUpdate(geometry: ConvolutionCase) {
    let layer = geometry.layer()
    let batch = 3
    var generator = SeededGenerator(seed: 5)
    let x = (0..<(batch * geometry.input.count)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    let dy = (0..<(batch * layer.outputShape.count)).map { _ in
      Float.random(in: -1...1, using: &generator)
    }
    let w = (0..<layer.parameterCount).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
    let rate: Float = 0.1
    let run = runLayer(layer, batchSize: batch, x: x, parameters: w, dy: dy, rate: rate)
    let stepped = zip(w, run.gradient).map { $0 - rate * $1 }
    #expect(maximumAbsoluteDifference(run.fused, stepped) < 1e-5)
    #expect(maximumAbsoluteDifference(run.fusedFirst, stepped) < 1e-5)
    #expect(maximumAbsoluteDifference(run.fusedDx, run.dx) < 1e-6)
  }

  /// Forward, ∂x, ∂W, ∂b and the fused steps against the textbook loops, bit for bit: the data
  /// are quarters, so every sum is exact. Includes stride 1 without padding, the paper's path.
  @Test(
    arguments: ConvolutionCase.stridedOrPadded + [
      ConvolutionCase(
        height: 6, width: 5, channels: 2, outputs: 3, kernel: 3, stride: 1, padding: 0),
      ConvolutionCase(
        height: 7, width: 6, channels: 3, outputs: 2, kernel: 2, stride: 1, padding: 0, budget: 1),
    ])
  func matchesNaiveLoopsExactly(geometry: ConvolutionCase) {
    let layer = geometry.layer()
    let batch = 2
    let x = quarters(batch * geometry.input.count, seed: 1)
    let w = quarters(layer.parameterCount, seed: 2)
    let dy = quarters(batch * layer.outputShape.count, seed: 3)
    let reference = naiveConvolution(geometry, batchSize: batch, x: x, parameters: w, dy: dy)
    let rate: Float = 0.5
    let run = runLayer(layer, batchSize: batch, x: x, parameters: w, dy: dy, rate: rate)
    let stepped = zip(w, reference.dw).map { $0 - rate * $1 }
    #expect(run.y == reference.y)
    #expect(run.dx == reference.dx)
    #expect(run.gradient == reference.dw)
    #expect(run.fused == stepped)
    #expect(run.fusedFirst == stepped)
    #expect(run.fusedDx == reference.dx)
  }

  /// A 3×3 single-channel image, 2×2 kernel, stride 2, padding 1, worked by hand: the padded
  /// image is 5×5, so the patch of output (0, 0) holds one pixel and three padded zeros.
  @Test func forwardMatchesHandComputedValues() {
    let layer = Conv2D(
      input: .image(height: 3, width: 3, channels: 1), outputChannels: 1, kernelSize: 2,
      stride: 2, padding: 1)
    #expect(layer.outputShape == .image(height: 2, width: 2, channels: 1))
    layer.reserve(batchSize: 1)
    let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let parameters: [Float] = [1, 10, 100, 1000, 0.5]  // kernel [[1, 10], [100, 1000]], bias 0.5
    var output = [Float](repeating: 0, count: 4)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(image, into: out.baseAddress!, batchSize: 1, parameters: parameters)
    }
    // (0,0): only x(0,0) under weight 1000; (0,1): x(0,1), x(0,2) under 100, 1000;
    // (1,0): x(1,0), x(2,0) under 10, 1000; (1,1): x(1,1), x(1,2), x(2,1), x(2,2) under all four.
    #expect(output == [1000.5, 3200.5, 7040.5, 9865.5])
  }

  /// Stride and padding appear in the description (which feeds the model hash) only when they
  /// are not the defaults, and never change the parameters.
  @Test func descriptionAndParametersOfStridedLayers() {
    let shape = TensorShape.image(height: 28, width: 28, channels: 1)
    let plain = Conv2D(input: shape, outputChannels: 32, kernelSize: 5)
    let explicit = Conv2D(input: shape, outputChannels: 32, kernelSize: 5, stride: 1, padding: 0)
    #expect(plain.description == "Conv2D(1→32, 5×5)")
    #expect(explicit.description == plain.description)
    #expect(
      Conv2D(input: shape, outputChannels: 32, kernelSize: 5, stride: 2).description
        == "Conv2D(1→32, 5×5, stride 2)")
    #expect(
      Conv2D(input: shape, outputChannels: 32, kernelSize: 5, padding: 2).description
        == "Conv2D(1→32, 5×5, padding 2)")
    let both = Conv2D(input: shape, outputChannels: 32, kernelSize: 5, stride: 2, padding: 2)
    #expect(both.description == "Conv2D(1→32, 5×5, stride 2, padding 2)")
    #expect(both.parameterShapes == plain.parameterShapes)
    #expect(both.outputShape == .image(height: 14, width: 14, channels: 32))  // ⌊27/2⌋ + 1
    #expect(plain.outputShape == .image(height: 24, width: 24, channels: 32))
  }
}
