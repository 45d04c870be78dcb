import CoLearnDSSGD
import CoLearnTensor
import CoLearnWire
import GRPCCore
import Logging
import Synchronization

/// The federation's fixed settings: the model, θ_d, θ_u, β, the exchange protocol, N and the
/// longest lease.
public struct FederationSettings: Sendable, Equatable {
  public var model: ModelIdentity
  /// θ_d: the default download fraction.
  public var downloadFraction: Double
  /// θ_u: uploads carry at most ⌈θ_u·|w|⌉ entries.
  public var uploadFraction: Double
  /// β: stat decays by β after every N uploads.
  public var statDecay: Float
  public var order: ExchangeOrder
  /// N: uploads per round.
  public var participants: Int
  /// The longest lease Lock grants.
  public var maxLeaseMilliseconds: UInt32
  /// The largest sparse vector (encoded bytes) or index list (4 bytes per index) accepted; a
  /// larger one is refused with RESOURCE_EXHAUSTED (`--max-message-bytes`).
  public var maxMessageBytes: Int
  /// How far one upload may move w_global (`--max-update`, `--max-update-norm`).
  public var updateBounds: UpdateBounds
  /// K of ``MedianNormClipping`` (`--clip-to-median-norm`), or nil: off.
  public var medianNormFactor: Double?
  /// The model file in canonical TOML, published at Join (JoinResponse.model_file): a
  /// participant without a model of its own builds it. Empty: none published.
  public var modelFile: String
  /// The dataset schema's JSON, published at Join (JoinResponse.dataset_schema). Empty: none.
  public var datasetSchema: String
  /// K: no turn is granted (and under async no download or upload accepted) before K
  /// participants have joined (`serve --min-participants`). Round 1 starts then.
  public var minimumParticipants: Int
  /// R: after R completed rounds the federation has finished (`serve --rounds`): turns and
  /// uploads are refused with OUT_OF_RANGE, downloads need no turn. Nil: no end.
  public var rounds: UInt64?

  public init(
    model: ModelIdentity, downloadFraction: Double, uploadFraction: Double, statDecay: Float,
    order: ExchangeOrder, participants: Int, maxLeaseMilliseconds: UInt32 = 600_000,
    maxMessageBytes: Int = 4 << 20, updateBounds: UpdateBounds = .none,
    medianNormFactor: Double? = nil, modelFile: String = "", datasetSchema: String = "",
    minimumParticipants: Int = 1, rounds: UInt64? = nil
  ) {
    self.minimumParticipants = minimumParticipants
    self.rounds = rounds
    self.modelFile = modelFile
    self.datasetSchema = datasetSchema
    self.maxMessageBytes = maxMessageBytes
    self.updateBounds = updateBounds
    self.medianNormFactor = medianNormFactor
    self.model = model
    self.downloadFraction = downloadFraction
    self.uploadFraction = uploadFraction
    self.statDecay = statDecay
    self.order = order
    self.participants = participants
    self.maxLeaseMilliseconds = maxLeaseMilliseconds
  }

  /// ⌈θ_u·|w|⌉.
  public var maxUploadEntries: Int { fractionCount(uploadFraction, of: model.parameterCount) }

  /// The settings as colearn.proto's `ServerConfiguration`.
  public var proto: Colearn_V1_ServerConfiguration {
    var message = Colearn_V1_ServerConfiguration()
    message.model = model.proto
    message.downloadFraction = downloadFraction
    message.uploadFraction = uploadFraction
    message.statDecay = Double(statDecay)
    message.exchangeProtocol = order.proto
    message.participants = UInt32(participants)
    message.maxLeaseDurationMs = maxLeaseMilliseconds
    message.maxUpdateValue = updateBounds.maxValue.map(Double.init) ?? 0
    message.maxUpdateNorm = updateBounds.maxNorm ?? 0
    message.maxMessageBytes = UInt64(maxMessageBytes)
    return message
  }
}

extension ExchangeOrder {
  /// The protocol's wire value.
  public var proto: Colearn_V1_ExchangeProtocol {
    switch self {
    case .roundRobin: .roundRobin
    case .randomOrder: .randomOrder
    case .async: .async
    }
  }

  /// The domain value of a wire value (nil for unspecified or unknown).
  public init?(proto: Colearn_V1_ExchangeProtocol) {
    switch proto {
    case .roundRobin: self = .roundRobin
    case .randomOrder: self = .randomOrder
    case .async: self = .async
    default: return nil
    }
  }
}

