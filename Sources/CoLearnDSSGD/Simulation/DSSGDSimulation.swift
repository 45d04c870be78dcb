import CoLearnNN
import CoLearnTensor
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
/// Participants reach the server only through ``ParameterServerClient`` (the in-process
/// ``InProcessParameterServer`` here), and share the workspaces of the worker running them (one
/// ``DSSGDTurnRunner`` per worker), so memory grows with N only by the parameter vectors.
///
/// Threading: one thread drives a simulation; `async` rounds fan out internally.
public final class DSSGDSimulation: FederatedAlgorithm {
  /// The DSSGD settings.
  public let configuration: DSSGDConfiguration
  /// The participants.
  public internal(set) var participants: [Participant]
  /// Rounds completed.
  public internal(set) var roundsCompleted = 0
  /// The parameter server, which the participants reach through ``ParameterServerClient``.
  public let parameterServer: InProcessParameterServer

  private let runners: [DSSGDTurnRunner]
  var orderGenerator: SeededGenerator
  let remote: RemoteServers?

  /// A simulation whose server starts from `initialParameters`, as does every participant.
  ///
  /// - Parameters:
  ///   - makeNetwork: builds the model's network; called once per worker (one for the
  ///     sequential protocols, one per core for `async`).
  ///   - shards: one training shard per participant (N of them).
  ///   - generator: seeds the participants' streams and the turn order.
  ///   - concurrency: workers for `async` (default: the cores of the shared worker pool).
  ///   - remote: a real server instead of the in-process one (`simulate --transport grpc`).
  public init(
    makeNetwork: () -> Network, training: SGDConfiguration, configuration: DSSGDConfiguration,
    initialParameters: [Float], shards: [LabeledSamples], generator: SeededGenerator,
    concurrency: Int = WorkerPool.shared.maximumWidth, remote: RemoteServers? = nil
  ) {
    precondition(shards.count == configuration.participants, "one shard per participant")
    precondition(remote.map { $0.clients.count == shards.count } ?? true, "one client each")
    self.configuration = configuration
    self.remote = remote
    parameterServer = InProcessParameterServer(
      state: ParameterServerState(
        parameters: initialParameters, statDecay: configuration.statDecay))
    let workers =
      configuration.order == .async
      ? max(1, min(concurrency, shards.count, WorkerPool.shared.maximumWidth)) : 1
    let networks = (0..<workers).map { _ in makeNetwork() }
    participants = Participant.federation(
      shards: shards, network: networks[0], initialParameters: initialParameters,
      generator: generator, privacy: configuration.privacy)
    runners = networks.map { network in
      precondition(initialParameters.count == network.parameterCount, "wrong parameter count")
      return DSSGDTurnRunner(network: network, training: training, configuration: configuration)
    }
    // DP-SGD: each participant's noise (secure, or seeded from a stream of its own) and charges.
    if let privateTrainer = runners[0].privateTrainer, let dpsgd = configuration.dpsgd {
      for index in participants.indices {
        var seeds = generator.derived(stream: 0xD95D_0000 + UInt64(index))
        do {
          participants[index].dpsgd = try DPSGDState(
            trainer: privateTrainer, dimension: initialParameters.count,
            sampleCount: participants[index].samples.count,
            noiseSource: dpsgd.insecureSeededNoise ? .insecureSeeded(seeds.next()) : .secure)
        } catch {
          // DPSGDConfiguration admits σ = 0 or σ ≥ 0.01, for which the grid always fits.
          preconditionFailure("DP-SGD noise for a validated configuration: \(error)")
        }
      }
    }
    orderGenerator = generator.derived(stream: 0x0DE5)
  }

  /// Participants trained at once: one per worker for `async`, else 1.
  public var workerCount: Int { runners.count }

  /// A copy of the in-process server's state (unused with a remote server).
  public var server: ParameterServerState { parameterServer.state }

