import CoLearnNN
import CoLearnPrivacy
import CoLearnRPC
import CoLearnSplit
import CoLearnTensor
import Foundation

/// The JSON files of a `colearn split participate` run.
enum SplitParticipantRecord {
  /// What crosses to the coordinator, in the participant's own words (config.json).
  static let sentToCoordinator = [
    "per step: B × 1,280 batch-normalised front features, each noised with Lap(S/ε), "
      + "S = 2·√(B−1), on this machine (none at ε = inf); the declared ε and S",
    "per step: the B labels, in the clear (as in Jiang et al.)",
    "per step: the front update (rate and front gradient), sealed with AES-256-GCM under the "
      + "participants' federation key: the coordinator sees only its size (4·|w_front| + 36 bytes)",
    "never: samples, front weights, front gradients in the clear, the federation key",
  ]

  /// `config.json`.
  struct Configuration: Encodable {
    var command: String
    var server: String
    var tls: Bool
    var name: String
    var epsilon: String
    var batchSize: Int
    var epochs: Int
    var seed: UInt64
    var shard: String
    var samples: Int
    var testSamples: Int
    var model: String
    var frontParameters: Int
    var backParameters: Int
    var featureSize: Int
    var coordinatorLearningRate: Float
    var noise: String
    var sentToCoordinator: [String]
  }

  /// `summary.json`.
  struct Summary: Encodable {
    var name: String
    var epsilon: String
    var epochs: Int
    var initialTestAccuracy: Double
    var finalTestAccuracy: Double
    var finalTestLoss: Double
    var bestTestAccuracy: Double
    var steps: Int
    var skippedBatches: Int
    var valuesSent: Int
    var labelsSentInClear: Int
    var sealedUpdatesSent: Int
    var sealedBytesSent: Int
    var updatesApplied: Int
    var frontSequence: UInt64
    /// SHA-256 of the final front's bytes: equal on every participant of the federation.
    var frontHash: String
    var backSteps: UInt64
    var privacy: PrivacyLedger
    var wallSeconds: Double
  }
}

/// One participant's side of networked split learning: its turns against the coordinator,
/// the relayed front updates, the noise, the ledger and the audit.
final class SplitParticipantSession {
  let client: RemoteSplitCoordinatorClient
  let key: FederationKey
  let front: SplitFront
  let samples: LabeledSamples
  let batchSize: Int
  let epsilon: Double?
  private var noise: NoiseSource
  private var generator: SeededGenerator
  private let audit: SplitAudit
  private var order: [Int] = []
  private(set) var ledger = PrivacyLedger()
  private(set) var steps = 0
  private(set) var skippedBatches = 0
  private(set) var valuesSent = 0
  private(set) var labelsSent = 0
  private(set) var sealedBytesSent = 0
  private(set) var backSteps: UInt64 = 0

  init(
    client: RemoteSplitCoordinatorClient, key: FederationKey, front: SplitFront,
    samples: LabeledSamples, batchSize: Int, epsilon: Double?, noise: NoiseSource,
    generator: SeededGenerator, audit: SplitAudit
  ) {
    self.client = client
    self.key = key
    self.front = front
    self.samples = samples
    self.batchSize = batchSize
    self.epsilon = epsilon
    self.noise = noise
    self.generator = generator
    self.audit = audit
  }

  /// ⌈n/B⌉ batches, less a last batch of one sample (as ``SplitParticipant``).
  private var batchCount: Int {
    samples.count / batchSize + (samples.count % batchSize >= 2 ? 1 : 0)
  }

  /// Fetches and applies, in order, every relayed update after the front's.
  ///
  /// - Throws: ``FrontUpdateError`` when an update does not authenticate (another key, or a
  ///   coordinator that altered or reordered it): the fronts could no longer agree.
  func catchUp() throws {
    let updates = try client.fetchUpdates(after: front.appliedSequence)
    for update in updates {
      let opened = try key.open(
        update.sealed, sequence: update.sequence, expectedCount: front.network.parameterCount)
      opened.gradient.withUnsafeBufferPointer {
        front.apply(rate: opened.rate, gradient: $0, sequence: update.sequence)
      }
    }
  }

