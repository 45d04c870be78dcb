import CoLearnTensor

/// A training configuration that failed validation; the message names the bad value.
public enum ConfigurationError: Error, CustomStringConvertible, Equatable {
  /// A value outside its allowed range: the setting's flag name, the value, and the range.
  case outOfRange(setting: String, value: String, expected: String)

  public var description: String {
    switch self {
    case .outOfRange(let setting, let value, let expected):
      return "invalid --\(setting) \(value): expected \(expected)"
    }
  }
}

/// Local training settings (SPEC §4, §5): plain SGD with Torch7 learning-rate decay, optionally
/// selective.
public struct SGDConfiguration: Sendable, Hashable, Codable {
  /// α, the base learning rate.
  public var learningRate: Float
  /// d in α_t = α / (1 + t·d) (Torch7 `learningRateDecay`; SPEC §4 uses 1e-7).
  public var learningRateDecay: Float
  /// M, the mini-batch size.
  public var batchSize: Int
  /// θ of selective SGD (SPEC §5): the fraction of parameters updated at each step, chosen by
  /// the largest |gradient|. 1 is plain SGD.
  public var selectFraction: Double

  /// Validates every value (α > 0, d ≥ 0, M ≥ 1, θ in (0, 1]).
  /// - Throws: ``ConfigurationError`` naming the first bad value.
  public init(
    learningRate: Float, learningRateDecay: Float = 1e-7, batchSize: Int,
    selectFraction: Double = 1
  ) throws(ConfigurationError) {
    guard learningRate > 0, learningRate.isFinite else {
      throw .outOfRange(setting: "lr", value: "\(learningRate)", expected: "a positive number")
    }
    guard learningRateDecay >= 0, learningRateDecay.isFinite else {
      throw .outOfRange(
        setting: "lr-decay", value: "\(learningRateDecay)", expected: "a number ≥ 0")
    }
    guard batchSize >= 1 else {
      throw .outOfRange(setting: "batch-size", value: "\(batchSize)", expected: "an integer ≥ 1")
    }
    guard selectFraction > 0, selectFraction <= 1 else {
      throw .outOfRange(
        setting: "select-fraction", value: "\(selectFraction)", expected: "a fraction in (0, 1]")
    }
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.batchSize = batchSize
    self.selectFraction = selectFraction
  }

  /// The Torch7 learning rate after `step` mini-batch steps: α / (1 + step·d) (SPEC §4).
  public func learningRate(atStep step: Int) -> Float {
    learningRate / (1 + Float(step) * learningRateDecay)
  }

  /// k = ceil(θ·|w|), the number of parameters a selective step updates.
  public func selectedCount(parameterCount: Int) -> Int {
    fractionCount(selectFraction, of: parameterCount)
  }
}
