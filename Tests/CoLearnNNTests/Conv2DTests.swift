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
