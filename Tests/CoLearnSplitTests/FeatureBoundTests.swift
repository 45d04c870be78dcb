import CoLearnNN
import CoLearnPrivacy
import CoLearnSplit
import CoLearnTensor
import Testing

/// The bound the sensitivity rests on: after the front's BatchNorm every feature lies in
/// [−√(B−1), √(B−1)], and the bound is reached.
@Suite struct FeatureBoundTests {
  @Test(arguments: [2, 8, 64])
  func frontFeaturesStayWithinTheBound(batchSize: Int) {
    let architecture = SplitArchitecture.paper
    let front = architecture.makeFront()
    front.reserve(batchSize: batchSize)
    var generator = SeededGenerator(seed: UInt64(batchSize))
    var parameters = [Float](repeating: 0, count: front.parameterCount)
    front.initialize(&parameters, using: &generator)
    let bound = Float(batchNormBound(batchSize: batchSize))
    var largest: Float = 0
    for trial in 0..<4 {
      // Heavy-tailed random images: mostly small values, a few outlier samples.
      let images = (0..<(batchSize * front.inputShape.count)).map { i -> Float in
        let sample = i / front.inputShape.count
        let scale: Float = sample == trial % batchSize ? 50 : 1
        return scale * Float.random(in: -1...1, using: &generator)
      }
      let features = images.withUnsafeBufferPointer { x in
        parameters.withUnsafeBufferPointer { w in
          Array(
            UnsafeBufferPointer(
              start: front.forward(x.baseAddress!, batchSize: batchSize, parameters: w.baseAddress!),
              count: batchSize * front.outputShape.count))
        }
      }
      for value in features { largest = max(largest, abs(value)) }
    }
    #expect(largest <= bound * (1 + 1e-5), "max |feature| \(largest) > √(B−1) = \(bound)")
    #expect(largest > 0.5 * bound, "an outlier sample comes close to the bound")
  }

  /// Tightness: one sample apart from B − 1 equal ones gives exactly ±√(B−1) in the front's
  /// BatchNorm, for the batch sizes of the paper.
  @Test(arguments: [2, 32, 64, 128])
  func theBoundIsReached(batchSize: Int) throws {
    let front = SplitArchitecture.paper.makeFront()
    let batchNorm = try #require(front.layers.last as? BatchNorm)
    batchNorm.reserve(batchSize: batchSize)
    let count = batchNorm.inputShape.count
    var input = [Float](repeating: -0.75, count: batchSize * count)
    for f in 0..<count { input[f] = f.isMultiple(of: 2) ? 3 : -9 }
    var output = [Float](repeating: .nan, count: input.count)
    output.withUnsafeMutableBufferPointer { y in
      batchNorm.forward(input, into: y.baseAddress!, batchSize: batchSize, parameters: input)
    }
    let bound = batchNormBound(batchSize: batchSize)
    // Float32 arithmetic can overshoot the exact bound by a few ulps (11.269468 against
    // 11.269428 at B = 128): that is why BoundedLaplaceRelease clamps every value to the interval
    // on its grid before adding noise, so the sensitivity holds exactly anyway.
    for f in 0..<count {
      #expect(abs(abs(Double(output[f])) - bound) < 1e-5 * bound)
    }
    #expect(featureSensitivity(batchSize: batchSize) == 2 * bound)
    #expect(featureSensitivity(batchSize: 64) == 2 * 63.0.squareRoot())
  }
}
