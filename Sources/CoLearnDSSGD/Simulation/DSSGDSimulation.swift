import CoLearnNN
import CoLearnTensor
import CoLearnWire
import Foundation
import Synchronization

/// N participants and a parameter server in one process, running distributed selective SGD
/// (SPEC §6, paper §5): in each turn a participant downloads θ_d of the global parameters (those
/// with the largest `stat`) over its local model, trains one local epoch, and uploads the
/// selected, bounded entries of Δw = w_new − w_old; after N turns the server decays `stat`.
///
/// - `round-robin` / `random-order`: turns one after the other (a fixed order, or a fresh random
///   order per round); reproducible bit for bit from the seeds at a fixed thread count.
/// - `async`: one worker per core takes turns concurrently; downloads and uploads go through a
///   lock, and each download is stale (the server as of the end of the previous round) with
///   probability p_stale.
///
/// Participants share the workspaces (network, trainer, buffers) of the worker running them, so
/// memory grows with N only by the parameter vectors.
///
/// Threading: one thread drives a simulation; `async` rounds fan out internally.
public final class DSSGDSimulation: FederatedAlgorithm {
  /// The DSSGD settings.
  public let configuration: DSSGDConfiguration
  /// The participants.
  public private(set) var participants: [Participant]
  /// Rounds completed.
  public private(set) var roundsCompleted = 0

  private let serverState: Mutex<ParameterServerState>
  private let workspaces: [TurnWorkspace]
  private var orderGenerator: SeededGenerator

  /// A simulation whose server starts from `initialParameters`, as does every participant.
  ///
  /// - Parameters:
  ///   - makeNetwork: builds the model's network; called once per worker (one for the
  ///     sequential protocols, one per core for `async`).
  ///   - shards: one training shard per participant (N of them).
  ///   - generator: seeds the participants' streams and the turn order.
  ///   - concurrency: workers for `async` (default: the cores of the shared worker pool).
  public init(
    makeNetwork: () -> Network, training: SGDConfiguration, configuration: DSSGDConfiguration,
    initialParameters: [Float], shards: [LabeledSamples], generator: SeededGenerator,
    concurrency: Int = WorkerPool.shared.maximumWidth
  ) {
    precondition(shards.count == configuration.participants, "one shard per participant")
    self.configuration = configuration
    serverState = Mutex(
      ParameterServerState(parameters: initialParameters, statDecay: configuration.statDecay))
    participants = Participant.federation(
      shards: shards, initialParameters: initialParameters, generator: generator)
    let workers =
      configuration.order == .async
      ? max(1, min(concurrency, shards.count, WorkerPool.shared.maximumWidth)) : 1
    workspaces = (0..<workers).map { _ in
      let network = makeNetwork()
      precondition(initialParameters.count == network.parameterCount, "wrong parameter count")
      return TurnWorkspace(network: network, training: training, configuration: configuration)
    }
    orderGenerator = generator.derived(stream: 0x0DE5)
  }

  /// Participants trained at once: one per worker for `async`, else 1.
  public var workerCount: Int { workspaces.count }

  /// A copy of the server's state.
  public var server: ParameterServerState { serverState.withLock { $0 } }

  public func runRound() -> RoundStatistics {
    let start = monotonicSeconds()
    var statistics = RoundStatistics(round: roundsCompleted + 1)
    let dimension = serverState.withLock { $0.dimension }
    let k = fractionCount(configuration.uploadFraction, of: dimension)
    switch configuration.order {
    case .roundRobin, .randomOrder:
      var order = Array(participants.indices)
      if configuration.order == .randomOrder { order.shuffle(using: &orderGenerator) }
      for id in order {
        // In place: the participant's parameter vector is not copied.
        takeTurn(&participants[id], workspace: workspaces[0], uploadCount: k, stale: nil)
      }
    case .async:
      runConcurrentTurns(uploadCount: k)
    }
    for workspace in workspaces { statistics.add(workspace.takeStatistics()) }
    serverState.withLock { $0.decayStatistics() }
    roundsCompleted += 1
    statistics.seconds = monotonicSeconds() - start
    return statistics
  }

  /// One worker per workspace pulls participants from a shared counter until all N have had a
  /// turn. BLAS runs single-threaded inside (the cores are busy with participants).
  private func runConcurrentTurns(uploadCount k: Int) {
    let stale = serverState.withLock { $0 }
    let next = Atomic<Int>(0)
    let count = participants.count
    let savedThreads = BLAS.threadCount
    BLAS.setThreadCount(1)
    defer { BLAS.setThreadCount(savedThreads) }
    participants.withUnsafeMutableBufferPointer { all in
      WorkerPool.shared.run(width: workspaces.count) { worker in
        while true {
          let id = next.add(1, ordering: .relaxed).oldValue
          guard id < count else { return }
          takeTurn(&all[id], workspace: workspaces[worker], uploadCount: k, stale: stale)
        }
      }
    }
  }

