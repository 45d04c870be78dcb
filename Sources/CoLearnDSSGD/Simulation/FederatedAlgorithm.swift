import CoLearnNN
import CoLearnTensor
import CoLearnWire
import Foundation

/// A federated training procedure simulated in one process, run round by round (SPEC §6
/// baselines and comparisons, `--algorithm`): distributed selective SGD, FedAvg, standalone
/// participants, or one centralized model on the pooled data.
///
/// Threading: one thread drives a simulation.
public protocol FederatedAlgorithm: AnyObject {
  /// Rounds completed.
  var roundsCompleted: Int { get }
  /// Runs one round and says what it did.
  ///
  /// - Throws: what a participant's turn threw (a server that refused it, no secure random
  ///   numbers for privacy noise); the round is then incomplete.
  func runRound() throws -> RoundStatistics
  /// Every participant's model, in participant order.
  var participantModels: [[Float]] { get }
  /// The global model (w_global, the FedAvg average, the centralized model), or nil where
  /// there is none (standalone).
  var globalModel: [Float]? { get }
  /// How many participants train at the same time (so ``RoundStatistics/trainSeconds``, summed
  /// over them, can reach this many times the round's wall time).
  var workerCount: Int { get }
}

extension FederatedAlgorithm {
  public var workerCount: Int { 1 }

  /// Test accuracy of every participant's model and of the global model.
  public func evaluate(on test: LabeledSamples, with network: Network, batchSize: Int)
    -> FederationEvaluation
  {
    FederationEvaluation(
      models: participantModels, global: globalModel, on: test, with: network,
      batchSize: batchSize)
  }

  /// Test accuracy of every participant's model and of the global model, the models spread over
  /// the cores by `evaluator` (give it `test` as ``Evaluator/prepared(_:)`` returns it, prepared
  /// once for all rounds).
  public func evaluate(on test: LabeledSamples, with evaluator: Evaluator, batchSize: Int)
    -> FederationEvaluation
  {
    let participants = participantModels
    let results = evaluator.evaluate(
      models: participants + (globalModel.map { [$0] } ?? []), on: test, batchSize: batchSize)
    return FederationEvaluation(
      participantAccuracies: results.prefix(participants.count).map(\.accuracy),
      globalAccuracy: globalModel == nil ? nil : results.last?.accuracy)
  }
}

/// The algorithms of `--algorithm`.
public enum Algorithm: String, CaseIterable, Sendable, Codable {
  /// Distributed selective SGD (Shokri & Shmatikov).
  case dssgd
  /// Federated averaging (McMahan et al.): every round each participant trains E epochs from the
  /// global model, which becomes the sample-weighted average of the results.
  case fedavg
  /// Each participant trains alone on its shard (no exchange).
  case standalone
  /// One model trained on the pooled shards of all participants.
  case centralized
}

/// What one round of a federation did.
public struct RoundStatistics: Sendable, Codable {
  /// 1-based round number.
  public var round: Int
  /// Wall seconds of the round's turns (download, training, selection, upload), without
  /// evaluation.
  public var seconds: Double
  /// Seconds spent in local training, summed over the workers (so with `async` on several cores
  /// it can exceed ``seconds``). Includes forming Δw, which the epoch's write-back produces
  /// (``Trainer/trainEpoch(_:on:using:changes:progress:)``).
  public var trainSeconds: Double
  /// Seconds spent choosing the entries to upload (selection, bounding, noise), summed over the
  /// workers.
  public var selectSeconds: Double
  /// Seconds spent in downloads and uploads (the server's side included), summed over the
  /// workers.
  public var exchangeSeconds: Double
  /// Parameters uploaded by all participants.
  public var uploadedParameters: Int
  /// Their size on the wire (SPEC §10 encoding).
  public var uploadBytes: Int
  /// Parameters downloaded by all participants.
  public var downloadedParameters: Int
  /// Their size on the wire.
  public var downloadBytes: Int

  /// Counts for round `round`, zero unless given.
  public init(
    round: Int, seconds: Double = 0, trainSeconds: Double = 0, selectSeconds: Double = 0,
    exchangeSeconds: Double = 0, uploadedParameters: Int = 0, uploadBytes: Int = 0,
    downloadedParameters: Int = 0, downloadBytes: Int = 0
  ) {
    self.round = round
    self.seconds = seconds
    self.trainSeconds = trainSeconds
    self.selectSeconds = selectSeconds
    self.exchangeSeconds = exchangeSeconds
    self.uploadedParameters = uploadedParameters
    self.uploadBytes = uploadBytes
    self.downloadedParameters = downloadedParameters
    self.downloadBytes = downloadBytes
  }
}

/// Test-set accuracy of every participant's local model and of w_global.
public struct FederationEvaluation: Sendable, Codable {
  /// One accuracy per participant, in participant order.
  public var participantAccuracies: [Double]
  /// The accuracy of the global model (w_global, the FedAvg average, the centralized model),
  /// or nil where there is none (standalone).
  public var globalAccuracy: Double?

  /// The mean of ``participantAccuracies``.
  public var meanAccuracy: Double {
    participantAccuracies.reduce(0, +) / Double(max(participantAccuracies.count, 1))
  }
}


extension FederationEvaluation {
  /// Evaluates each of `models` and, when given, `global` on `test`.
  init(
    models: [[Float]], global: [Float]?, on test: LabeledSamples, with network: Network,
    batchSize: Int
  ) {
    participantAccuracies = models.map {
      evaluate(network, parameters: $0, on: test, batchSize: batchSize).accuracy
    }
    globalAccuracy = global.map {
      evaluate(network, parameters: $0, on: test, batchSize: batchSize).accuracy
    }
  }
}

