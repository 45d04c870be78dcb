import CoLearnNN
import CoLearnTestSupport
import Testing

@Suite struct LinearTests {
  @Test(arguments: [1, 3])
  func gradientsMatchFiniteDifferences(batchSize: Int) {
    let report = checkGradients(of: Linear(inputs: 7, outputs: 5), batchSize: batchSize)
    #expect(report.passed, "\(report)")
  }

  @Test func forwardComputesAffineMap() {
    let layer = Linear(inputs: 2, outputs: 2)
    layer.reserve(batchSize: 1)
    // weight [[1, 2], [3, 4]], bias [10, 20]
    let parameters: [Float] = [1, 2, 3, 4, 10, 20]
    let input: [Float] = [1, -1]
    var output = [Float](repeating: 0, count: 2)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 1, parameters: parameters)
    }
    #expect(output == [9, 19])
  }
}
