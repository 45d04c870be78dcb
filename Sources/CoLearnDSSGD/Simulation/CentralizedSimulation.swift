import CoLearnNN
import CoLearnTensor

/// The `centralized` baseline (paper §6.4): one model trained with plain SGD on the pooled data
/// of all participants (the union of their shards), one epoch per round. It is reported as the
/// global model and as the single "participant".
public final class CentralizedSimulation: FederatedAlgorithm {
  /// The model.
  public internal(set) var model: LocalModel
  public internal(set) var roundsCompleted = 0
  private let pooled: LabeledSamples
  private let trainer: Trainer
  var generator: SeededGenerator

  public init(
    network: Network, training: SGDConfiguration, initialParameters: [Float],
    shards: [LabeledSamples], generator: SeededGenerator
  ) {
    model = LocalModel(parameters: initialParameters)
    let sampleSize = shards.first?.sampleSize ?? network.inputShape.count
    pooled = network.trainingSamples(
      LabeledSamples(
        features: shards.flatMap(\.features), labels: shards.flatMap(\.labels),
        sampleSize: sampleSize))
    trainer = Trainer(network: network, configuration: training)
    self.generator = generator.derived(stream: 1)
  }

  public func runRound() -> RoundStatistics {
    let start = monotonicSeconds()
    _ = trainer.trainEpoch(&model, on: pooled, using: &generator)
    roundsCompleted += 1
    let seconds = monotonicSeconds() - start
    return RoundStatistics(round: roundsCompleted, seconds: seconds, trainSeconds: seconds)
  }

  public var participantModels: [[Float]] { [model.parameters] }

  public var globalModel: [Float]? { model.parameters }
}
