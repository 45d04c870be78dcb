import CoLearnSplit
import CoLearnWire
import GRPCCore
import Logging
import Synchronization

#if canImport(FoundationEssentials)
  import FoundationEssentials
#else
  import Foundation
#endif

/// The settings of a split-learning coordinator, fixed for its lifetime (split.proto's
/// `SplitConfiguration`).
public struct SplitFederationSettings: Sendable {
  /// The whole split network (front + back).
  public var model: ModelIdentity
  /// N: no turn is granted before N participants joined.
  public var participants: Int
  /// Values per sample crossing the boundary, and the number of classes.
  public var featureSize: Int
  public var classCount: Int
  /// The largest batch a Step may carry.
  public var maxBatchSize: Int
  /// α and the Torch7 decay d, by the coordinator's step count.
  public var learningRate: Float
  public var learningRateDecay: Float
  /// The lengths of the front and back parameter vectors.
  public var frontParameterCount: Int
  public var backParameterCount: Int
  /// The longest lease granted.
  public var maxLeaseMilliseconds: UInt32
  /// The epochs every participant trains (nil: each participant's choice).
  public var epochs: Int?

  public init(
    model: ModelIdentity, participants: Int, featureSize: Int, classCount: Int,
    maxBatchSize: Int, learningRate: Float, learningRateDecay: Float, frontParameterCount: Int,
    backParameterCount: Int, maxLeaseMilliseconds: UInt32 = 600_000, epochs: Int? = nil
  ) {
    self.epochs = epochs
    self.model = model
    self.participants = participants
    self.featureSize = featureSize
    self.classCount = classCount
    self.maxBatchSize = maxBatchSize
    self.learningRate = learningRate
    self.learningRateDecay = learningRateDecay
    self.frontParameterCount = frontParameterCount
    self.backParameterCount = backParameterCount
    self.maxLeaseMilliseconds = maxLeaseMilliseconds
  }

  /// K, the multiple of the Laplace scale S/ε beyond which noise is not believed (see
  /// ``featureBound(batchSize:epsilon:)``): a value of Lap(b) exceeds 64·b with probability
  /// e⁻⁶⁴ ≈ 1.6·10⁻²⁸, so an honest participant is never refused.
  public static let noiseScaleMultiple: Double = 64

  /// The smallest ε a Step may declare (other than 0, no noise): 1/100 of the paper's smallest
  /// (ε = 1). Below it the noise is over 100 times the features' range and nothing trains; it
  /// also keeps ``featureBound(batchSize:epsilon:)`` finite and small enough for the back.
  public static let smallestEpsilon: Double = 0.01

  /// The largest |value| a Step of `batchSize` samples declaring `epsilon` may carry:
  /// √(B−1)·(1 + 2⁻¹⁰) + K·S/ε with S = 2·√(B−1) and K = ``noiseScaleMultiple`` (the second
  /// term 0 for ε = 0, no noise). The participant's front ends in a BatchNorm whose every output
  /// lies in [−√(B−1), √(B−1)] (2⁻¹⁰ of slack for rounding), and its Laplace noise of scale
  /// S/ε (at most 2⁻¹² above it on the noise grid) exceeds K·S/ε only with probability e⁻⁶⁴:
  /// anything beyond is not a feature and is refused. At B = 64: ±7.95 without noise, ±1,024
  /// at ε = 1, ±102,000 at ε = 0.01.
  public static func featureBound(batchSize: Int, epsilon: Double) -> Double {
    let bound = batchNormBound(batchSize: batchSize)
    let noise = epsilon > 0 ? noiseScaleMultiple * 2 * bound / epsilon : 0
    return bound * (1 + 0x1p-10) + noise
  }

  /// The largest sealed front update accepted: the sealed size of a whole front update
  /// (8 + 4·|w_front| plaintext bytes, 12 nonce and 16 tag bytes).
  public var maxSealedUpdateBytes: Int { 4 * frontParameterCount + 36 }

  public var proto: Colearn_V1_SplitConfiguration {
    var message = Colearn_V1_SplitConfiguration()
    message.model = model.proto
    message.participants = UInt32(participants)
    message.featureSize = UInt32(featureSize)
    message.classCount = UInt32(classCount)
    message.maxBatchSize = UInt32(maxBatchSize)
    message.learningRate = learningRate
    message.learningRateDecay = learningRateDecay
    message.frontParameterCount = UInt32(frontParameterCount)
    message.backParameterCount = UInt32(backParameterCount)
    message.maxLeaseDurationMs = maxLeaseMilliseconds
    message.epochs = UInt32(epochs ?? 0)
    return message
  }
}

