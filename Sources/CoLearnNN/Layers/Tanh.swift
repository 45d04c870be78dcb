import CoLearnTensor

/// The elementwise hyperbolic tangent. Shapes: x [B, …] → y [B, …] (same shape).
///
/// Forward uses ``fastTanh(_:)`` (absolute error below 4e-7); backward uses the saved output:
/// ∂x = ∂y · (1 − y²).
public final class Tanh: ShapePreservingLayer {
  public let inputShape: TensorShape

  public init(input: TensorShape) {
    inputShape = input
  }

  public var description: String { "Tanh" }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    parallelChunks(count: batchSize * inputShape.count, costPerItem: 1) { _, range in
      fastTanh(input + range.lowerBound, into: output + range.lowerBound, count: range.count)
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    parallelChunks(count: batchSize * inputShape.count, costPerItem: 1) { _, range in
      for i in range {
        let y = output[i]
        inputGradient[i] = outputGradient[i] * (1 - y * y)
      }
    }
  }
}
