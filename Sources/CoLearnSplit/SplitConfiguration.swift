import CoLearnNN

/// Where the cut between participants and coordinator lies, that is, what crosses it.
public enum SplitBoundary: String, Sendable, Hashable, Codable, CaseIterable {
  /// The paper's design: batch-normalised front features, S = 2·√(B−1) per value.
  case features
  /// The paper's comparison (Jiang et al. §4.2, Figure 5): noised raw pixels, S = 255 per
  /// value, and the coordinator trains the whole network on them.
  case pixels
}

/// The settings of a split-learning run (SPEC §9), validated when built (STYLE §11).
public struct SplitConfiguration: Sendable, Hashable, Codable {
  /// N, the number of participants.
  public var participants: Int
  /// B, the mini-batch size; also the batch BatchNorm normalises over, hence S = 2·√(B−1).
  public var batchSize: Int
  /// α, the base learning rate (front and back).
  public var learningRate: Float
  /// d in α_t = α / (1 + t·d) (Torch7, SPEC §4), t the coordinator's step count.
  public var learningRateDecay: Float
  /// ε of every released value; `nil` is ε = ∞: values cross unchanged (no privacy).
  public var epsilon: Double?
  /// What crosses the boundary.
  public var boundary: SplitBoundary

  /// Validates every value: N ≥ 1, B ≥ 2 (BatchNorm over one sample outputs zeros), α > 0,
  /// d ≥ 0, ε finite and above 0 when set.
  ///
  /// - Throws: ``ConfigurationError`` naming the flag and the bad value.
  public init(
    participants: Int, batchSize: Int, learningRate: Float, learningRateDecay: Float = 1e-7,
    epsilon: Double?, boundary: SplitBoundary = .features
  ) throws(ConfigurationError) {
    guard participants >= 1 else {
      throw .outOfRange(
        setting: "participants", value: "\(participants)", expected: "an integer ≥ 1")
    }
    guard batchSize >= 2 else {
      throw .outOfRange(
        setting: "batch-size", value: "\(batchSize)",
        expected: "an integer ≥ 2 (BatchNorm over one sample outputs only zeros)")
    }
    guard learningRate > 0, learningRate.isFinite else {
      throw .outOfRange(setting: "lr", value: "\(learningRate)", expected: "a positive number")
    }
    guard learningRateDecay >= 0, learningRateDecay.isFinite else {
      throw .outOfRange(
        setting: "lr-decay", value: "\(learningRateDecay)", expected: "a number ≥ 0")
    }
    if let epsilon, !(epsilon > 0 && epsilon.isFinite) {
      throw .outOfRange(
        setting: "epsilon", value: "\(epsilon)", expected: "a finite number above 0, or inf")
    }
    self.participants = participants
    self.batchSize = batchSize
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.epsilon = epsilon
    self.boundary = boundary
  }

  /// The Torch7 learning rate after `step` coordinator steps: α / (1 + step·d).
  public func learningRate(atStep step: Int) -> Float {
    learningRate / (1 + Float(step) * learningRateDecay)
  }
}