/// Counters for the status view and the metrics log.
public struct FederationMetrics: Sendable, Equatable {
  public var participantsJoined = 0
  public var sequence: UInt64 = 0
  public var roundsCompleted: UInt64 = 0
  public var parametersUpdated: UInt64 = 0
  public var uploadsAccepted: UInt64 = 0
  public var uploadBytes: UInt64 = 0
  public var duplicateUploads: UInt64 = 0
  public var refusedUploads: UInt64 = 0
  /// Calls refused for a missing, unknown or revoked token (``AuthenticationAudit``).
  public var refusedAuthentications: UInt64 = 0
  public var downloads: UInt64 = 0
  public var parametersDownloaded: UInt64 = 0
  public var downloadBytes: UInt64 = 0
  /// Upload latency (receipt of the request to the durable acknowledgement) over the last
  /// uploads, in milliseconds.
  public var uploadLatencyP50: Double = 0
  public var uploadLatencyP99: Double = 0
  /// Every accepted upload's latency as a histogram (Prometheus's cumulative form): the count
  /// at or below each bound of ``latencyBucketBounds`` (seconds), the total and the sum.
  public var uploadLatencyBuckets = [UInt64](repeating: 0, count: FederationMetrics.latencyBucketBounds.count)
  public var uploadLatencyCount: UInt64 = 0
  public var uploadLatencySecondsSum: Double = 0
  public var leaseHolder = ""
  /// Failed TLS handshakes (``AuthenticationAudit``).
  public var failedHandshakes: UInt64 = 0
  /// The global model's latest evaluation on the server's held-out data (nil: none yet).
  public var lastGlobalEvaluation: Colearn_V1_GlobalEvaluation?
  /// The participants' latest self-reported accuracies (nil: none has reported).
  public var reportedAccuracy: ParticipantRoster.ReportedAccuracy?

  /// The histogram's upper bounds in seconds (1 ms to 10 s).
  public static let latencyBucketBounds: [Double] = [
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
  ]

  public init() {}
}

/// The deployed parameter server's logic, independent of gRPC: who joined with which token
/// identity (a participant is shown under its token's name; a revoked one loses its slot), the
/// bounds on an upload (``UpdateBounds``), the turn leases of `round-robin` and
/// `random-order`, request validation, and the durable state (``DurableParameterServer``, with
/// group commit). ``ParameterServerService`` maps the gRPC calls onto it.
///
/// Turns (SPEC §6): under `round-robin` the lease goes to the waiting participant next after the
/// last holder in join order (cyclically; participants not waiting are skipped, so a vanished one
/// never stalls the federation); under `random-order` to a waiting participant drawn uniformly.
/// A lease that expires is taken back and its holder's later calls fail with ABORTED. The
/// leases are a ``TurnLeases`` (shared with ``SplitFederation``).
///
/// Threading: every method may be called from any task; state changes serialise on one lock,
/// which is never held across a suspension or an fsync.
public final class Federation: Sendable {
  private struct Member {
    var id: String
    /// The token's name: what the participant is shown as.
    var identity: String
    /// The participant's own `participant_name` (logged at Join only).
    var label: String
    var joinIndex: Int
  }

  private struct Registry {
    var members: [String: Member] = [:]
    var idByIdentity: [String: String] = [:]
    /// Consulted for revoked identities when the federation is full (``watchRevocations(_:)``).
    var tokens: TokenAuthenticator?
    var nextJoinIndex = 0
    var random = SystemRandomNumberGenerator()
    var metrics = FederationMetrics()
    var latencies = [Double](repeating: 0, count: 8192)
    var latencyCount = 0
    var snapshotting = false
    /// The last round handed to `roundCompleted`, and whether a hand-over is running.
    var publishedRound: UInt64 = 0
    var publishing = false
    /// Whether K participants have joined (round 1 has started; it stays started).
    var started = false
  }

