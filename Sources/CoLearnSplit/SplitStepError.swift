/// Why ``SplitCoordinator/trainCheckingFiniteness(on:labels:batchSize:rate:featureGradient:)``
/// refused a step: it would have produced a non-finite value. The back was left unchanged.
public enum SplitStepError: Error, Equatable, Sendable, CustomStringConvertible {
  /// The batch's mean loss is NaN or ±∞.
  case nonFiniteLoss(Float)
  /// ∂L/∂features at `index` (sample-major) is NaN or ±∞.
  case nonFiniteFeatureGradient(index: Int, value: Float)
  /// The SGD update would make back parameter `index` NaN or ±∞ (`count` parameters in all
  /// would be).
  case nonFiniteParameter(index: Int, value: Float, count: Int)

  public var description: String {
    switch self {
    case .nonFiniteLoss(let loss):
      return "the step's loss is \(loss)"
    case .nonFiniteFeatureGradient(let index, let value):
      return "∂L/∂features value \(index) is \(value)"
    case .nonFiniteParameter(let index, let value, let count):
      return "the update would make \(count) back parameter(s) non-finite (the first, \(index), "
        + "\(value))"
    }
  }
}
