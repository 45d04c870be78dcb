import CoLearnPrivacy
import CoLearnTensor

/// The differentially private selections (SPEC §8) as an ``UploadSelection``: the sparse vector
/// technique or the exponential mechanism on Δw, with ε per participant and epoch charged to the
/// participant's ledger (``Participant/privacy``) and its own noise source. A participant whose
/// budget refuses the epoch uploads nothing (and keeps training).
///
/// The unit of ε: neighbouring inputs differ in one participant's parameter changes of that
/// epoch (each value bounded by γ), not in one training record.
///
/// Threading: one thread at a time.
public final class PrivateUploadSelection: UploadSelection {
  /// The mechanism.
  public enum Mechanism: Sendable, Hashable {
    /// The sparse vector technique with threshold τ.
    case sparseVector(threshold: Float)
    /// The exponential mechanism.
    case exponential
  }

  /// What every ε of a private selection protects, and over what, in words (privacy ledgers
  /// state it).
  public static let unit =
    "upload-level, per participant: neighbouring inputs differ in one participant's parameter "
    + "changes of one epoch (each value bounded by γ), NOT in one training record; ε per epoch, "
    + "totals over this participant's epochs"

  /// The mechanism.
  public let mechanism: Mechanism
  /// ε per participant and epoch.
  public let epsilon: Double
  /// γ: the bound of every released value (the sensitivity is 2γ).
  public let bound: Float
  private var sparseVector = SparseVectorTechnique()
  private var exponential = ExponentialMechanism()

  /// Called with the participant's ledger after the selection charged it and before the upload
  /// leaves: a deployed participant writes it durably here, so that no crash after the upload
  /// can resume with a ledger that lacks the epoch. An error stops the turn before the upload.
  public var charged: ((PrivacyLedger) throws -> Void)?

  /// `mechanism` at ε per epoch, releasing values bounded by γ = `bound`.
  public init(_ mechanism: Mechanism, epsilon: Double, bound: Float) {
    self.mechanism = mechanism
    self.epsilon = epsilon
    self.bound = bound
  }

  /// - Throws: ``TurnError/missingPrivacyState(participant:mechanism:)`` for a participant
  ///   without a ledger; a ``PrivacyError`` if no noise can be drawn; what ``charged`` throws.
  public func upload(
    from delta: UnsafeBufferPointer<Float>, count k: Int, participant: inout Participant
  ) throws -> SparseVector? {
    guard var privacy = participant.privacy else {
      throw TurnError.missingPrivacyState(
        participant: participant.id, mechanism: mechanism == .exponential ? "exponential" : "svt")
    }
    defer { participant.privacy = privacy }
    guard privacy.ledger.beginEpoch(epsilon: epsilon, capacity: k) else { return nil }
    let (vector, report) =
      switch mechanism {
      case .sparseVector(let threshold):
        try sparseVector.select(
          delta: delta, count: k, bound: bound, threshold: threshold, epsilon: epsilon,
          noise: &privacy.noise)
      case .exponential:
        try exponential.select(
          delta: delta, count: k, bound: bound, epsilon: epsilon, noise: &privacy.noise)
      }
    privacy.ledger.record(report)
    try charged?(privacy.ledger)
    return vector
  }
}