/// What the coordinator received from one participant (logged; split.proto's audit promise).
public struct SplitReceipt: Sendable, Equatable {
  public var name: String
  public var steps = 0
  public var samples = 0
  public var featureValues = 0
  public var labels = 0
  /// The ε values declared with the features (0 = none, ε = ∞), and S.
  public var epsilons: Set<Double> = []
  public var sensitivities: Set<Double> = []
  public var sealedUpdates = 0
  public var sealedBytes = 0
}

/// The split-learning coordinator's logic, independent of gRPC (``SplitCoordinatorService``
/// maps the calls onto it): joins bound to token identities, round-robin turns with leases, the
/// dense back (``SplitCoordinator``) trained on the features participants send, and the relay
/// of sealed front updates it cannot read.
///
/// Turns: the lease goes to the waiting participant next after the last holder in join order
/// (cyclically; participants not waiting are skipped, so a vanished one never stalls the
/// others), once N participants have joined. A turn is Lock → FetchUpdates → Step →
/// PublishUpdate; a lease that expires is taken back and its holder's later calls fail with
/// ABORTED. The leases are a ``TurnLeases`` (shared with ``Federation``), opened once N joined.
///
/// Threading: every method may be called from any task. Registry changes serialise on one lock;
/// the back's training step serialises on another (only the lease holder steps).
public final class SplitFederation: Sendable {
  private struct Member {
    var id: String
    var identity: String
    var name: String
    var joinIndex: Int
    var acknowledged: UInt64 = 0
    var finished = false
    var downloadedBack = false
    var lastSeen: ContinuousClock.Instant
    var receipt: SplitReceipt
  }

  private struct Registry {
    var members: [String: Member] = [:]
    var order: [String] = []
    var idByIdentity: [String: String] = [:]
    var identityByName: [String: String] = [:]
    /// The lease whose turn has taken its Step.
    var steppedLease: String?
    /// Relayed updates with sequence numbers firstKept, firstKept + 1, …, lastSequence.
    var relay: [[UInt8]] = []
    var firstKept: UInt64 = 1
    var lastSequence: UInt64 = 0
    var refusedSteps: UInt64 = 0
  }

  public let settings: SplitFederationSettings
  private let registry = Mutex(Registry())
  /// The turns, opened when the N-th participant joins.
  private let leases: TurnLeases
  private let back: Mutex<SplitCoordinator>
  private let logger: Logger
  private let clock = ContinuousClock()
  private let started: ContinuousClock.Instant
  /// The steps by declared epoch, for the run record.
  private let epochs: SplitEpochLedger
  /// Called with each epoch every participant has passed (outside the coordinator's locks).
  private let epochCompleted: (@Sendable (SplitEpochSummary) -> Void)?
  /// Where every change is made durable before it is answered (nil: in memory only).
  private let store: SplitCoordinatorStore?

  /// A coordinator training the back of `architecture` from `backParameters`; `epochCompleted`
  /// receives each epoch of the run record once every participant has passed it.
  ///
  /// With a `store`, the coordinator resumes the state the store recovered (`backParameters`
  /// is then unused: the store's initial state has it) and logs every change to it before
  /// answering; participants that joined before keep their ids and tokens and may call again.
  public init(
    settings: SplitFederationSettings, architecture: SplitArchitecture, backParameters: [Float],
    logger: Logger, store: SplitCoordinatorStore? = nil,
    epochCompleted: (@Sendable (SplitEpochSummary) -> Void)? = nil
  ) {
    let state = store?.recovered
    epochs = state.map { SplitEpochLedger($0.tally) }
      ?? SplitEpochLedger(participants: settings.participants)
    self.epochCompleted = epochCompleted
    self.store = store
    let backNetwork = architecture.makeBack()
    let parameters = state?.back ?? backParameters
    precondition(parameters.count == settings.backParameterCount, "back size mismatch")
    precondition(backNetwork.inputShape.count == settings.featureSize, "feature size mismatch")
    precondition(state.map { $0.participants == settings.participants } ?? true, "N mismatch")
    self.settings = settings
    back = Mutex(
      SplitCoordinator(
        network: backNetwork, parameters: parameters, capacity: settings.maxBatchSize,
        stepCount: state?.steps ?? 0))
    self.logger = logger
    leases = TurnLeases(order: .roundRobin, open: false) { lease in
      logger.notice(
        "lease expired: the turn is taken back", metadata: ["participant": "\(lease.holderName)"])
    }
    started = clock.now
    if let state { resume(state) }
  }

