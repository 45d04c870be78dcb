import CoLearnNN
import CoLearnTensor
import CoLearnWire
import Foundation

/// N participants and a parameter server in one process, running distributed selective SGD in
/// turns (SPEC §6, paper §5): each participant downloads θ_d of the global parameters (those
/// with the largest `stat`) over its local model, trains one local epoch, and uploads the
/// selected, bounded entries of Δw = w_new − w_old; after N turns the server decays `stat`.
///
/// All participants share one network and trainer (workspaces), so memory grows with N only by
/// the parameter vectors. `round-robin` and `random-order` runs are reproducible bit for bit
/// from the seeds (at a fixed thread count).
///
/// Threading: one thread drives a federation.
public final class DSSGDSimulation: FederatedAlgorithm {
  /// The DSSGD settings.
  public let configuration: DSSGDConfiguration
  /// The server.
  public private(set) var server: ParameterServerState
  /// The participants.
  public private(set) var participants: [Participant]
  /// Rounds completed.
  public private(set) var roundsCompleted = 0

  private let trainer: Trainer
  private var selector: any UpdateSelector
  private var downloadSelector = MagnitudeSelector()
  private var orderGenerator: SeededGenerator
  private var previous: [Float]
  private var delta: [Float]

  /// A federation whose server starts from `initialParameters`, as does every participant.
  ///
  /// - Parameters:
  ///   - shards: one training shard per participant (N of them).
  ///   - generator: seeds the participants' streams and the turn order.
  public init(
    network: Network, training: SGDConfiguration, configuration: DSSGDConfiguration,
    initialParameters: [Float], shards: [LabeledSamples], generator: SeededGenerator
  ) {
    precondition(shards.count == configuration.participants, "one shard per participant")
    precondition(initialParameters.count == network.parameterCount, "wrong parameter count")
    self.configuration = configuration
    self.server = ParameterServerState(
      parameters: initialParameters, statDecay: configuration.statDecay)
    self.participants = shards.enumerated().map { id, shard in
      Participant(
        id: id, model: LocalModel(parameters: initialParameters), samples: shard,
        generator: generator.derived(stream: UInt64(id) + 1))
    }
    self.trainer = Trainer(network: network, configuration: training)
    switch configuration.selection {
    case .largest: selector = LargestSelector()
    case .threshold: selector = ThresholdSelector(threshold: configuration.threshold)
    }
    orderGenerator = generator.derived(stream: 0x0DE5)
    previous = initialParameters
    delta = [Float](repeating: 0, count: initialParameters.count)
  }

  /// The order of the next round's turns.
  private func nextOrder() -> [Int] {
    var order = Array(participants.indices)
    if configuration.order == .randomOrder { order.shuffle(using: &orderGenerator) }
    return order
  }

  /// Runs one round: every participant takes one turn, then the server decays `stat`.
  public func runRound() -> RoundStatistics {
    let start = monotonicSeconds()
    var statistics = RoundStatistics(
      round: roundsCompleted + 1, seconds: 0, trainSeconds: 0, uploadedParameters: 0,
      uploadBytes: 0, downloadedParameters: 0, downloadBytes: 0)
    let k = fractionCount(configuration.uploadFraction, of: server.dimension)
    for id in nextOrder() {
      // In place: the participant's parameter vector is not copied.
      takeTurn(&participants[id], uploadCount: k, statistics: &statistics)
    }
    server.decayStatistics()
    roundsCompleted += 1
    statistics.seconds = monotonicSeconds() - start
    return statistics
  }

  /// Download → train one epoch → Δw → select → bound → upload, for one participant.
  private func takeTurn(
    _ participant: inout Participant, uploadCount k: Int, statistics: inout RoundStatistics
  ) {
    // 1. Download θ_d of the global parameters over the local model.
    let download = server.download(fraction: configuration.downloadFraction, using: &downloadSelector)
    participant.model.parameters.withUnsafeMutableBufferPointer { w in
      for (index, value) in zip(download.indices, download.values) { w[Int(index)] = value }
    }
    statistics.downloadedParameters += download.count
    statistics.downloadBytes += SparseCodec.encodedByteCount(download)
    // 2. w_old, then one local epoch.
    previous.withUnsafeMutableBufferPointer { old in
      participant.model.parameters.withUnsafeBufferPointer { old.update(from: $0) }
    }
    let trainStart = monotonicSeconds()
    _ = trainer.trainEpoch(&participant.model, on: participant.samples, using: &participant.generator)
    statistics.trainSeconds += monotonicSeconds() - trainStart
    // 3. Δw = w_new − w_old.
    delta.withUnsafeMutableBufferPointer { d in
      participant.model.parameters.withUnsafeBufferPointer { w in
        previous.withUnsafeBufferPointer { old in
          for j in d.indices { d[j] = w[j] - old[j] }
        }
      }
    }
    // 4–5. Select, bound, upload.
    let upload = delta.withUnsafeBufferPointer { d in
      selector.select(
        from: d, count: k, bound: configuration.bound, using: &participant.generator)
    }
    do {
      try server.apply(upload)
    } catch {
      preconditionFailure("a selector produced an invalid upload: \(error)")
    }
    statistics.uploadedParameters += upload.count
    statistics.uploadBytes += SparseCodec.encodedByteCount(upload)
  }
}

extension DSSGDSimulation {
  public func evaluate(
    on test: LabeledSamples, with network: Network, batchSize: Int
  ) -> FederationEvaluation {
    FederationEvaluation(
      models: participants.map(\.model.parameters), global: server.parameters, on: test,
      with: network, batchSize: batchSize)
  }
}