  public let settings: FederationSettings
  /// The durable state.
  public let store: DurableParameterServer
  private let registry = Mutex(Registry())
  /// The turns (unused under `async`).
  private let leases: TurnLeases
  /// One turn per member and round (sequential protocols).
  private let schedule: RoundSchedule
  /// The participants' rows and the global evaluations, for the operator.
  public let roster: ParticipantRoster
  private let logger: Logger
  private let clock = ContinuousClock()
  private let started: ContinuousClock.Instant
  /// The write-ahead log size that triggers a snapshot.
  private let snapshotLogBytes: Int
  /// The robust rule, when configured.
  private let medianNorm: MedianNormClipping?
  /// Called in the background with w_global and the rounds completed whenever a round has
  /// completed (coalesced: it never runs twice at once, and then sees the latest state).
  private let roundCompleted: (@Sendable (_ parameters: [Float], _ rounds: UInt64) -> Void)?

  /// A federation over `store` (whose |w| must be the model's). `roundCompleted` receives
  /// w_global after rounds complete (`colearn serve` saves it as the global model file); the
  /// parameters may already hold uploads of the round after, which runs meanwhile.
  public init(
    settings: FederationSettings, store: DurableParameterServer, logger: Logger,
    snapshotLogBytes: Int = 64 << 20, roster: ParticipantRoster = ParticipantRoster(),
    roundCompleted: (@Sendable (_ parameters: [Float], _ rounds: UInt64) -> Void)? = nil
  ) {
    precondition(store.dimension == settings.model.parameterCount, "store of another model")
    self.roster = roster
    self.roundCompleted = roundCompleted
    self.settings = settings
    self.store = store
    self.logger = logger
    self.snapshotLogBytes = snapshotLogBytes
    medianNorm = settings.medianNormFactor.map { MedianNormClipping(factor: $0) }
    let schedule = RoundSchedule(
      roundsCompleted: store.roundsCompleted,
      stall: .milliseconds(Int64(settings.maxLeaseMilliseconds)))
    self.schedule = schedule
    leases = TurnLeases(
      order: settings.order == .randomOrder ? .randomOrder : .roundRobin,
      open: settings.minimumParticipants <= 1,
      onExpiry: { lease in
        logger.notice(
          "lease expired: the turn is taken back", metadata: ["participant": "\(lease.holderName)"])
      },
      eligible: schedule.isEligible)
    started = clock.now
    registry.withLock { $0.started = settings.minimumParticipants <= 1 }
    if isFinished { leases.stop(failing: finishedError) }
  }

  private var sequential: Bool { settings.order != .async }

  /// Whether all ``FederationSettings/rounds`` rounds are complete.
  public var isFinished: Bool { settings.rounds.map { store.roundsCompleted >= $0 } ?? false }

  /// The refusal of turns and uploads once the federation has finished. Its code, OUT_OF_RANGE,
  /// is the end signal (colearn.proto): a participant stops with success.
  public var finishedError: FederationError {
    FederationError(
      .outOfRange,
      "the federation has finished: all \(settings.rounds ?? 0) rounds are complete; download "
        + "the final global model (no turn needed) and stop")
  }

  /// The refusal of the async protocol's calls before K participants have joined.
  private func notStartedError(joined: Int) -> FederationError {
    FederationError(
      .unavailable,
      "the federation starts when \(settings.minimumParticipants) participants have joined "
        + "(\(joined) so far); retry with backoff")
  }

  // MARK: - Join and Leave

  /// The token name reserved for the operator (`colearn provision` issues it in
  /// `operator/`): it authenticates Status but never joins, so it never takes a slot.
  public static let operatorIdentity = "operator"

