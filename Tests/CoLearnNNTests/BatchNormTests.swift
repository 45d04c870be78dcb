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

/// Samples whose features are well separated (so that, at batch 2, no finite-difference step
/// comes close to making two samples equal, where the B = 2 output jumps from −1 to +1).
private func separatedBatch(count: Int, batchSize: Int, seed: UInt64) -> [Float] {
  var generator = SeededGenerator(seed: seed)
  var values: [Float] = []
  for b in 0..<batchSize {
    for _ in 0..<count {
      values.append(Float(b) * 0.7 + Float.random(in: -0.2...0.2, using: &generator))
    }
  }
  return values
}

@Suite struct BatchNormTests {
  @Test(arguments: [1, 2, 4])
  func gradientsPerFeature(batchSize: Int) {
    let layer = BatchNorm(input: .image(height: 3, width: 2, channels: 2))
    let input = separatedBatch(count: 12, batchSize: batchSize, seed: 7)
    let report = checkGradients(of: layer, batchSize: batchSize, input: input, step: 1e-3)
    #expect(report.passed, "\(report)")
  }

  @Test func gradientsWithRandomBatch() {
    let layer = BatchNorm(input: TensorShape(5), epsilon: 0)
    let report = checkGradients(of: layer, batchSize: 6, step: 1e-3)
    #expect(report.passed, "\(report)")
  }

  @Test(arguments: [1, 2])
  func gradientsPerChannel(batchSize: Int) {
    let layer = BatchNorm(input: .image(height: 3, width: 2, channels: 2), perChannel: true)
    let report = checkGradients(of: layer, batchSize: batchSize, step: 1e-3)
    #expect(report.passed, "\(report)")
  }

  @Test func twoSamplesBecomePlusMinusOne() {
    let layer = BatchNorm(input: TensorShape(3), epsilon: 0)
    let output = forward(layer, [1, 5, -2, 3, 1, 10], batchSize: 2)
    #expect(output == [-1, 1, -1, 1, -1, 1])
    // With the default ε the values shrink by √(σ² / (σ² + ε)), σ = 1 here.
    let defaultLayer = BatchNorm(input: TensorShape(1))
    let shrunk = forward(defaultLayer, [0, 2], batchSize: 2)
    let expected = 1 / (1 + 1e-5 as Float).squareRoot()
    #expect(maximumAbsoluteDifference(shrunk, [-expected, expected]) < 1e-7)
  }

  @Test func eachFeatureHasMeanZeroAndVarianceOne() {
    let layer = BatchNorm(input: TensorShape(4), epsilon: 0)
    let batchSize = 8
    var generator = SeededGenerator(seed: 11)
    let input = (0..<(4 * batchSize)).map { _ in Float.random(in: -3...5, using: &generator) }
    let output = forward(layer, input, batchSize: batchSize)
    for f in 0..<4 {
      let column = (0..<batchSize).map { Double(output[$0 * 4 + f]) }
      let mean = column.reduce(0, +) / Double(batchSize)
      let variance = column.reduce(0) { $0 + $1 * $1 } / Double(batchSize)
      #expect(abs(mean) < 1e-6)
      #expect(abs(variance - 1) < 1e-5)
    }
  }

  @Test func perChannelPoolsOverPositions() {
    // 1×2×2 image, batch 1: channel 0 has values [0, 2], channel 1 has [1, 1].
    let layer = BatchNorm(input: .image(height: 1, width: 2, channels: 2), epsilon: 0, perChannel: true)
    #expect(forward(layer, [0, 1, 2, 1], batchSize: 1) == [-1, 0, 1, 0])
  }

  @Test func singleSampleAndConstantFeaturesGiveZero() {
    let layer = BatchNorm(input: TensorShape(3))
    #expect(forward(layer, [4, -2, 7], batchSize: 1) == [0, 0, 0])
    let exact = BatchNorm(input: TensorShape(2), epsilon: 0)
    let output = forward(exact, [3, 1, 3, 2, 3, 3], batchSize: 3)
    let root = (1.5 as Float).squareRoot()  // (x − 2) / √(2/3) for x = 1, 2, 3
    #expect(maximumAbsoluteDifference(output, [0, -root, 0, 0, 0, root]) < 1e-6)
  }

  /// |y| ≤ √(B − 1), with equality when one sample differs from the B − 1 others (SPEC §9 uses
  /// S = 2·√(B − 1)).
  @Test(arguments: [2, 3, 5, 32])
  func outputIsBoundedBySquareRootOfBatchMinusOne(batchSize: Int) {
    let bound = Float(batchSize - 1).squareRoot()
    let layer = BatchNorm(input: TensorShape(3), epsilon: 0)
    // Tight case: sample 0 is the outlier in every feature.
    var input = [Float](repeating: 0.25, count: 3 * batchSize)
    input[0] = 10
    input[1] = -3
    input[2] = 0.5
    let output = forward(layer, input, batchSize: batchSize)
    for f in 0..<3 {
      #expect(abs(abs(output[f]) - bound) < 1e-5 * bound)
    }
    // Random batches stay inside the bound.
    var generator = SeededGenerator(seed: UInt64(batchSize))
    for _ in 0..<50 {
      let random = (0..<(3 * batchSize)).map { _ in
        Float.random(in: -1...1, using: &generator) * (Bool.random(using: &generator) ? 100 : 1)
      }
      let y = forward(layer, random, batchSize: batchSize)
      #expect(y.allSatisfy { abs($0) <= bound * (1 + 1e-6) })
    }
  }
}