  /// Takes over the members and the relay of a recovered state (every member counts as just
  /// seen), and opens the turns if all N had joined.
  private func resume(_ state: SplitCoordinatorState) {
    let now = clock.now
    registry.withLock { registry in
      for (index, saved) in state.members.enumerated() {
        var member = Member(
          id: saved.id, identity: saved.identity, name: saved.name, joinIndex: index,
          lastSeen: now, receipt: saved.receipt)
        member.acknowledged = saved.acknowledged
        member.finished = saved.finished
        member.downloadedBack = saved.downloadedBack
        registry.members[saved.id] = member
        registry.order.append(saved.id)
        registry.idByIdentity[saved.identity] = saved.id
        registry.identityByName[saved.name] = saved.identity
      }
      registry.relay = state.relay
      registry.firstKept = state.firstKept
      registry.lastSequence = state.lastSequence
    }
    if state.members.count == settings.participants { leases.open() }
  }

  /// Makes `record` durable (with `sync`, on disk) before the change is answered.
  private func persist(_ record: SplitStateRecord, sync: Bool = true) throws(FederationError) {
    guard let store else { return }
    do {
      try store.append(record, sync: sync)
    } catch {
      logger.critical("cannot write the state directory", metadata: ["error": "\(error)"])
      throw FederationError(
        .unavailable,
        "the coordinator cannot write its state directory (\(error)); it accepts no changes "
          + "until its operator restarts it")
    }
  }

  // MARK: - Join

  public func join(_ request: Colearn_V1_SplitJoinRequest, identity: String)
    throws(FederationError) -> Colearn_V1_SplitJoinResponse
  {
    guard request.hasModel else {
      throw FederationError(.invalidArgument, "the request has no model identity")
    }
    let model: ModelIdentity
    do {
      model = try ModelIdentity(proto: request.model)
    } catch {
      throw FederationError(.invalidArgument, "model: \(error)")
    }
    if let mismatch = settings.model.mismatch(participant: model) {
      throw FederationError(.failedPrecondition, mismatch.description)
    }
    let name = request.participantName
    guard !name.isEmpty, name.utf8.count <= 256 else {
      throw FederationError(
        .invalidArgument, "participant_name must have 1 to 256 bytes (give --name)")
    }
    let now = clock.now
    let (id, sequence, isNew) = try registry.withLock {
      registry throws(FederationError) -> (String, UInt64, Bool) in
      if let owner = registry.identityByName[name], owner != identity {
        throw FederationError(
          .alreadyExists, "another participant joined as \"\(name)\"; choose another --name")
      }
      if let id = registry.idByIdentity[identity], let member = registry.members[id] {
        guard member.name == name else {
          throw FederationError(
            .alreadyExists, "this token already joined as \"\(member.name)\"")
        }
        guard member.acknowledged + 1 >= registry.firstKept else {
          throw FederationError(
            .failedPrecondition,
            "front updates after \(member.acknowledged) were already discarded; this "
              + "participant cannot catch up with the others")
        }
        registry.members[id]?.lastSeen = now
        return (id, registry.lastSequence, false)
      }
      guard registry.order.count < settings.participants else {
        throw FederationError(
          .resourceExhausted, "the federation is full (\(settings.participants) participants)")
      }
      guard registry.firstKept == 1 else {
        throw FederationError(
          .failedPrecondition,
          "training has progressed past updates a new participant would need; join before "
            + "training starts")
      }
      let id = Self.randomID()
      try persist(.join(id: id, identity: identity, name: name))
      registry.members[id] = Member(
        id: id, identity: identity, name: name, joinIndex: registry.order.count, lastSeen: now,
        receipt: SplitReceipt(name: name))
      registry.order.append(id)
      registry.idByIdentity[identity] = id
      registry.identityByName[name] = identity
      if registry.order.count == settings.participants { leases.open() }
      return (id, registry.lastSequence, true)
    }
    if isNew {
      logger.info("joined", metadata: ["participant": "\(name)", "identity": "\(identity)"])
    }
    var response = Colearn_V1_SplitJoinResponse()
    response.participantID = id
    response.configuration = settings.proto
    response.sequenceNumber = sequence
    return response
  }

