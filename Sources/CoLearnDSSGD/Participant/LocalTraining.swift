import CoLearnNN

/// Steps 2–3 of a turn (SPEC §6): one local epoch of a participant's model on its shard, writing
/// Δw = w_new − w_old of every parameter (w_old: the model after the download). The upload is
/// chosen from Δw by an ``UploadSelection``.
///
/// A ``DSSGDTurnRunner`` chooses its training once, from ``DSSGDConfiguration/dpsgd``:
/// ``PlainLocalTraining`` (SGD, no formal guarantee) or ``DPSGDLocalTraining`` (record-level
/// DP-SGD, charged to the participant's ``Participant/dpsgd``). A turn never asks which one it
/// has.
public protocol LocalTraining: AnyObject {
  /// One epoch of `participant`'s model on its shard; `changes` (|w| entries) receives Δw.
  ///
  /// - Throws: what the training throws (no privacy noise could be drawn, a charge could not
  ///   be saved); the model may have been trained, nothing has been uploaded.
  func trainEpoch(_ participant: inout Participant, changes: UnsafeMutableBufferPointer<Float>)
    throws
}

/// Plain SGD (the paper's local training): the trainer writes Δw with the epoch's write-back.
///
/// Threading: one thread at a time.
public final class PlainLocalTraining: LocalTraining {
  private let trainer: Trainer

  /// Training `network` with `configuration`.
  public init(network: Network, configuration: SGDConfiguration) {
    trainer = Trainer(network: network, configuration: configuration)
  }

  public func trainEpoch(
    _ participant: inout Participant, changes: UnsafeMutableBufferPointer<Float>
  ) throws {
    _ = trainer.trainEpoch(
      &participant.model, on: participant.samples, using: &participant.generator,
      changes: changes)
  }
}
