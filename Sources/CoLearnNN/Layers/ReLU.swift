/// The rectifier max(0, x). Shapes: x [B, …] → y [B, …] (same shape).
///
/// Backward: ∂x = ∂y where y > 0, else 0 (the subgradient at 0 is 0, as in Torch7).
public final class ReLU: ShapePreservingLayer {
  public let inputShape: TensorShape

  public init(input: TensorShape) {
    inputShape = input
  }

  public var description: String { "ReLU" }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let n = batchSize * inputShape.count
    for i in 0..<n {
      output[i] = max(input[i], 0)
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let n = batchSize * inputShape.count
    for i in 0..<n {
      inputGradient[i] = output[i] > 0 ? outputGradient[i] : 0
    }
  }
}