  // MARK: - Turns

  /// Waits for the caller's round-robin turn and grants the lease (or returns its own): Lock,
  /// which leaves the lease to PublishUpdate, Finish or its expiry.
  public func lock(_ request: Colearn_V1_LockRequest, identity: String) async throws
    -> Colearn_V1_LockResponse
  {
    try await grant(request, identity: identity).0
  }

  /// HoldTurn: waits for the turn as ``lock(_:identity:)`` does, sends the lease on
  /// `responses`, and holds it while the call stays open: PublishUpdate or Finish end the call;
  /// a call that ends first (the caller closed it, or it broke: logged) releases the lease at
  /// once — ``TurnHolding``.
  public func holdTurn(
    _ requests: RPCAsyncSequence<Colearn_V1_LockRequest, any Error>,
    responses: RPCWriter<Colearn_V1_LockResponse>, identity: String
  ) async throws {
    try await TurnHolding.serve(requests, responses, leases: leases, logger: logger) {
      try await grant($0, identity: identity)
    }
  }

  /// The lease of Lock and HoldTurn, and the response that announces it.
  private func grant(_ request: Colearn_V1_LockRequest, identity: String) async throws
    -> (Colearn_V1_LockResponse, TurnLeases.Lease)
  {
    guard request.leaseDurationMs > 0 else {
      throw FederationError(.invalidArgument, "lease_duration_ms must be positive").rpcError
    }
    let milliseconds = min(request.leaseDurationMs, settings.maxLeaseMilliseconds)
    let id = request.participantID
    let member = try registry.withLock { registry throws(FederationError) -> Member in
      let member = try Self.member(id, identity: identity, in: registry)
      guard !member.finished else {
        throw FederationError(
          .failedPrecondition, "this participant called Finish; it takes no more turns")
      }
      registry.members[id]?.lastSeen = clock.now
      return member
    }
    let lease = try await leases.acquire(
      id, name: member.name, joinIndex: member.joinIndex, milliseconds: milliseconds)
    var response = Colearn_V1_LockResponse()
    response.leaseID = lease.id
    response.leaseDurationMs = lease.milliseconds
    response.sequenceNumber = registry.withLock { registry in
      registry.members[id]?.lastSeen = clock.now
      return registry.lastSequence
    }
    return (response, lease)
  }

  /// Checks that `id` holds the unexpired lease `leaseID` and returns it.
  @discardableResult
  private func checkTurn(
    _ id: String, leaseID: String, identity: String, in registry: inout Registry
  ) throws(FederationError) -> TurnLeases.Lease {
    try Self.member(id, identity: identity, in: registry)
    registry.members[id]?.lastSeen = clock.now
    guard !leaseID.isEmpty else {
      throw FederationError(
        .failedPrecondition, "no lease_id: call Lock first and send its lease_id")
    }
    return try leases.check(id, leaseID: leaseID, then: "Lock again")
  }

  // MARK: - Relay