  public func runRound() throws -> RoundStatistics {
    let start = monotonicSeconds()
    var statistics = RoundStatistics(round: roundsCompleted + 1)
    switch configuration.order {
    case .roundRobin, .randomOrder:
      var order = Array(participants.indices)
      if configuration.order == .randomOrder { order.shuffle(using: &orderGenerator) }
      for id in order {
        // In place: the participant's parameter vector is not copied.
        try takeTurn(&participants[id], runner: runners[0], stale: nil)
      }
    case .async:
      try runConcurrentTurns()
    }
    for runner in runners { statistics.add(runner.takeStatistics()) }
    // A remote server decays by itself after every N uploads.
    if remote == nil { parameterServer.decayStatistics() }
    roundsCompleted += 1
    statistics.seconds = monotonicSeconds() - start
    return statistics
  }

  /// One worker per runner pulls participants from a shared counter until all N have had a
  /// turn. BLAS runs single-threaded inside (the cores are busy with participants).
  private func runConcurrentTurns() throws {
    // Against a real server staleness is real, not simulated.
    let stale = remote == nil ? InProcessParameterServer(state: parameterServer.state) : nil
    let next = Atomic<Int>(0)
    let failure = Mutex<(any Error)?>(nil)
    let count = participants.count
    let savedThreads = BLAS.threadCount
    BLAS.setThreadCount(1)
    defer { BLAS.setThreadCount(savedThreads) }
    participants.withUnsafeMutableBufferPointer { all in
      WorkerPool.shared.run(width: runners.count) { worker in
        while true {
          let id = next.add(1, ordering: .relaxed).oldValue
          guard id < count, failure.withLock({ $0 == nil }) else { return }
          do {
            try takeTurn(&all[id], runner: runners[worker], stale: stale)
          } catch {
            failure.withLock { $0 = $0 ?? error }
          }
        }
      }
    }
    if let error = failure.withLock({ $0 }) { throw error }
  }

  /// One turn against the in-process server.
  ///
  /// - Parameter stale: for `async`, the previous round's server, which serves the download
  ///   instead of the live one with probability p_stale.
  private func takeTurn(
    _ participant: inout Participant, runner: DSSGDTurnRunner, stale: InProcessParameterServer?
  ) throws {
    let useStale =
      stale != nil
      && Double.random(in: 0..<1, using: &participant.generator) < configuration.staleProbability
    do {
      if let remote {
        try runner.takeTurn(&participant, server: remote.clients[participant.id])
      } else {
        try runner.takeTurn(
          &participant, server: parameterServer, downloadFrom: useStale ? stale : nil)
      }
    } catch {
      throw TurnFailure(participant: participant.id, round: roundsCompleted + 1, underlying: error)
    }
  }

  public var participantModels: [[Float]] { participants.map(\.model.parameters) }

  public var globalModel: [Float]? {
    remote.map { try? $0.readGlobal() } ?? server.parameters
  }
}

/// A real parameter server for a simulation's participants: one client (and identity) per
/// participant, and a way to read w_global for evaluation.
public struct RemoteServers: Sendable {
  public var clients: [any ParameterServerClient]
  public var readGlobal: @Sendable () throws -> [Float]

  public init(clients: [any ParameterServerClient], readGlobal: @escaping @Sendable () throws -> [Float]) {
    self.clients = clients
    self.readGlobal = readGlobal
  }
}

/// A participant's turn that threw, with who and when.
public struct TurnFailure: Error, CustomStringConvertible {
  public var participant: Int
  public var round: Int
  public var underlying: any Error

  public var description: String {
    "participant \(participant), round \(round): \(underlying)"
  }
}

extension RoundStatistics {
  /// Adds another worker's counts (training seconds add up across workers).
  mutating func add(_ other: RoundStatistics) {
    trainSeconds += other.trainSeconds
    selectSeconds += other.selectSeconds
    exchangeSeconds += other.exchangeSeconds
    uploadedParameters += other.uploadedParameters
    uploadBytes += other.uploadBytes
    downloadedParameters += other.downloadedParameters
    downloadBytes += other.downloadBytes
  }
}
