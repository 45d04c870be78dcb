import CoLearnNN
import CoLearnTestSupport
import Testing

/// Runs one forward pass of `layer` on a batch.
private func forward(_ layer: any Layer, _ input: [Float], batchSize: Int) -> [Float] {
  layer.reserve(batchSize: batchSize)
  var output = [Float](repeating: .nan, count: batchSize * layer.outputShape.count)
  output.withUnsafeMutableBufferPointer { out in
    layer.forward(input, into: out.baseAddress!, batchSize: batchSize, parameters: input)
  }
  return output
}

/// Runs forward then backward and returns ∂x for the given ∂y.
private func inputGradient(
  _ layer: any Layer, _ input: [Float], outputGradient: [Float], batchSize: Int
) -> [Float] {
  let output = forward(layer, input, batchSize: batchSize)
  var gradient = [Float](repeating: .nan, count: input.count)
  var unused: [Float] = [0]
  gradient.withUnsafeMutableBufferPointer { dx in
    unused.withUnsafeMutableBufferPointer { dw in
      layer.backward(
        input: input, output: output, outputGradient: outputGradient,
        inputGradient: dx.baseAddress!, batchSize: batchSize, parameters: input,
        parameterGradients: dw.baseAddress!)
    }
  }
  return gradient
}

@Suite struct L2Pool2DTests {
  @Test func outputShapes() {
    #expect(L2Pool2D(input: .image(height: 28, width: 28, channels: 64), size: 2, stride: 2)
      .outputShape == .image(height: 14, width: 14, channels: 64))
    #expect(L2Pool2D(input: .image(height: 10, width: 10, channels: 64), size: 2, stride: 2)
      .outputShape == .image(height: 5, width: 5, channels: 64))
    #expect(L2Pool2D(input: .image(height: 7, width: 8, channels: 2), size: 3, stride: 3)
      .outputShape == .image(height: 2, width: 2, channels: 2))
  }

  @Test(arguments: [1, 2])
  func gradientsWithDroppedBorders(batchSize: Int) {
    let layer = L2Pool2D(input: .image(height: 7, width: 8, channels: 2), size: 3, stride: 3)
    let report = checkGradients(of: layer, batchSize: batchSize)
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: [1, 2])
  func gradientsTwoByTwo(batchSize: Int) {
    let layer = L2Pool2D(input: .image(height: 5, width: 5, channels: 3), size: 2, stride: 2)
    let report = checkGradients(of: layer, batchSize: batchSize, seed: 2)
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: [1, 2])
  func gradientsWithOverlappingWindows(batchSize: Int) {
    let layer = L2Pool2D(input: .image(height: 7, width: 6, channels: 2), size: 3, stride: 2)
    let report = checkGradients(of: layer, batchSize: batchSize, seed: 3)
    #expect(report.passed, "\(report)")
  }

  /// Windows [3, 4, 0, 0] → √(25/4) = 2.5; [1, −1, 1, −1] → 1; [2, 2, 2, 2] → 2; [0, 0, 0, 6] → 3.
  @Test func forwardAveragesSquares() {
    let layer = L2Pool2D(input: .image(height: 4, width: 4, channels: 1), size: 2, stride: 2)
    let input: [Float] = [
      3, 4, 1, -1,
      0, 0, 1, -1,
      2, 2, 0, 0,
      2, 2, 0, 6,
    ]
    #expect(forward(layer, input, batchSize: 1) == [2.5, 1, 2, 3])
    // ∂x = ∂y · x / (4 · y); the first window with ∂y = 10: 10 · 3 / 10 = 3, 10 · 4 / 10 = 4.
    let dx = inputGradient(layer, input, outputGradient: [10, 4, 8, 12], batchSize: 1)
    let expected: [Float] = [
      3, 4, 1, -1,
      0, 0, 1, -1,
      2, 2, 0, 0,
      2, 2, 0, 6,
    ]
    #expect(maximumAbsoluteDifference(dx, expected) < 1e-6)
  }

  @Test func channelsArePooledSeparately() {
    // 1×2×2: channel 0 is [3, 4], channel 1 is [0, 0].
    let layer = L2Pool2D(input: .image(height: 1, width: 2, channels: 2), size: 1, stride: 1)
    #expect(forward(layer, [3, 0, -4, 0], batchSize: 1) == [3, 0, 4, 0])
    let pooled = L2Pool2D(input: .image(height: 2, width: 2, channels: 2), size: 2, stride: 2)
    #expect(forward(pooled, [3, 1, 4, 1, 0, 1, 0, -1], batchSize: 1) == [2.5, 1])
  }

  @Test func zeroWindowHasZeroGradient() {
    let layer = L2Pool2D(input: .image(height: 2, width: 2, channels: 1), size: 2, stride: 2)
    let input: [Float] = [0, 0, 0, 0]
    #expect(forward(layer, input, batchSize: 1) == [0])
    #expect(inputGradient(layer, input, outputGradient: [5], batchSize: 1) == [0, 0, 0, 0])
  }

  @Test func overlappingWindowsAccumulate() {
    // 1×3 with size 1×… is not square, so use 2×3 with size 2 stride 1: the middle column lies in
    // both windows. Every x = 1, so y = 1 and each window adds ∂y · 1 / 4.
    let layer = L2Pool2D(input: .image(height: 2, width: 3, channels: 1), size: 2, stride: 1)
    let input: [Float] = [1, 1, 1, 1, 1, 1]
    #expect(forward(layer, input, batchSize: 1) == [1, 1])
    let dx = inputGradient(layer, input, outputGradient: [4, 8], batchSize: 1)
    #expect(dx == [1, 3, 2, 1, 3, 2])
  }
}