  /// The sealed updates after `request.afterSequence` (about 3 MiB at most), and the caller's
  /// acknowledgement of everything up to it.
  public func fetchUpdates(_ request: Colearn_V1_FetchUpdatesRequest, identity: String)
    throws(FederationError) -> Colearn_V1_FetchUpdatesResponse
  {
    let id = request.participantID
    return try registry.withLock {
      registry throws(FederationError) -> Colearn_V1_FetchUpdatesResponse in
      try Self.member(id, identity: identity, in: registry)
      let after = request.afterSequence
      guard after <= registry.lastSequence else {
        throw FederationError(
          .invalidArgument,
          "after_sequence \(after) is beyond the last relayed update \(registry.lastSequence)")
      }
      guard after + 1 >= registry.firstKept else {
        throw FederationError(
          .failedPrecondition,
          "updates \(after + 1)…\(registry.firstKept - 1) were discarded after every participant "
            + "had fetched them; this participant's front cannot catch up")
      }
      registry.members[id]?.lastSeen = clock.now
      let acknowledged = registry.members[id]?.acknowledged ?? 0
      registry.members[id]?.acknowledged = max(acknowledged, after)
      let firstKept = registry.firstKept
      var response = Colearn_V1_FetchUpdatesResponse()
      var bytes = 0
      var sequence = after + 1
      while sequence <= registry.lastSequence {
        let sealed = registry.relay[Int(sequence - registry.firstKept)]
        if !response.updates.isEmpty, bytes + sealed.count > 3 << 20 { break }
        var update = Colearn_V1_SealedUpdate()
        update.sequenceNumber = sequence
        update.sealed = Data(sealed)
        response.updates.append(update)
        bytes += sealed.count
        sequence += 1
      }
      response.more = sequence <= registry.lastSequence
      response.sequenceNumber = registry.lastSequence
      prune(&registry)
      if after > acknowledged || registry.firstKept != firstKept,
        let member = registry.members[id]
      {
        // Not fsync'ed: lost, it only keeps relayed updates longer.
        try persist(
          .acknowledge(
            member: member.joinIndex, after: member.acknowledged, firstKept: registry.firstKept),
          sync: false)
      }
      return response
    }
  }

  /// Forgets the updates every participant has acknowledged, except participants that have
  /// vanished (unfinished and unseen for longer than the longest lease), and only once all N
  /// joined (a member yet to join needs them all). Finished participants still count: they
  /// fetch the last updates once everyone is done.
  private func prune(_ registry: inout Registry) {
    guard registry.order.count == settings.participants else { return }
    let horizon = clock.now - .milliseconds(Int(settings.maxLeaseMilliseconds))
    let active = registry.members.values.filter {
      $0.finished || $0.lastSeen > horizon || leases.isWaiting($0.id)
    }
    guard let minimum = active.map(\.acknowledged).min(), minimum >= registry.firstKept else {
      return
    }
    let drop = Int(minimum - registry.firstKept + 1)
    registry.relay.removeFirst(drop)
    registry.firstKept = minimum + 1
  }

  // MARK: - Step

