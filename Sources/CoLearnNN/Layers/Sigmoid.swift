import Foundation

/// The elementwise logistic function σ(x) = 1 / (1 + e^(−x)). Shapes: x [B, …] → y [B, …] (same
/// shape).
///
/// Forward never exponentiates a positive number, so it cannot overflow: for x ≥ 0,
/// σ(x) = 1 / (1 + e^(−x)); for x < 0, σ(x) = e^x / (1 + e^x). Large |x| saturates to exactly 1,
/// or to 0 through ever smaller positive values, never to NaN; NaN stays NaN. Backward uses the
/// saved output: ∂x = ∂y · y · (1 − y), which is 0 (or nearly) where the output saturated.
public final class Sigmoid: ShapePreservingLayer {
  public let inputShape: TensorShape

  public init(input: TensorShape) {
    inputShape = input
  }

  public var description: String { "Sigmoid" }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    parallelChunks(count: batchSize * inputShape.count, costPerItem: 1) { _, range in
      for i in range {
        let x = input[i]
        if x >= 0 {
          output[i] = 1 / (1 + expf(-x))
        } else {
          let e = expf(x)
          output[i] = e / (1 + e)
        }
      }
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
        inputGradient[i] = outputGradient[i] * y * (1 - y)
      }
    }
  }
}
