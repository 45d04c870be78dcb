import Foundation

/// Log-probabilities over the classes of each sample: y_i = x_i − log Σ_j exp(x_j), computed
/// stably by subtracting the maximum first. Shapes: x [B, classes] → y [B, classes].
///
/// Backward: ∂x_i = ∂y_i − exp(y_i) · Σ_j ∂y_j.
public final class LogSoftmax: ShapePreservingLayer {
  public let inputShape: TensorShape

  public init(input: TensorShape) {
    inputShape = input
  }

  public var description: String { "LogSoftmax" }

  public func forward(
    _ input: UnsafePointer<Float>, into output: UnsafeMutablePointer<Float>, batchSize: Int,
    parameters: UnsafePointer<Float>
  ) {
    let classes = inputShape.count
    for b in 0..<batchSize {
      let x = input + b * classes
      let y = output + b * classes
      var maximum = x[0]
      for i in 1..<classes { maximum = max(maximum, x[i]) }
      var sum: Float = 0
      for i in 0..<classes { sum += expf(x[i] - maximum) }
      let shift = maximum + logf(sum)
      for i in 0..<classes { y[i] = x[i] - shift }
    }
  }

  public func backward(
    input: UnsafePointer<Float>, output: UnsafePointer<Float>,
    outputGradient: UnsafePointer<Float>, inputGradient: UnsafeMutablePointer<Float>?,
    batchSize: Int, parameters: UnsafePointer<Float>,
    parameterGradients: UnsafeMutablePointer<Float>
  ) {
    guard let inputGradient else { return }
    let classes = inputShape.count
    for b in 0..<batchSize {
      let y = output + b * classes
      let dy = outputGradient + b * classes
      let dx = inputGradient + b * classes
      var total: Float = 0
      for i in 0..<classes { total += dy[i] }
      for i in 0..<classes { dx[i] = dy[i] - expf(y[i]) * total }
    }
  }
}