  /// One step of the back on the caller's batch (see split.proto's Step for the checks).
  public func step(_ request: Colearn_V1_StepRequest, identity: String)
    throws(FederationError) -> Colearn_V1_StepResponse
  {
    let validated: ([Float], [Int32])
    let memberIndex: Int
    do throws(FederationError) {
      validated = try validate(request)
      memberIndex = try registry.withLock { registry throws(FederationError) -> Int in
        let lease = try checkTurn(
          request.participantID, leaseID: request.leaseID, identity: identity, in: &registry)
        guard registry.steppedLease != lease.id else {
          throw FederationError(
            .failedPrecondition, "this turn already has a step; PublishUpdate ends it")
        }
        guard request.frontSequence == registry.lastSequence else {
          throw FederationError(
            .failedPrecondition,
            "the caller's front is at update \(request.frontSequence) but \(registry.lastSequence) "
              + "were relayed: FetchUpdates and apply them first")
        }
        registry.steppedLease = lease.id
        return registry.members[request.participantID]?.joinIndex ?? 0
      }
    } catch {
      registry.withLock { $0.refusedSteps += 1 }
      logger.notice(
        "step refused",
        metadata: [
          "identity": "\(identity)", "code": "\(error.code)", "reason": "\(error.message)",
        ])
      throw error
    }
    let (features, labels) = validated
    let size = labels.count
    var gradient = [Float](repeating: 0, count: size * settings.featureSize)
    let settings = settings
    let trained = back.withLock {
      coordinator -> Result<(Float, Int, Float, Int), StepFailure> in
      let rate =
        settings.learningRate / (1 + Float(coordinator.stepCount) * settings.learningRateDecay)
      let result = features.withUnsafeBufferPointer { f in
        labels.withUnsafeBufferPointer { l in
          gradient.withUnsafeMutableBufferPointer { g in
            Result { () throws(SplitStepError) in
              try coordinator.trainCheckingFiniteness(
                on: f.baseAddress!, labels: l.baseAddress!, batchSize: size, rate: rate,
                featureGradient: g.baseAddress!)
            }
          }
        }
      }
      let values: (loss: Float, correct: Int)
      switch result {
      case .success(let result): values = result
      case .failure(let failure): return .failure(.notApplied(failure))
      }
      do throws(FederationError) {
        // Durable before it is answered: the back after the step, whole.
        try persist(
          .step(
            SplitStateRecord.Step(
              member: memberIndex, epoch: Int(request.epoch), samples: size,
              featureValues: features.count, loss: values.loss, correct: values.correct,
              epsilon: request.epsilon, sensitivity: request.sensitivity,
              steps: coordinator.stepCount, back: coordinator.parameters)))
      } catch {
        return .failure(.notDurable(error))
      }
      return .success((values.loss, values.correct, rate, coordinator.stepCount))
    }
    let (loss, correct, rate, step): (Float, Int, Float, Int)
    switch trained {
    case .success(let values):
      (loss, correct, rate, step) = values
    case .failure(.notDurable(let error)):
      throw error
    case .failure(.notApplied(let failure)):
      // Not applied: the back and its step count are as before, and the turn may step again.
      registry.withLock { registry in
        registry.refusedSteps += 1
        if registry.steppedLease == request.leaseID { registry.steppedLease = nil }
      }
      let error = FederationError(
        .invalidArgument,
        "the step was not applied: \(failure) (the features are within the bound but the back "
          + "cannot train on them); the back is unchanged")
      logger.notice(
        "step refused",
        metadata: [
          "identity": "\(identity)", "code": "\(error.code)", "reason": "\(error.message)",
        ])
      throw error
    }
    let name = registry.withLock { registry -> String in
      guard var member = registry.members[request.participantID] else { return "" }
      member.receipt.steps += 1
      member.receipt.samples += size
      member.receipt.featureValues += features.count
      member.receipt.labels += size
      member.receipt.epsilons.insert(request.epsilon)
      member.receipt.sensitivities.insert(request.sensitivity)
      registry.members[request.participantID] = member
      return member.name
    }
    logger.debug(
      "step",
      metadata: [
        "participant": "\(name)", "step": "\(step)", "batch": "\(size)",
        "values": "\(features.count)", "labels_in_clear": "\(size)",
        "epsilon": "\(request.epsilon == 0 ? "inf" : "\(request.epsilon)")",
        "sensitivity": "\(request.sensitivity)", "loss": "\(loss)",
      ])
    for summary in epochs.stepped(
      request.participantID, epoch: Int(request.epoch), samples: size, loss: Double(loss),
      correct: correct)
    {
      epochCompleted?(summary)
    }
    var response = Colearn_V1_StepResponse()
    response.featureGradient = gradient.withUnsafeBytes { Data($0) }
    response.learningRate = rate
    response.step = UInt64(step)
    response.loss = loss
    response.correct = UInt32(correct)
    return response
  }

  /// The checks that need no state: sizes, finiteness, label range, declared privacy values.
  private func validate(_ request: Colearn_V1_StepRequest) throws(FederationError)
    -> ([Float], [Int32])
  {
    let size = Int(request.batchSize)
    guard size >= 2, size <= settings.maxBatchSize else {
      throw FederationError(
        .invalidArgument,
        "batch_size \(request.batchSize) is outside [2, \(settings.maxBatchSize)] (the "
          + "coordinator's --max-batch-size)")
    }
    let expected = size * settings.featureSize * 4
    guard request.features.count == expected else {
      throw FederationError(
        .invalidArgument,
        "features has \(request.features.count) bytes; batch_size \(size) × feature_size "
          + "\(settings.featureSize) float32 values need \(expected)")
    }
    guard request.labels.count == size else {
      throw FederationError(
        .invalidArgument, "\(request.labels.count) labels for a batch of \(size)")
    }
    if let bad = request.labels.first(where: { $0 >= UInt32(settings.classCount) }) {
      throw FederationError(
        .invalidArgument, "label \(bad) is outside [0, \(settings.classCount))")
    }
    guard request.epsilon >= 0, request.epsilon.isFinite, request.sensitivity >= 0,
      request.sensitivity.isFinite
    else {
      throw FederationError(
        .invalidArgument,
        "epsilon \(request.epsilon) and sensitivity \(request.sensitivity) must be finite and "
          + "≥ 0 (epsilon 0 declares no noise)")
    }
    let smallest = SplitFederationSettings.smallestEpsilon
    guard request.epsilon == 0 || request.epsilon >= smallest else {
      throw FederationError(
        .invalidArgument,
        "epsilon \(request.epsilon) is below \(smallest), the smallest the coordinator accepts "
          + "(noise that large drowns the features); use a larger --epsilon")
    }
    var features = [Float](repeating: 0, count: size * settings.featureSize)
    features.withUnsafeMutableBytes { target in
      request.features.withUnsafeBytes { source in target.copyMemory(from: source) }
    }
    if let bad = features.firstIndex(where: { !$0.isFinite }) {
      throw FederationError(
        .invalidArgument, "feature value \(bad) is \(features[bad]); every value must be finite")
    }
    let bound = SplitFederationSettings.featureBound(batchSize: size, epsilon: request.epsilon)
    let limit = Float(bound)
    if let bad = features.firstIndex(where: { abs($0) > limit }) {
      throw FederationError(
        .invalidArgument,
        "feature value \(bad) is \(features[bad]), outside ±\(limit): the bound "
          + "√(B−1)·(1 + 2⁻¹⁰) + \(Int(SplitFederationSettings.noiseScaleMultiple))·S/ε for "
          + "batch_size \(size) and epsilon \(request.epsilon) (S = 2·√(B−1); ε = 0: no noise). "
          + "Batch-normalised features plus their Laplace noise stay within it")
    }
    return (features, request.labels.map { Int32($0) })
  }

