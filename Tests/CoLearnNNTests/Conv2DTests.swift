import CoLearnNN
import CoLearnTestSupport
import Testing

@Suite struct Conv2DTests {
  @Test(arguments: [1, 2])
  func gradientsMatchFiniteDifferences(batchSize: Int) {
    let layer = Conv2D(input: .image(height: 6, width: 5, channels: 2), outputChannels: 3, kernelSize: 3)
    let report = checkGradients(of: layer, batchSize: batchSize)
    #expect(report.passed, "\(report)")
  }

  @Test func singleChannelFirstLayerGradients() {
    let layer = Conv2D(input: .image(height: 7, width: 7, channels: 1), outputChannels: 2, kernelSize: 5)
    let report = checkGradients(of: layer, batchSize: 2)
    #expect(report.passed, "\(report)")
  }

  /// A hand-computed 3×3 single-channel image convolved with a 2×2 kernel.
  @Test func forwardMatchesDirectConvolution() {
    let layer = Conv2D(input: .image(height: 3, width: 3, channels: 1), outputChannels: 1, kernelSize: 2)
    layer.reserve(batchSize: 1)
    let image: [Float] = [1, 2, 3, 4, 5, 6, 7, 8, 9]
    let parameters: [Float] = [1, 0, 0, -1, 0.5]  // kernel [[1, 0], [0, -1]], bias 0.5
    var output = [Float](repeating: 0, count: 4)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(image, into: out.baseAddress!, batchSize: 1, parameters: parameters)
    }
    #expect(output == [-3.5, -3.5, -3.5, -3.5])
  }

  /// Channels-last with two input and two output channels against a direct loop.
  @Test func multiChannelForwardMatchesDirectLoop() {
    let (h, w, c, o, k) = (4, 5, 2, 2, 3)
    let layer = Conv2D(input: .image(height: h, width: w, channels: c), outputChannels: o, kernelSize: k)
    layer.reserve(batchSize: 1)
    let image = (0..<(h * w * c)).map { Float(($0 * 7) % 11) - 5 }
    let parameters = (0..<(o * k * k * c + o)).map { Float(($0 * 5) % 9) * 0.25 - 1 }
    var output = [Float](repeating: 0, count: (h - k + 1) * (w - k + 1) * o)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(image, into: out.baseAddress!, batchSize: 1, parameters: parameters)
    }
    for oh in 0..<(h - k + 1) {
      for ow in 0..<(w - k + 1) {
        for oc in 0..<o {
          var sum = parameters[o * k * k * c + oc]
          for kh in 0..<k {
            for kw in 0..<k {
              for ic in 0..<c {
                let weight = parameters[((oc * k + kh) * k + kw) * c + ic]
                sum += weight * image[((oh + kh) * w + (ow + kw)) * c + ic]
              }
            }
          }
          let got = output[(oh * (w - k + 1) + ow) * o + oc]
          #expect(abs(got - sum) < 1e-4)
        }
      }
    }
  }
}

extension Conv2DTests {
  /// A budget of one byte forces one sample per chunk: gradients and the fused update must be
  /// the same as with the whole batch in one chunk.
  @Test func chunkedBatchesMatchOneChunk() {
    let shape = TensorShape.image(height: 6, width: 7, channels: 2)
    let chunked = Conv2D(input: shape, outputChannels: 3, kernelSize: 3, columnBudgetBytes: 1)
    let report = checkGradients(of: chunked, batchSize: 3)
    #expect(report.passed, "\(report)")

    let whole = Conv2D(input: shape, outputChannels: 3, kernelSize: 3)
    for layer in [chunked, whole] { layer.reserve(batchSize: 3) }
    var generator = SeededGenerator(seed: 4)
    let x = (0..<(3 * shape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let dy = (0..<(3 * whole.outputShape.count)).map { _ in Float.random(in: -1...1, using: &generator) }
    let w0 = (0..<whole.parameterCount).map { _ in Float.random(in: -0.5...0.5, using: &generator) }
    func step(_ layer: Conv2D) -> ([Float], [Float], [Float]) {
      var w = w0
      var y = [Float](repeating: 0, count: dy.count)
      var dx = [Float](repeating: 0, count: x.count)
      y.withUnsafeMutableBufferPointer { out in
        layer.forward(x, into: out.baseAddress!, batchSize: 3, parameters: w)
      }
      w.withUnsafeMutableBufferPointer { p in
        dx.withUnsafeMutableBufferPointer { d in
          layer.backwardApplyingSGD(
            input: x, output: y, outputGradient: dy, inputGradient: d.baseAddress!, batchSize: 3,
            parameters: p.baseAddress!, rate: 0.1)
        }
      }
      return (y, dx, w)
    }
    let a = step(chunked)
    let b = step(whole)
    #expect(maximumAbsoluteDifference(a.0, b.0) < 1e-5)
    #expect(maximumAbsoluteDifference(a.1, b.1) < 1e-5)
    #expect(maximumAbsoluteDifference(a.2, b.2) < 1e-5)
  }
}

import CoLearnTensor

extension Conv2DTests {
  /// Backward reuses the forward pass's im2col rows of a one-chunk batch: the gradients are
  /// those of a layer that rebuilds them (one that ran no forward pass), and a second forward
  /// pass on other samples is what backward then sees.
  @Test func backwardReusesTheForwardRowsOfTheSameBatch() {
    let shape = TensorShape.image(height: 9, width: 9, channels: 32)
    let make = { Conv2D(input: shape, outputChannels: 64, kernelSize: 5) }
    let (reusing, rebuilding) = (make(), make())
    #expect(!reusing.usesDirectKernels, "K = 800: the im2col path")
    var generator = SeededGenerator(seed: 12)
    let batch = 3
    func random(_ count: Int) -> [Float] { (0..<count).map { _ in Float.random(in: -1...1, using: &generator) } }
    let (first, second) = (random(batch * shape.count), random(batch * shape.count))
    let dy = random(batch * reusing.outputShape.count)
    let w = random(reusing.parameterCount)
    func gradients(_ layer: Conv2D, forward inputs: [[Float]], backward x: [Float]) -> ([Float], [Float]) {
      layer.reserve(batchSize: batch)
      var y = [Float](repeating: 0, count: dy.count)
      for input in inputs {
        y.withUnsafeMutableBufferPointer { out in
          layer.forward(input, into: out.baseAddress!, batchSize: batch, parameters: w)
        }
      }
      var g = [Float](repeating: .nan, count: w.count)
      var dx = [Float](repeating: .nan, count: x.count)
      g.withUnsafeMutableBufferPointer { gp in
        dx.withUnsafeMutableBufferPointer { dxp in
          layer.backward(
            input: x, output: y, outputGradient: dy, inputGradient: dxp.baseAddress!,
            batchSize: batch, parameters: w, parameterGradients: gp.baseAddress!)
        }
      }
      return (g, dx)
    }
    let reused = gradients(reusing, forward: [first, second], backward: second)
    let rebuilt = gradients(rebuilding, forward: [], backward: second)
    // Compared by their largest difference: a failure prints one number, not 51,264.
    #expect(maximumAbsoluteDifference(reused.0, rebuilt.0) == 0)
    #expect(maximumAbsoluteDifference(reused.1, rebuilt.1) == 0)
    #expect(!reused.0.contains { $0.isNaN } && !reused.1.contains { $0.isNaN })
    // Rows held for other samples are not taken for these.
    let other = gradients(make(), forward: [second], backward: first)
    let fresh = gradients(make(), forward: [], backward: first)
    #expect(maximumAbsoluteDifference(other.0, fresh.0) == 0)
  }
}