  /// Joins `identity` (the name its token was issued to) as `request.participantName`. A
  /// request with a model must run the server's (same specification hash and |w|; a refusal
  /// names the lines in which `request.modelFile` differs from ``FederationSettings/modelFile``);
  /// one without takes the server's model from the response's `model_file`.
  public func join(_ request: Colearn_V1_JoinRequest, identity: String) throws(FederationError)
    -> Colearn_V1_JoinResponse
  {
    if identity == Self.operatorIdentity {
      throw FederationError(
        .permissionDenied,
        "the token of \(identity) is the operator's: it reads Status (`colearn status`) and "
          + "takes no participant's slot; a participant needs a token of its own")
    }
    if request.hasModel {
      let model: ModelIdentity
      do { model = try ModelIdentity(proto: request.model) } catch {
        throw FederationError(.invalidArgument, error.description)
      }
      if var mismatch = settings.model.mismatch(participant: model) {
        mismatch.differences = ModelFileDifferences.between(
          request.modelFile, settings.modelFile, hereName: "in yours", thereName: "on the server")
        throw FederationError(.failedPrecondition, mismatch.description)
      }
    } else if settings.modelFile.isEmpty {
      throw FederationError(
        .invalidArgument,
        "the request has no `model` and this server publishes no model file; send your model "
          + "identity (start the participant with --model)")
    }
    let label = request.participantName
    if let problem = Self.nameProblem(label) {
      throw FederationError(.invalidArgument, "participant_name \(problem)")
    }
    var admitted = registry.withLock { admit(identity: identity, label: label, in: &$0) }
    if admitted == nil, !evictRevoked().isEmpty {
      admitted = registry.withLock { admit(identity: identity, label: label, in: &$0) }
    }
    guard let (id, isNew) = admitted else {
      throw FederationError(
        .resourceExhausted,
        "the federation is full (\(settings.participants) participants joined); "
          + "ask the operator to raise --participants or to revoke a participant's token "
          + "(`colearn token revoke NAME`), which frees its slot at once")
    }
    if isNew {
      logger.info(
        "participant joined",
        metadata: ["participant": "\(identity)", "label": "\(label)", "id": "\(id)"])
    }
    var response = Colearn_V1_JoinResponse()
    response.participantID = id
    response.configuration = settings.proto
    response.sequenceNumber = store.sequence
    response.lastAppliedRound = store.participants[identity]?.lastRound ?? 0
    response.participantName = identity
    response.modelFile = settings.modelFile
    response.datasetSchema = settings.datasetSchema
    return response
  }

  /// The member id of `identity` (joining it if there is a free slot; nil if the federation is
  /// full), and whether it is new.
  private func admit(identity: String, label: String, in registry: inout Registry) -> (
    String, Bool
  )? {
    if let id = registry.idByIdentity[identity] {
      // Joining again (e.g. after a restart of the participant): same id, maybe a new label.
      registry.members[id]?.label = label
      return (id, false)
    }
    guard registry.members.count < settings.participants else { return nil }
    let id = Self.randomID(using: &registry.random)
    registry.members[id] = Member(
      id: id, identity: identity, label: label, joinIndex: registry.nextJoinIndex)
    registry.nextJoinIndex += 1
    registry.idByIdentity[identity] = id
    registry.metrics.participantsJoined = registry.members.count
    schedule.joined(id)
    roster.joined(identity)
    if !registry.started, registry.members.count >= settings.minimumParticipants {
      registry.started = true
      leases.open()
      logger.notice(
        "round 1 starts", metadata: ["participants": "\(registry.members.count)"])
    }
    return (id, true)
  }

  /// What is wrong with a `participant_name` (nil: nothing). Names are 1 to 64 ASCII letters,
  /// digits, '-', '_', '.' or '@' (the token names' set), so that no name can forge a log line.
  static func nameProblem(_ name: String) -> String? {
    if name.isEmpty { return "is empty; send a label such as your host name" }
    if name.utf8.count > 64 { return "is \(name.utf8.count) bytes long, more than 64" }
    for (position, scalar) in name.unicodeScalars.enumerated()
    where !TokenFile.isValidName(String(scalar)) {
      return "has U+\(String(scalar.value, radix: 16, uppercase: true)) at position \(position): "
        + "use only ASCII letters, digits, '-', '_', '.' and '@'"
    }
    return nil
  }

  /// Lets the federation free the slots of participants whose token was revoked (or removed
  /// from the token file): checked when a Join finds the federation full, and by
  /// ``evictRevoked()``.
  public func watchRevocations(_ tokens: TokenAuthenticator) {
    registry.withLock { $0.tokens = tokens }
  }

  /// Forgets every participant whose token is no longer active (as ``leave(participantID:
  /// identity:)`` does) and returns their names.
  @discardableResult
  public func evictRevoked() -> [String] {
    let (tokens, identities) = registry.withLock { ($0.tokens, $0.members.values.map(\.identity)) }
    guard let tokens else { return [] }
    let active = tokens.activeNames()
    let revoked = identities.filter { !active.contains($0) }
    for identity in revoked {
      registry.withLock { registry in
        guard let id = registry.idByIdentity[identity] else { return }
        forget(
          id, failing: FederationError(.unauthenticated, "the token of \(identity) was revoked"),
          in: &registry)
      }
      logger.notice(
        "token revoked: participant removed, its slot is free",
        metadata: ["participant": "\(identity)"])
    }
    return revoked
  }

