import CoLearnNN
import CoLearnPrivacy

/// DP-SGD as a participant's local training (issue 21): one epoch of ``DPSGDTrainer`` charged
/// to the participant's ``Participant/dpsgd`` (its noise and charges), Δw taken around the epoch.
/// Everything uploaded is post-processing of the DP-SGD trajectory, so the upload selection
/// needs no privacy of its own.
///
/// Threading: one thread at a time.
public final class DPSGDLocalTraining: LocalTraining {
  /// The trainer (shared by every participant the runner trains; their noise and charges are
  /// theirs).
  public let trainer: DPSGDTrainer

  /// Called with the participant's charges after its epoch and before anything of it is
  /// uploaded: a deployed participant writes them durably here. An error stops the turn before
  /// the upload.
  public var charged: ((DPSGDCharges) throws -> Void)?

  /// DP-SGD on `network` with `privacy`.
  ///
  /// - Throws: ``DPSGDTrainer/MixedSamplesError`` for a network that mixes samples (batch
  ///   normalisation), whose per-example gradients are not defined.
  public init(network: Network, configuration: SGDConfiguration, privacy: DPSGDConfiguration)
    throws
  {
    trainer = try DPSGDTrainer(network: network, configuration: configuration, privacy: privacy)
  }

  /// - Throws: ``TurnError/missingPrivacyState(participant:mechanism:)`` for a participant
  ///   without DP-SGD state; a ``PrivacyError`` if no noise can be drawn (the steps taken are
  ///   charged first); what ``charged`` throws.
  public func trainEpoch(
    _ participant: inout Participant, changes: UnsafeMutableBufferPointer<Float>
  ) throws {
    guard var state = participant.dpsgd else {
      throw TurnError.missingPrivacyState(participant: participant.id, mechanism: "DP-SGD")
    }
    participant.model.parameters.withUnsafeBufferPointer {
      changes.baseAddress!.update(from: $0.baseAddress!, count: changes.count)
    }
    defer { participant.dpsgd = state }
    _ = try state.trainEpoch(
      trainer, &participant.model, on: participant.samples, using: &participant.generator)
    participant.model.parameters.withUnsafeBufferPointer { w in
      for j in 0..<changes.count { changes[j] = w[j] - changes[j] }
    }
    try charged?(state.charges)
  }
}
