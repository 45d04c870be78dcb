import CoLearnNN
import CoLearnTensor
import CoLearnTestSupport
import Foundation
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

/// The golden fixture written by Tests/Fixtures/nn/make_subtractive_norm.py.
private struct Fixture: Decodable {
  var shape: [Int]
  var kernelSize: Int
  var input: [Float]
  var output: [Double]

  static func load() throws -> Fixture {
    let url = URL(fileURLWithPath: #filePath)
      .deletingLastPathComponent().deletingLastPathComponent()
      .appendingPathComponent("Fixtures/nn/subtractive_norm.json")
    return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: url))
  }
}

@Suite struct SubtractiveNormalizationTests {
  /// 6×9 with the 7-tap kernel: every row and column is within 3 of a border.
  @Test(arguments: [1, 2])
  func gradientsAtAllBorders(batchSize: Int) {
    let layer = SubtractiveNormalization(input: .image(height: 6, width: 9, channels: 3))
    let report = checkGradients(of: layer, batchSize: batchSize)
    #expect(report.passed, "\(report)")
  }

  @Test func gradientsWithSmallKernelAndSingleChannel() {
    let layer = SubtractiveNormalization(input: .image(height: 5, width: 4, channels: 1), kernelSize: 3)
    let report = checkGradients(of: layer, batchSize: 2, seed: 5)
    #expect(report.passed, "\(report)")
  }

  @Test func kernelIsTorchGaussian1D() {
    // image.gaussian1D(7): exp(−((i − 4) / 1.75)² / 2), i = 1…7, then normalised.
    let raw = (1...7).map { exp(-pow((Double($0) - 4) / 1.75, 2) / 2) }
    let total = raw.reduce(0, +)
    let kernel = SubtractiveNormalization.gaussianKernel(size: 7)
    #expect(kernel.count == 7)
    for i in 0..<7 {
      #expect(isApproximatelyEqual(Double(kernel[i]), raw[i] / total, absolute: 1e-7))
      #expect(kernel[i] == kernel[6 - i])
    }
    #expect(isApproximatelyEqual(Double(kernel.reduce(0, +)), 1, absolute: 1e-6))
  }

  /// A constant image has local mean equal to the constant everywhere, borders included, thanks to
  /// the division by the kernel mass inside the image.
  @Test(arguments: [(6, 9, 3), (14, 14, 64), (5, 5, 2), (2, 1, 1)])
  func constantImageBecomesZero(height: Int, width: Int, channels: Int) {
    let layer = SubtractiveNormalization(
      input: .image(height: height, width: width, channels: channels))
    let input = [Float](repeating: 2.5, count: 2 * height * width * channels)
    let output = forward(layer, input, batchSize: 2)
    #expect(output.allSatisfy { abs($0) < 1e-6 })
  }

  /// The same local mean is subtracted from every channel, so channel differences are preserved.
  @Test func channelDifferencesArePreserved() {
    let layer = SubtractiveNormalization(input: .image(height: 4, width: 5, channels: 2))
    var generator = SeededGenerator(seed: 9)
    let input = (0..<40).map { _ in Float.random(in: -1...1, using: &generator) }
    let output = forward(layer, input, batchSize: 1)
    for p in 0..<20 {
      let before = input[2 * p] - input[2 * p + 1]
      let after = output[2 * p] - output[2 * p + 1]
      #expect(abs(before - after) < 1e-6)
    }
  }

  /// A single impulse: the local mean at the impulse is g_c² · value / (C · mass) with the centre
  /// tap g_c = g_4 and the mass inside a 7×7 image whose centre is the impulse (all of it, 1).
  @Test func impulseAtTheCentre() {
    let layer = SubtractiveNormalization(input: .image(height: 7, width: 7, channels: 1))
    var input = [Float](repeating: 0, count: 49)
    input[24] = 1
    let output = forward(layer, input, batchSize: 1)
    let kernel = SubtractiveNormalization.gaussianKernel(size: 7)
    #expect(abs(output[24] - (1 - kernel[3] * kernel[3])) < 1e-6)
    // A neighbour (row 3, column 4) gets −g_4 · g_5 / mass, with mass 1 − g_7 (one column out).
    let expected = -kernel[3] * kernel[2] / (1 - kernel[6])
    #expect(abs(output[25] - expected) < 1e-6)
  }

  /// Golden values from the NumPy port of the peer reference (2×7×9×3, NHWC).
  @Test func matchesPeerReferenceFixture() throws {
    let fixture = try Fixture.load()
    let (batch, height, width, channels) = (
      fixture.shape[0], fixture.shape[1], fixture.shape[2], fixture.shape[3]
    )
    let layer = SubtractiveNormalization(
      input: .image(height: height, width: width, channels: channels),
      kernelSize: fixture.kernelSize)
    let output = forward(layer, fixture.input, batchSize: batch)
    #expect(output.count == fixture.output.count)
    var worst = 0.0
    for i in output.indices {
      worst = max(worst, abs(Double(output[i]) - fixture.output[i]))
    }
    #expect(worst < 2e-6, "worst difference \(worst)")
  }
}
