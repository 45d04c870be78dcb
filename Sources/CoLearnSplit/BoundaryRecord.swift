import CoLearnPrivacy

/// √(B − 1): the largest |value| a per-feature BatchNorm (mean 0, variance 1, no ε) can output
/// over a batch of B (Jiang et al. §3, inequality (2); ``CoLearnNN/BatchNorm``). It is reached
/// when one sample differs from the B − 1 others, which are then all equal.
public func batchNormBound(batchSize: Int) -> Double {
  precondition(batchSize >= 1, "batch size \(batchSize) < 1")
  return Double(batchSize - 1).squareRoot()
}

/// S = 2·√(B − 1), the sensitivity of one batch-normalised feature (Jiang et al. §3).
public func featureSensitivity(batchSize: Int) -> Double {
  2 * batchNormBound(batchSize: batchSize)
}

/// What crossed the boundary from a participant to the coordinator in one step, and under which
/// privacy parameters: one row of a run's audit (`audit.csv`). Together with the values
/// themselves (``BoundaryCrossing/values``, dumped by `--audit-values`) it says exactly what the
/// coordinator saw.
public struct BoundaryRecord: Sendable, Hashable, Codable {
  /// The coordinator's step, from 1.
  public var step: Int
  /// The epoch, from 1.
  public var epoch: Int
  /// The sending participant.
  public var participant: Int
  /// B of this batch (the last batch of a participant's epoch may be smaller).
  public var batchSize: Int
  /// What was sent: features or pixels.
  public var boundary: SplitBoundary
  /// The number of values sent (B × values per sample).
  public var valueCount: Int
  /// The labels sent with them, in the clear (B).
  public var labelCount: Int
  /// ε of each value; `nil` when nothing was noised (ε = ∞).
  public var epsilon: Double?
  /// c, the centre of the interval the values were clamped to before noise.
  public var center: Float
  /// γ, its half-width: √(B−1) for features, 127.5 raw pixel levels (standardised) for pixels.
  public var bound: Float
  /// S = 2γ.
  public var sensitivity: Double
  /// S/ε (0 when not noised).
  public var nominalScale: Double
  /// The scale applied on the grid, ≥ S/ε (0 when not noised).
  public var appliedScale: Double
  /// The grid step of the released values (0 when not noised).
  public var gridStep: Double
  /// The number of values of ∂L/∂(sent values) the coordinator returned (B × d features; the
  /// gradient with respect to the noisy values equals the one with respect to the clean ones).
  public var gradientValuesReturned: Int
  /// The number of front-gradient values the sender shared with the other participants so that
  /// every front takes the same step (not noised; never sent to the coordinator in this design).
  public var frontGradientValuesShared: Int

  /// A record from its fields (the simulation's observer and `split participate` build them).
  public init(
    step: Int, epoch: Int, participant: Int, batchSize: Int, boundary: SplitBoundary,
    valueCount: Int, labelCount: Int, epsilon: Double?, center: Float, bound: Float,
    sensitivity: Double, nominalScale: Double, appliedScale: Double, gridStep: Double,
    gradientValuesReturned: Int, frontGradientValuesShared: Int
  ) {
    self.step = step
    self.epoch = epoch
    self.participant = participant
    self.batchSize = batchSize
    self.boundary = boundary
    self.valueCount = valueCount
    self.labelCount = labelCount
    self.epsilon = epsilon
    self.center = center
    self.bound = bound
    self.sensitivity = sensitivity
    self.nominalScale = nominalScale
    self.appliedScale = appliedScale
    self.gridStep = gridStep
    self.gradientValuesReturned = gradientValuesReturned
    self.frontGradientValuesShared = frontGradientValuesShared
  }
}

/// A boundary crossing as the observer of ``SplitSimulation/runEpoch(observer:)`` sees it: the
/// record and the values the coordinator received, valid only during the call.
public struct BoundaryCrossing {
  /// The privacy parameters and counts.
  public let record: BoundaryRecord
  /// The released values, B × values per sample, sample-major.
  public let values: UnsafeBufferPointer<Float>
  /// The B labels, sent in the clear.
  public let labels: UnsafeBufferPointer<Int32>

  /// A crossing of `values` and `labels` (valid while the record is used).
  public init(
    record: BoundaryRecord, values: UnsafeBufferPointer<Float>, labels: UnsafeBufferPointer<Int32>
  ) {
    self.record = record
    self.values = values
    self.labels = labels
  }
}