  // MARK: - Publish, Finish, DownloadBack

  /// Stores the turn's sealed front update under the next sequence number and ends the turn.
  public func publishUpdate(_ request: Colearn_V1_PublishUpdateRequest, identity: String)
    throws(FederationError) -> Colearn_V1_PublishUpdateResponse
  {
    guard !request.sealed.isEmpty, request.sealed.count <= settings.maxSealedUpdateBytes else {
      throw FederationError(
        .invalidArgument,
        "a sealed front update has 1 to \(settings.maxSealedUpdateBytes) bytes, got "
          + "\(request.sealed.count)")
    }
    let id = request.participantID
    let sequence = try registry.withLock { registry throws(FederationError) -> UInt64 in
      let lease = try checkTurn(id, leaseID: request.leaseID, identity: identity, in: &registry)
      guard registry.steppedLease == lease.id else {
        throw FederationError(.failedPrecondition, "PublishUpdate needs a Step in this turn")
      }
      let sealed = [UInt8](request.sealed)
      try persist(
        .publish(
          member: registry.members[id]?.joinIndex ?? 0, sequence: registry.lastSequence + 1,
          sealed: sealed))
      registry.relay.append(sealed)
      registry.lastSequence += 1
      registry.members[id]?.receipt.sealedUpdates += 1
      registry.members[id]?.receipt.sealedBytes += request.sealed.count
      registry.steppedLease = nil
      try leases.release(lease.id, of: id)
      return registry.lastSequence
    }
    var response = Colearn_V1_PublishUpdateResponse()
    response.sequenceNumber = sequence
    return response
  }

  /// Marks the caller as done training (releasing a lease it holds). Idempotent.
  public func finish(_ request: Colearn_V1_FinishRequest, identity: String)
    throws(FederationError)
  {
    let id = request.participantID
    let receipt = try registry.withLock { registry throws(FederationError) -> SplitReceipt? in
      try Self.member(id, identity: identity, in: registry)
      registry.members[id]?.lastSeen = clock.now
      leases.withdraw(
        id,
        failing: FederationError(
          .failedPrecondition, "this participant called Finish; it takes no more turns"))
      guard let member = registry.members[id], !member.finished else { return nil }
      try persist(.finish(member: member.joinIndex))
      registry.members[id]?.finished = true
      return registry.members[id]?.receipt
    }
    if let receipt { log(receipt, message: "finished") }
    for summary in epochs.finished(id) { epochCompleted?(summary) }
  }

  /// Whether training is over (``allFinished``) and every participant that finished has
  /// downloaded the back since: the federation's end (`split serve --epochs` then stops).
  public var isComplete: Bool {
    guard allFinished else { return false }
    return registry.withLock { registry in
      registry.members.values.allSatisfy { !$0.finished || $0.downloadedBack }
    }
  }

