import CoLearnNN
import CoLearnTensor

/// The `standalone` baseline (paper §6.4): every participant trains alone on its own shard, one
/// epoch per round, and nothing is exchanged. There is no global model.
public final class StandaloneSimulation: FederatedAlgorithm {
  /// The participants.
  public internal(set) var participants: [Participant]
  public internal(set) var roundsCompleted = 0
  private let trainer: Trainer

  public init(
    network: Network, training: SGDConfiguration, initialParameters: [Float],
    shards: [LabeledSamples], generator: SeededGenerator
  ) {
    participants = Participant.federation(
      shards: shards, network: network, initialParameters: initialParameters,
      generator: generator)
    trainer = Trainer(network: network, configuration: training)
  }

  public func runRound() -> RoundStatistics {
    let start = monotonicSeconds()
    for id in participants.indices {
      train(&participants[id])
    }
    roundsCompleted += 1
    let seconds = monotonicSeconds() - start
    return RoundStatistics(round: roundsCompleted, seconds: seconds, trainSeconds: seconds)
  }

  /// One local epoch, in place.
  private func train(_ participant: inout Participant) {
    _ = trainer.trainEpoch(
      &participant.model, on: participant.samples, using: &participant.generator)
  }

  public var participantModels: [[Float]] { participants.map(\.model.parameters) }

  public var globalModel: [Float]? { nil }
}
