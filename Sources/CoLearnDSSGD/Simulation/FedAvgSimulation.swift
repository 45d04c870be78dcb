import CoLearnNN
import CoLearnTensor
import CoLearnWire

/// Federated averaging (McMahan et al., AISTATS 2017) in the same runner and output format as
/// DSSGD, for comparison: every round each participant starts from the global model, trains
/// `localEpochs` epochs on its shard, and sends its whole model; the global model becomes the
/// average of the participants' models weighted by their sample counts.
///
/// Communication per round and participant is the whole vector both ways (counted with the
/// sparse wire encoding of every index, as DSSGD's θ = 1 would be).
public final class FedAvgSimulation: FederatedAlgorithm {
  /// The global model.
  public internal(set) var global: [Float]
  /// The participants (their models hold their last local training result).
  public internal(set) var participants: [Participant]
  /// E, local epochs per round.
  public let localEpochs: Int
  public internal(set) var roundsCompleted = 0

  private let trainer: Trainer
  private var sum: [Double]

  /// - Parameters:
  ///   - localEpochs: E ≥ 1.
  ///   - generator: seeds each participant's stream.
  public init(
    network: Network, training: SGDConfiguration, localEpochs: Int, initialParameters: [Float],
    shards: [LabeledSamples], generator: SeededGenerator
  ) {
    precondition(localEpochs >= 1, "FedAvg needs at least one local epoch")
    global = initialParameters
    self.localEpochs = localEpochs
    participants = Participant.federation(
      shards: shards, network: network, initialParameters: initialParameters,
      generator: generator)
    trainer = Trainer(network: network, configuration: training)
    sum = [Double](repeating: 0, count: initialParameters.count)
  }

  public func runRound() -> RoundStatistics {
    let start = monotonicSeconds()
    let dimension = global.count
    var statistics = RoundStatistics(round: roundsCompleted + 1)
    for j in sum.indices { sum[j] = 0 }
    var totalSamples = 0
    for id in participants.indices {
      train(&participants[id], statistics: &statistics)
      let weight = Double(participants[id].samples.count)
      totalSamples += participants[id].samples.count
      participants[id].model.parameters.withUnsafeBufferPointer { w in
        for j in 0..<dimension { sum[j] += weight * Double(w[j]) }
      }
      statistics.downloadedParameters += dimension
      statistics.downloadBytes += SparseCodec.denseEncodedByteCount(count: dimension)
      statistics.uploadedParameters += dimension
      statistics.uploadBytes += SparseCodec.denseEncodedByteCount(count: dimension)
    }
    let scale = 1 / Double(max(totalSamples, 1))
    for j in 0..<dimension { global[j] = Float(sum[j] * scale) }
    roundsCompleted += 1
    statistics.seconds = monotonicSeconds() - start
    return statistics
  }

  /// The participant takes the global model and trains E epochs.
  private func train(_ participant: inout Participant, statistics: inout RoundStatistics) {
    participant.model.parameters.withUnsafeMutableBufferPointer { w in
      global.withUnsafeBufferPointer { _ = w.update(from: $0) }
    }
    let trainStart = monotonicSeconds()
    for _ in 0..<localEpochs {
      _ = trainer.trainEpoch(
        &participant.model, on: participant.samples, using: &participant.generator)
    }
    statistics.trainSeconds += monotonicSeconds() - trainStart
  }

  public var participantModels: [[Float]] { participants.map(\.model.parameters) }

  public var globalModel: [Float]? { global }
}