  /// Removes member `id`: its lease, its waiting Lock calls (failed with `error`) and its slot.
  private func forget(_ id: String, failing error: FederationError, in registry: inout Registry) {
    guard let member = registry.members.removeValue(forKey: id) else { return }
    registry.idByIdentity[member.identity] = nil
    registry.metrics.participantsJoined = registry.members.count
    schedule.left(id)
    roster.left(member.identity)
    leases.remove(id, failing: error)
  }

  /// Forgets a participant: releases its lease and fails its waiting Lock calls.
  public func leave(participantID: String, identity: String) throws(FederationError) {
    try registry.withLock { registry throws(FederationError) in
      guard let member = registry.members[participantID] else { return }
      guard member.identity == identity else { throw Self.notYours(participantID) }
      forget(participantID, failing: .notJoined(participantID), in: &registry)
    }
    logger.info("participant left", metadata: ["participant": "\(identity)"])
  }

  // MARK: - Leases

  /// Whether participant `id` has a Lock or HoldTurn call waiting for the turn (a caller that
  /// gave up is no longer waiting once the server has seen its call end).
  public func isWaiting(_ id: String) -> Bool { leases.isWaiting(id) }

  /// Waits for the turn and returns the lease (or the caller's current one): Lock, which
  /// leaves the lease to Unlock or its expiry.
  public func lock(_ request: Colearn_V1_LockRequest, identity: String) async throws
    -> Colearn_V1_LockResponse
  {
    try await grant(request, identity: identity).0
  }

