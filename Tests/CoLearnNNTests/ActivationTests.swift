import CoLearnNN
import CoLearnTestSupport
import Testing

@Suite struct ActivationTests {
  @Test func tanhGradient() {
    let report = checkGradients(of: Tanh(input: TensorShape(4, 3, 2)), batchSize: 2)
    #expect(report.passed, "\(report)")
  }

  @Test func reluGradient() {
    let report = checkGradients(of: ReLU(input: TensorShape(11)), batchSize: 3)
    #expect(report.passed, "\(report)")
  }

  @Test func logSoftmaxGradient() {
    let report = checkGradients(of: LogSoftmax(input: TensorShape(10)), batchSize: 3)
    #expect(report.passed, "\(report)")
  }

  @Test func logSoftmaxRowsExponentiateToOne() {
    let layer = LogSoftmax(input: TensorShape(4))
    let input: [Float] = [1, 2, 3, 400, -5, 0, 5, 1]
    var output = [Float](repeating: 0, count: 8)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 2, parameters: input)
    }
    for row in 0..<2 {
      let total = output[(row * 4)..<(row * 4 + 4)].reduce(0.0) { $0 + Double(exp($1)) }
      #expect(isApproximatelyEqual(total, 1, absolute: 1e-6))
    }
    #expect(output[3] == 0)  // the dominant logit gets log-probability 0 without overflow
  }
}

import Foundation
