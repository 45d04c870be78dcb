import CoLearnNN
import CoLearnTensor
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

/// Distinct values 0.05 apart in a seeded random order, so that no finite-difference step
/// (0.01) changes which element of a window is the maximum.
private func distinctValues(_ count: Int, seed: UInt64) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  return (0..<count).map { Float($0) * 0.05 - Float(count) * 0.025 }.shuffled(using: &generator)
}

@Suite struct MaxPool2DTests {
  @Test func outputShapesDropLeftoverRowsAndColumns() {
    #expect(MaxPool2D(input: .image(height: 28, width: 28, channels: 32), size: 3, stride: 3)
      .outputShape == .image(height: 9, width: 9, channels: 32))
    #expect(MaxPool2D(input: .image(height: 5, width: 5, channels: 64), size: 2, stride: 2)
      .outputShape == .image(height: 2, width: 2, channels: 64))
    #expect(MaxPool2D(input: .image(height: 7, width: 8, channels: 2), size: 3, stride: 3)
      .outputShape == .image(height: 2, width: 2, channels: 2))
    #expect(MaxPool2D(input: .image(height: 7, width: 6, channels: 1), size: 3, stride: 2)
      .outputShape == .image(height: 3, width: 2, channels: 1))
  }

  @Test(arguments: [1, 2])
  func gradientsWithDroppedBorders(batchSize: Int) {
    // 7×8 with 3/3: row 6 and columns 6, 7 are dropped.
    let layer = MaxPool2D(input: .image(height: 7, width: 8, channels: 2), size: 3, stride: 3)
    let input = distinctValues(batchSize * layer.inputShape.count, seed: 3)
    let report = checkGradients(of: layer, batchSize: batchSize, input: input)
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: [1, 2])
  func gradientsTwoByTwo(batchSize: Int) {
    let layer = MaxPool2D(input: .image(height: 5, width: 5, channels: 3), size: 2, stride: 2)
    let input = distinctValues(batchSize * layer.inputShape.count, seed: 4)
    let report = checkGradients(of: layer, batchSize: batchSize, input: input)
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: [1, 2])
  func gradientsWithOverlappingWindows(batchSize: Int) {
    let layer = MaxPool2D(input: .image(height: 7, width: 6, channels: 2), size: 3, stride: 2)
    let input = distinctValues(batchSize * layer.inputShape.count, seed: 5)
    let report = checkGradients(of: layer, batchSize: batchSize, input: input)
    #expect(report.passed, "\(report)")
  }

  @Test func forwardOfFourByFour() {
    let layer = MaxPool2D(input: .image(height: 4, width: 4, channels: 1), size: 2, stride: 2)
    let input: [Float] = [
      1, 5, 2, 0,
      3, -1, 7, 4,
      -2, -3, 0, 0,
      -4, -1, 6, 9,
    ]
    #expect(forward(layer, input, batchSize: 1) == [5, 7, -1, 9])
    let dx = inputGradient(layer, input, outputGradient: [10, 20, 30, 40], batchSize: 1)
    #expect(dx == [0, 10, 0, 0, 0, 0, 20, 0, 0, 0, 0, 0, 0, 30, 0, 40])
  }

  @Test func channelsArePooledSeparately() {
    // 2×2×2, channels interleaved: channel 0 is [1, 4, 2, 3], channel 1 is [8, 5, 6, 7].
    let layer = MaxPool2D(input: .image(height: 2, width: 2, channels: 2), size: 2, stride: 2)
    let input: [Float] = [1, 8, 4, 5, 2, 6, 3, 7]
    #expect(forward(layer, input, batchSize: 1) == [4, 8])
    let dx = inputGradient(layer, input, outputGradient: [1, 2], batchSize: 1)
    #expect(dx == [0, 2, 1, 0, 0, 0, 0, 0])
  }

  @Test func tiesGoToTheFirstMaximumInRowMajorOrder() {
    let layer = MaxPool2D(input: .image(height: 2, width: 2, channels: 1), size: 2, stride: 2)
    #expect(inputGradient(layer, [3, 3, 3, 3], outputGradient: [1], batchSize: 1) == [1, 0, 0, 0])
    #expect(inputGradient(layer, [0, 2, 2, 1], outputGradient: [1], batchSize: 1) == [0, 1, 0, 0])
  }

  @Test func overlappingWindowsAccumulate() {
    // 3×3 with size 2 stride 1: the centre is the maximum of all four windows.
    let layer = MaxPool2D(input: .image(height: 3, width: 3, channels: 1), size: 2, stride: 1)
    let input: [Float] = [0, 1, 0, 2, 9, 3, 0, 4, 0]
    #expect(forward(layer, input, batchSize: 1) == [9, 9, 9, 9])
    let dx = inputGradient(layer, input, outputGradient: [1, 2, 3, 4], batchSize: 1)
    #expect(dx == [0, 0, 0, 0, 10, 0, 0, 0, 0])
  }

  @Test func samplesOfABatchAreIndependent() {
    let layer = MaxPool2D(input: .image(height: 3, width: 3, channels: 1), size: 3, stride: 3)
    let input: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 1]
    #expect(forward(layer, input, batchSize: 2) == [9, 9])
    let dx = inputGradient(layer, input, outputGradient: [1, 2], batchSize: 2)
    #expect(dx == [0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 0, 0, 0, 0])
  }

  /// 11 channels: one SIMD block of 8 and 3 scalar channels, against a direct loop, with ties.
  @Test func vectorisedChannelsMatchADirectLoop() {
    let (h, w, c, size, stride) = (7, 8, 11, 3, 2)
    let layer = MaxPool2D(input: .image(height: h, width: w, channels: c), size: size, stride: stride)
    layer.reserve(batchSize: 2)
    // Few distinct values, so that many windows hold ties.
    let input = (0..<(2 * h * w * c)).map { Float(($0 * 7919) % 5) }
    var output = [Float](repeating: 0, count: 2 * layer.outputShape.count)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 2, parameters: input)
    }
    let (oh, ow) = (layer.outputShape.height, layer.outputShape.width)
    var gradient = [Float](repeating: 0, count: input.count)
    var expectedGradient = [Float](repeating: 0, count: input.count)
    for b in 0..<2 {
      for y in 0..<oh {
        for x in 0..<ow {
          for channel in 0..<c {
            var best = -Float.infinity
            var at = -1
            for i in 0..<size {
              for j in 0..<size {
                let index = ((b * h + y * stride + i) * w + x * stride + j) * c + channel
                if input[index] > best { best = input[index]; at = index }
              }
            }
            let o = ((b * oh + y) * ow + x) * c + channel
            #expect(output[o] == best)
            expectedGradient[at] += Float(o + 1)
          }
        }
      }
    }
    let upstream = (0..<output.count).map { Float($0 + 1) }
    gradient.withUnsafeMutableBufferPointer { dx in
      layer.backward(
        input: input, output: output, outputGradient: upstream, inputGradient: dx.baseAddress!,
        batchSize: 2, parameters: input, parameterGradients: dx.baseAddress!)
    }
    #expect(gradient == expectedGradient, "the first maximum of each window gets its gradient")
  }
}