  /// HoldTurn: waits for the turn as ``lock(_:identity:)`` does, sends the lease on
  /// `responses`, and holds it while the call stays open; releases it the moment the call ends
  /// (the caller closed it, or it broke: logged) — ``TurnHolding``.
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
    guard sequential else {
      throw FederationError(
        .failedPrecondition, "the server runs the async protocol, which has no turns: "
          + "download and upload without HoldTurn or Lock")
    }
    guard request.leaseDurationMs > 0 else {
      throw FederationError(.invalidArgument, "lease_duration_ms must be positive")
    }
    if isFinished { throw finishedError }
    let milliseconds = min(request.leaseDurationMs, settings.maxLeaseMilliseconds)
    let participantID = request.participantID
    let member = try registry.withLock { registry throws(FederationError) -> Member in
      try Self.member(participantID, identity: identity, in: registry)
    }
    let lease = try await leases.acquire(
      participantID, name: member.identity, joinIndex: member.joinIndex,
      milliseconds: milliseconds)
    var response = Colearn_V1_LockResponse()
    response.leaseID = lease.id
    response.leaseDurationMs = lease.milliseconds
    response.sequenceNumber = store.sequence
    return (response, lease)
  }

  /// Releases the caller's lease; false if it was no longer current.
  public func unlock(_ request: Colearn_V1_UnlockRequest, identity: String) throws(FederationError)
    -> Bool
  {
    _ = try registry.withLock { registry throws(FederationError) -> Member in
      try Self.member(request.participantID, identity: identity, in: registry)
    }
    return try leases.release(request.leaseID, of: request.participantID)
  }

  /// Checks that `participantID` holds `leaseID` under a sequential protocol.
  private func checkTurn(
    participantID: String, leaseID: String, identity: String, download: Bool = false
  ) throws(FederationError) {
    let (started, joined) = try registry.withLock {
      registry throws(FederationError) -> (Bool, Int) in
      _ = try Self.member(participantID, identity: identity, in: registry)
      return (registry.started, registry.members.count)
    }
    if isFinished {
      // The final model is everyone's to download, without a turn; nothing more is accepted.
      if download { return }
      throw finishedError
    }
    guard sequential else {
      if !started { throw notStartedError(joined: joined) }
      return
    }
    guard !leaseID.isEmpty else {
      throw FederationError(
        .failedPrecondition,
        "the server runs \(settings.order.rawValue): call Lock first and send its lease_id")
    }
    try leases.check(
      participantID, leaseID: leaseID, then: "Lock again and restart from Download")
  }

  // MARK: - Download and Upload

  /// θ_d of w_global (or the requested fraction or indices).
  public func download(_ request: Colearn_V1_DownloadRequest, identity: String)
    throws(FederationError) -> Colearn_V1_DownloadResponse
  {
    try checkTurn(
      participantID: request.participantID, leaseID: request.leaseID, identity: identity,
      download: true)
    let dimension = settings.model.parameterCount
    let vector: SparseVector
    let sequence: UInt64
    switch request.selection {
    case .fraction(let fraction):
      guard fraction > 0, fraction <= 1 else {
        throw FederationError(.invalidArgument, "fraction is \(fraction), expected a value in (0, 1]")
      }
      (vector, sequence) = store.download(fraction: fraction)
    case .indices(let list):
      let indices = list.indices
      try checkSize(4 * indices.count, of: "index list")
      guard indices.count <= dimension else {
        throw FederationError(
          .invalidArgument, "\(indices.count) indices requested, the model has |w| = \(dimension)")
      }
      var previous: Int64 = -1
      for (position, index) in indices.enumerated() {
        guard Int(index) < dimension else {
          throw FederationError(
            .invalidArgument,
            "indices[\(position)] = \(index) is out of range: the model has |w| = \(dimension)")
        }
        guard Int64(index) > previous else {
          throw FederationError(
            .invalidArgument,
            "indices[\(position)] = \(index) is not greater than the index before it "
              + "(\(previous)); send strictly increasing indices without duplicates")
        }
        previous = Int64(index)
      }
      (vector, sequence) = store.read(indices: indices.map { Int32($0) })
    case nil:
      (vector, sequence) = store.download(fraction: settings.downloadFraction)
    }
    var response = Colearn_V1_DownloadResponse()
    response.parameters = vector.proto(dimension: dimension)
    response.sequenceNumber = sequence
    let bytes = UInt64(response.parameters.encoded.count)
    registry.withLock {
      $0.metrics.downloads += 1
      $0.metrics.parametersDownloaded += UInt64(vector.count)
      $0.metrics.downloadBytes += bytes
    }
    return response
  }

  /// Validates, persists (group commit) and applies an upload, or answers a retry.
  public func upload(_ request: Colearn_V1_UploadRequest, identity: String) async throws(
    FederationError
  ) -> Colearn_V1_UploadResponse {
    let start = clock.now
    do {
      let response = try await acceptUpload(request, identity: identity)
      let latency = (clock.now - start).milliseconds
      let bytes = UInt64(request.update.encoded.count)
      registry.withLock { registry in
        if response.duplicate {
          registry.metrics.duplicateUploads += 1
        } else {
          registry.metrics.uploadsAccepted += 1
          registry.metrics.uploadBytes += bytes
        }
        if !response.duplicate {
          schedule.uploaded(request.participantID, roundsCompleted: store.roundsCompleted)
          roster.uploaded(identity)
        }
        registry.latencies[registry.latencyCount % registry.latencies.count] = latency
        registry.latencyCount += 1
        let seconds = latency / 1000
        registry.metrics.uploadLatencyCount += 1
        registry.metrics.uploadLatencySecondsSum += seconds
        for (index, bound) in FederationMetrics.latencyBucketBounds.enumerated() where seconds <= bound {
          registry.metrics.uploadLatencyBuckets[index] += 1
        }
      }
      snapshotIfDue()
      publishRoundIfDue()
      if isFinished { leases.stop(failing: finishedError) }
      return response
    } catch {
      registry.withLock { $0.metrics.refusedUploads += 1 }
      logger.notice(
        "upload refused",
        metadata: ["participant": "\(identity)", "code": "\(error.code)", "reason": "\(error.message)"])
      throw error
    }
  }

  private func acceptUpload(_ request: Colearn_V1_UploadRequest, identity: String) async throws(
    FederationError
  ) -> Colearn_V1_UploadResponse {
    try checkTurn(participantID: request.participantID, leaseID: request.leaseID, identity: identity)
    guard request.hasUpdate else {
      throw FederationError(.invalidArgument, "the request has no `update`; send the sparse Δw")
    }
    try checkSize(request.update.encoded.count, of: "update")
    let dimension = settings.model.parameterCount
    var update: SparseVector
    var bytes: [UInt8]?
    do {
      let decoded = try SparseVector.decodingWithBytes(proto: request.update, dimension: dimension)
      (update, bytes) = (decoded.0, decoded.1)
    } catch {
      throw FederationError(.invalidArgument, error.description)
    }
    guard update.count <= settings.maxUploadEntries else {
      throw FederationError(
        .invalidArgument,
        "the update has \(update.count) entries, more than ⌈θ_u·|w|⌉ = \(settings.maxUploadEntries) "
          + "(θ_u = \(settings.uploadFraction)); select fewer")
    }
    if let violation = settings.updateBounds.violation(of: update) {
      throw FederationError(.invalidArgument, violation)
    }
    if request.hasRound, request.round == 0 {
      throw FederationError(.invalidArgument, "round must be ≥ 1 (rounds count from 1)")
    }
    if let medianNorm {
      let (clipped, scaled) = medianNorm.clip(update)
      if scaled {
        logger.notice(
          "upload scaled down to the median-norm limit",
          metadata: ["participant": "\(identity)", "limit": "\(medianNorm.limit ?? 0)"])
        (update, bytes) = (clipped, nil)
      }
    }
    let origin = UploadOrigin(participant: identity, round: request.hasRound ? request.round : nil)
    let receipt: UploadReceipt
    do {
      receipt = try store.stage(update, encoded: bytes, origin: origin)
    } catch let refusal as UploadRefusal {
      throw FederationError(.failedPrecondition, refusal.description)
    } catch let problem as SparseVectorProblem {
      throw FederationError(.invalidArgument, "\(problem)")
    } catch let overflow as ParameterOverflow {
      throw FederationError(.invalidArgument, overflow.description)
    } catch {
      logger.error("cannot persist an upload", metadata: ["error": "\(error)"])
      throw FederationError(
        .internalError, "the server could not persist the upload (\(error)); it was not "
          + "acknowledged: retry later")
    }
    do {
      try await store.waitUntilDurable(receipt.event)
    } catch {
      logger.critical(
        "fsync of the write-ahead log failed: refusing all uploads until restarted",
        metadata: ["error": "\(error)"])
      throw FederationError(
        .internalError, "the server could not make the upload durable; it was not "
          + "acknowledged: retry after the server restarts")
    }
    if !receipt.duplicate { medianNorm?.record(update) }
    var response = Colearn_V1_UploadResponse()
    response.sequenceNumber = receipt.sequence
    response.appliedEntries = UInt64(receipt.appliedEntries)
    response.duplicate = receipt.duplicate
    return response
  }

  /// Refuses a payload above `maxMessageBytes`. (A request above the transport's limit, this
  /// plus the request's envelope, is refused from its length prefix, unread: ``RequestBudget``.)
  private func checkSize(_ bytes: Int, of what: String) throws(FederationError) {
    guard bytes > settings.maxMessageBytes else { return }
    throw FederationError(
      .resourceExhausted,
      "the \(what) is \(bytes.groupedByThousands) bytes, more than the server's limit of "
        + "\(settings.maxMessageBytes.groupedByThousands) bytes (--max-message-bytes)")
  }

  /// Hands w_global to `roundCompleted` in the background when a round has completed since
  /// the last hand-over; one hand-over at a time, repeated while rounds keep completing.
  private func publishRoundIfDue() {
    guard let roundCompleted else { return }
    let start = registry.withLock { registry -> Bool in
      guard store.roundsCompleted > registry.publishedRound, !registry.publishing else {
        return false
      }
      registry.publishing = true
      return true
    }
    guard start else { return }
    Task.detached { [self] in
      while true {
        let rounds = store.roundsCompleted
        roundCompleted(store.readAll().0, rounds)
        let again = registry.withLock { registry -> Bool in
          registry.publishedRound = rounds
          if store.roundsCompleted > rounds { return true }
          registry.publishing = false
          return false
        }
        if !again { return }
      }
    }
  }

  /// Snapshots in the background once the log has grown past its limit.
  private func snapshotIfDue() {
    guard store.logBytes >= snapshotLogBytes else { return }
    let start = registry.withLock { registry -> Bool in
      if registry.snapshotting { return false }
      registry.snapshotting = true
      return true
    }
    guard start else { return }
    Task.detached { [self] in
      defer { registry.withLock { $0.snapshotting = false } }
      do {
        try store.snapshot()
        logger.info("snapshot written", metadata: ["sequence": "\(store.sequence)"])
      } catch {
        logger.error("snapshot failed (the log keeps everything)", metadata: ["error": "\(error)"])
      }
    }
  }

  /// Lets a waiting member have the turn when a member that has not come for its turn stopped
  /// holding the round up (``RoundSchedule``); the host calls it with every metrics line.
  public func reconsiderTurns() {
    if sequential { leases.reconsider() }
  }

  /// Fails the waiting Lock calls with UNAVAILABLE (the server is shutting down), so a graceful
  /// shutdown does not wait for turns that will not come.
  public func stopWaiting() {
    leases.stop(
      failing: FederationError(.unavailable, "the server is shutting down; retry with backoff"))
  }

  // MARK: - Report

  /// Keeps a participant's self-reported figures (colearn.proto's Report) for the operator.
  public func report(_ request: Colearn_V1_ReportRequest, identity: String) throws(FederationError) {
    _ = try registry.withLock { registry throws(FederationError) in
      try Self.member(request.participantID, identity: identity, in: registry)
    }
    if let problem = ParticipantRoster.problem(with: request) {
      throw FederationError(.invalidArgument, "the report's \(problem)")
    }
    var report = request
    report.participantID = ""
    roster.reported(identity, report)
    logger.debug(
      "participant report",
      metadata: [
        "participant": "\(identity)", "round": "\(request.round)",
        "accuracy": "\(request.testAccuracy)",
        "epsilon": "\(request.hasEpsilon ? "\(request.epsilon)" : "none")",
      ])
  }

  // MARK: - Status

  /// The counters now.
  public var metrics: FederationMetrics {
    var metrics = registry.withLock { registry -> FederationMetrics in
      var metrics = registry.metrics
      let count = min(registry.latencyCount, registry.latencies.count)
      if count > 0 {
        let sorted = registry.latencies[0..<count].sorted()
        metrics.uploadLatencyP50 = sorted[(count - 1) / 2]
        metrics.uploadLatencyP99 = sorted[min(count - 1, Int(Double(count) * 0.99))]
      }
      return metrics
    }
    metrics.leaseHolder = leases.current?.holderName ?? ""
    metrics.sequence = store.sequence
    metrics.roundsCompleted = store.roundsCompleted
    metrics.parametersUpdated = UInt64(store.state.updatedParameterCount)
    metrics.lastGlobalEvaluation = roster.evaluations.last
    metrics.reportedAccuracy = roster.reportedAccuracy
    return metrics
  }

  /// colearn.proto's StatusResponse.
  public func status() -> Colearn_V1_StatusResponse {
    let metrics = self.metrics
    var response = Colearn_V1_StatusResponse()
    response.configuration = settings.proto
    response.sequenceNumber = metrics.sequence
    response.participantsJoined = UInt32(metrics.participantsJoined)
    response.roundsCompleted = metrics.roundsCompleted
    response.parametersUpdated = metrics.parametersUpdated
    response.downloads = metrics.downloads
    response.parametersDownloaded = metrics.parametersDownloaded
    response.duplicateUploads = metrics.duplicateUploads
    response.refusedUploads = metrics.refusedUploads
    response.leaseHolder = metrics.leaseHolder
    response.uptimeSeconds = UInt64((clock.now - started).components.seconds)
    response.roundsPlanned = settings.rounds ?? 0
    response.started = registry.withLock { $0.started }
    let records = store.participants
    response.participants = roster.entries.map { $0.proto(lastRound: records[$0.name]?.lastRound ?? 0) }
    response.globalEvaluations = roster.evaluations
    return response
  }

  // MARK: - Helpers

  private static func member(_ id: String, identity: String, in registry: Registry)
    throws(FederationError) -> Member
  {
    guard let member = registry.members[id] else { throw .notJoined(id) }
    guard member.identity == identity else { throw notYours(id) }
    return member
  }

  private static func notYours(_ id: String) -> FederationError {
    FederationError(
      .permissionDenied, "participant id \(id.prefix(64)) was joined with another token")
  }

  private static func randomID(using random: inout SystemRandomNumberGenerator) -> String {
    let high = random.next() as UInt64
    let low = random.next() as UInt64
    return hex(high) + hex(low)
  }

  private static func hex(_ value: UInt64) -> String {
    let digits = String(value, radix: 16)
    return String(repeating: "0", count: 16 - digits.count) + digits
  }
}

extension Duration {
  /// The duration in milliseconds.
  var milliseconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) * 1e3 + Double(attoseconds) * 1e-15
  }
}