  /// One epoch over the local samples in a fresh order, one turn per batch.
  func runEpoch(_ epoch: Int) throws -> (steps: Int, meanLoss: Double, trainingAccuracy: Double) {
    shufflePermutation(&order, count: samples.count, using: &generator)
    let batches = batchCount
    if let epsilon { _ = ledger.beginEpoch(epsilon: epsilon, capacity: batches) }
    defer { if ledger.isEpochOpen { ledger.closeEpoch() } }
    var loss = 0.0
    var correct = 0
    var count = 0
    var epochSteps = 0
    for k in 0..<batches {
      let indices = order[(k * batchSize)..<min((k + 1) * batchSize, order.count)]
      if let result = try turn(indices: indices, epoch: epoch) {
        loss += Double(result.loss) * Double(indices.count)
        correct += result.correct
        count += indices.count
        epochSteps += 1
      }
    }
    return (epochSteps, loss / Double(max(count, 1)), Double(correct) / Double(max(count, 1)))
  }

  /// One turn: take it (HoldTurn), catch up, front, noise, Step, front gradient, seal,
  /// PublishUpdate, apply; the turn's call is closed whatever happens.
  /// Returns nil when the lease was lost mid-turn (the batch is skipped; whatever was sent is
  /// in the audit).
  private func turn(
    indices: ArraySlice<Int>, epoch: Int
  ) throws -> SplitStepResult? {
    let size = indices.count
    let lease = try client.beginTurn()
    defer { client.endTurn() }
    try catchUp()
    let features = front.forward(samples: samples, indices: indices)
    let labels = indices.map { samples.labels[$0] }
    let bound = Float(batchNormBound(batchSize: size))
    let release = epsilon.map { BoundedLaplaceRelease(center: 0, bound: bound, epsilon: $0) }
    if let release { try release.release(features, using: &noise) }
    if epsilon != nil, ledger.isEpochOpen { ledger.chargeUpload() }
    steps += 1
    valuesSent += features.count
    labelsSent += size
    let sequence = front.appliedSequence + 1
    var sealedBytes = 0
    defer {
      let record = BoundaryRecord(
        step: steps, epoch: epoch, participant: 0, batchSize: size, boundary: .features,
        valueCount: features.count, labelCount: size, epsilon: release?.epsilon,
        center: release?.center ?? 0, bound: release?.bound ?? bound,
        sensitivity: release?.sensitivity ?? featureSensitivity(batchSize: size),
        nominalScale: release?.nominalScale ?? 0, appliedScale: release?.appliedScale ?? 0,
        gridStep: release?.gridStep ?? 0, gradientValuesReturned: features.count,
        frontGradientValuesShared: sealedBytes > 0 ? front.network.parameterCount : 0)
      labels.withUnsafeBufferPointer { labelBuffer in
        _ = try? audit.record(
          BoundaryCrossing(
            record: record, values: UnsafeBufferPointer(features), labels: labelBuffer),
          extra: ["\(sealedBytes)", sealedBytes > 0 ? "\(sequence)" : ""])
      }
    }
    let result: SplitStepResult
    do {
      result = try client.step(
        leaseID: lease, features: UnsafeBufferPointer(features), labels: labels,
        epsilon: release?.epsilon, sensitivity: featureSensitivity(batchSize: size),
        frontSequence: front.appliedSequence, epoch: epoch)
    } catch let error as RemoteServerError where error.code == .aborted {
      skippedBatches += 1
      return nil
    }
    backSteps = result.step
    let gradient = result.featureGradient.withUnsafeBufferPointer {
      front.backward(featureGradient: $0.baseAddress!)
    }
    let sealed = key.seal(rate: result.learningRate, gradient: gradient, sequence: sequence)
    do {
      let published = try client.publish(leaseID: lease, sealed: sealed)
      guard published == sequence else {
        throw CLIError(
          "the coordinator stored the front update as \(published), expected \(sequence)")
      }
    } catch let error as RemoteServerError where error.code == .aborted {
      skippedBatches += 1
      return nil
    }
    sealedBytes = sealed.count
    sealedBytesSent += sealed.count
    front.apply(rate: result.learningRate, gradient: gradient, sequence: sequence)
    return result
  }

  /// Test accuracy of the current front (caught up) with the coordinator's current back, run
  /// locally with nothing noised.
  func evaluate(on test: LabeledSamples, backNetwork: Network) throws -> EvaluationResult {
    try catchUp()
    let back = try client.downloadBack()
    backSteps = back.steps
    return splitEvaluate(
      front: front.network, frontParameters: front.parameters, back: backNetwork,
      backParameters: back.parameters, on: test, batchSize: batchSize)
  }
}
