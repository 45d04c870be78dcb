import CoLearnNN
import CoLearnTensor
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

  @Test func sigmoidGradient() {
    // Inputs spread over [−4, 4] so the check covers the curved part and the tails.
    var generator = SeededGenerator(seed: 3)
    let x = (0..<(2 * 24)).map { _ in Float.random(in: -4...4, using: &generator) }
    let report = checkGradients(of: Sigmoid(input: TensorShape(4, 3, 2)), batchSize: 2, input: x)
    #expect(report.passed, "\(report)")
  }

  @Test func sigmoidMatchesDoublePrecisionFormula() {
    let input = (-80...80).map { Float($0) / 4 }  // −20 … 20 in steps of 0.25
    let layer = Sigmoid(input: TensorShape(input.count))
    var output = [Float](repeating: 0, count: input.count)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 1, parameters: input)
    }
    for (x, y) in zip(input, output) {
      let want = 1 / (1 + exp(-Double(x)))
      #expect(abs(Double(y) - want) <= 1e-7 + 1e-6 * want, "σ(\(x)) = \(y), want \(want)")
    }
  }

  /// Large |x| saturates to finite values in [0, 1] with (nearly) zero gradients, never NaN or
  /// overflow; NaN input stays NaN.
  @Test func sigmoidSaturatesWithoutNaN() {
    let input: [Float] = [-100, 100, -1e30, 1e30, -.infinity, .infinity, 0, .nan]
    let layer = Sigmoid(input: TensorShape(input.count))
    var output = [Float](repeating: .nan, count: input.count)
    output.withUnsafeMutableBufferPointer { out in
      layer.forward(input, into: out.baseAddress!, batchSize: 1, parameters: input)
    }
    var gradient = [Float](repeating: .nan, count: input.count)
    let ones = [Float](repeating: 1, count: input.count)
    gradient.withUnsafeMutableBufferPointer { dx in
      layer.backward(
        input: input, output: output, outputGradient: ones, inputGradient: dx.baseAddress!,
        batchSize: 1, parameters: input, parameterGradients: dx.baseAddress!)
    }
    for i in 0..<6 {
      #expect(
        output[i].isFinite && output[i] >= 0 && output[i] <= 1, "σ(\(input[i])) = \(output[i])")
      #expect(gradient[i].isFinite && abs(gradient[i]) < 1e-30, "σ′(\(input[i])) = \(gradient[i])")
    }
    #expect(output[0] < Float.leastNormalMagnitude && output[1] == 1)  // e^−100, subnormal
    #expect(output[2] == 0 && output[3] == 1 && output[4] == 0 && output[5] == 1)
    #expect(output[6] == 0.5 && gradient[6] == 0.25)
    #expect(output[7].isNaN)
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