  /// Whether all N participants have joined and each has finished training or vanished (unseen
  /// for longer than the longest lease, and not waiting for a turn) — Status's
  /// `training_complete`, what participants wait for before fetching the back.
  public var allFinished: Bool { status().trainingComplete }

  /// The back's parameters now.
  public func downloadBack(_ request: Colearn_V1_DownloadBackRequest, identity: String)
    throws(FederationError) -> Colearn_V1_DownloadBackResponse
  {
    try registry.withLock { registry throws(FederationError) in
      try Self.member(request.participantID, identity: identity, in: registry)
      registry.members[request.participantID]?.lastSeen = clock.now
      if let member = registry.members[request.participantID], member.finished,
        !member.downloadedBack
      {
        try persist(.downloaded(member: member.joinIndex))
        registry.members[request.participantID]?.downloadedBack = true
      }
    }
    var response = Colearn_V1_DownloadBackResponse()
    back.withLock { coordinator in
      response.parameters = coordinator.parameters.withUnsafeBytes { Data($0) }
      response.steps = UInt64(coordinator.stepCount)
    }
    return response
  }

  // MARK: - Status, logs, shutdown

  public func status() -> Colearn_V1_SplitStatusResponse {
    let steps = back.withLock { $0.stepCount }
    let horizon = clock.now - .milliseconds(Int(settings.maxLeaseMilliseconds))
    return registry.withLock { registry in
      var response = Colearn_V1_SplitStatusResponse()
      response.configuration = settings.proto
      response.participantsJoined = UInt32(registry.order.count)
      let members = registry.members.values
      response.participantsFinished = UInt32(members.filter(\.finished).count)
      response.trainingComplete =
        registry.order.count == settings.participants
        && members.allSatisfy {
          $0.finished || ($0.lastSeen < horizon && !leases.isWaiting($0.id))
        }
      response.steps = UInt64(steps)
      response.sequenceNumber = registry.lastSequence
      response.refusedSteps = registry.refusedSteps
      response.leaseHolder = leases.current?.holderName ?? ""
      response.uptimeSeconds = UInt64((clock.now - started).components.seconds)
      return response
    }
  }

  /// What the coordinator received from each participant so far.
  public var receipts: [SplitReceipt] {
    registry.withLock { registry in registry.order.compactMap { registry.members[$0]?.receipt } }
  }

  /// One log line per participant with what the coordinator received from it.
  public func logReceipts(message: String = "received") {
    for receipt in receipts { log(receipt, message: message) }
  }

  private func log(_ receipt: SplitReceipt, message: String) {
    logger.info(
      "\(message)",
      metadata: [
        "participant": "\(receipt.name)", "steps": "\(receipt.steps)",
        "samples": "\(receipt.samples)", "feature_values": "\(receipt.featureValues)",
        "labels_in_clear": "\(receipt.labels)",
        "epsilon":
          "\(receipt.epsilons.sorted().map { $0 == 0 ? "inf" : "\($0)" }.joined(separator: "|"))",
        "sensitivity": "\(receipt.sensitivities.sorted().map { "\($0)" }.joined(separator: "|"))",
        "sealed_updates": "\(receipt.sealedUpdates)", "sealed_bytes": "\(receipt.sealedBytes)",
      ])
  }

  /// Fails waiting Lock calls with UNAVAILABLE (the coordinator is shutting down).
  public func stopWaiting() {
    leases.stop(failing: FederationError(.unavailable, "the coordinator is shutting down"))
  }

  @discardableResult
  private static func member(_ id: String, identity: String, in registry: Registry)
    throws(FederationError) -> Member
  {
    guard let member = registry.members[id] else { throw FederationError.notJoined(id) }
    guard member.identity == identity else {
      throw FederationError(
        .permissionDenied, "participant id \(id.prefix(64)) belongs to another token")
    }
    return member
  }

  /// Why a checked step was not answered: refused by the back, or not made durable.
  private enum StepFailure: Error {
    case notApplied(SplitStepError)
    case notDurable(FederationError)
  }

  private static func randomID() -> String {
    var random = SystemRandomNumberGenerator()
    return (0..<2).map { _ in
      let text = String(random.next() as UInt64, radix: 16)
      return String(repeating: "0", count: 16 - text.count) + text
    }.joined()
  }
}