  /// Download → train one epoch → Δw → select → bound → upload, for one participant.
  ///
  /// - Parameter stale: for `async`, the previous round's server state, served instead of the
  ///   live one with probability p_stale.
  private func takeTurn(
    _ participant: inout Participant, workspace: TurnWorkspace, uploadCount k: Int,
    stale: ParameterServerState?
  ) {
    // 1. Download θ_d of the global parameters over the local model.
    let useStale =
      stale != nil
      && Double.random(in: 0..<1, using: &participant.generator) < configuration.staleProbability
    let source = useStale ? stale : nil
    if configuration.downloadFraction >= 1 {
      // θ_d = 1: the whole vector, copied straight over the local model.
      participant.model.parameters.withUnsafeMutableBufferPointer { w in
        if let source {
          source.copyParameters(into: w)
        } else {
          serverState.withLock { $0.copyParameters(into: w) }
        }
      }
      let dimension = participant.model.parameters.count
      workspace.statistics.downloadedParameters += dimension
      workspace.statistics.downloadBytes += SparseCodec.denseEncodedByteCount(count: dimension)
    } else {
      let fraction = configuration.downloadFraction
      let download =
        source?.download(fraction: fraction, using: &workspace.downloadSelector)
        ?? serverState.withLock { $0.download(fraction: fraction, using: &workspace.downloadSelector) }
      participant.model.parameters.withUnsafeMutableBufferPointer { w in
        for (index, value) in zip(download.indices, download.values) { w[Int(index)] = value }
      }
      workspace.statistics.downloadedParameters += download.count
      workspace.statistics.downloadBytes += SparseCodec.encodedByteCount(download)
    }
    // 2. w_old, then one local epoch.
    workspace.previous.withUnsafeMutableBufferPointer { old in
      participant.model.parameters.withUnsafeBufferPointer { old.update(from: $0) }
    }
    let trainStart = monotonicSeconds()
    _ = workspace.trainer.trainEpoch(
      &participant.model, on: participant.samples, using: &participant.generator)
    workspace.statistics.trainSeconds += monotonicSeconds() - trainStart
    // 3. Δw = w_new − w_old.
    workspace.delta.withUnsafeMutableBufferPointer { d in
      participant.model.parameters.withUnsafeBufferPointer { w in
        workspace.previous.withUnsafeBufferPointer { old in
          for j in d.indices { d[j] = w[j] - old[j] }
        }
      }
    }
    // 4–5. Select, bound, upload.
    let upload = workspace.delta.withUnsafeBufferPointer { d in
      workspace.selector.select(
        from: d, count: k, bound: configuration.bound, using: &participant.generator)
    }
    let outcome = serverState.withLock { server in
      Result { () throws(SparseVectorProblem) in try server.apply(upload) }
    }
    if case .failure(let problem) = outcome {
      preconditionFailure("a selector produced an invalid upload: \(problem)")
    }
    workspace.statistics.uploadedParameters += upload.count
    workspace.statistics.uploadBytes += SparseCodec.encodedByteCount(upload)
  }

  public func evaluate(
    on test: LabeledSamples, with network: Network, batchSize: Int
  ) -> FederationEvaluation {
    FederationEvaluation(
      models: participants.map(\.model.parameters), global: server.parameters, on: test,
      with: network, batchSize: batchSize)
  }
}

/// What one worker needs to run turns: its own network and trainer, selection workspaces, and
/// the w_old / Δw buffers. Participants run by the same worker share it.
final class TurnWorkspace: @unchecked Sendable {
  let trainer: Trainer
  var selector: any UpdateSelector
  var downloadSelector = MagnitudeSelector()
  var previous: [Float]
  var delta: [Float]
  /// Counts of the current round (the round fields are filled in by the simulation).
  var statistics = RoundStatistics(round: 0)

  init(network: Network, training: SGDConfiguration, configuration: DSSGDConfiguration) {
    trainer = Trainer(network: network, configuration: training)
    switch configuration.selection {
    case .largest: selector = LargestSelector()
    case .threshold: selector = ThresholdSelector(threshold: configuration.threshold)
    }
    previous = [Float](repeating: 0, count: network.parameterCount)
    delta = [Float](repeating: 0, count: network.parameterCount)
  }

  /// This round's counts, reset for the next round.
  func takeStatistics() -> RoundStatistics {
    defer {
      statistics = RoundStatistics(round: 0)
    }
    return statistics
  }
}

extension RoundStatistics {
  /// Adds another worker's counts (training seconds add up across workers).
  mutating func add(_ other: RoundStatistics) {
    trainSeconds += other.trainSeconds
    uploadedParameters += other.uploadedParameters
    uploadBytes += other.uploadBytes
    downloadedParameters += other.downloadedParameters
    downloadBytes += other.downloadBytes
  }
}
