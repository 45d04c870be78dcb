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
