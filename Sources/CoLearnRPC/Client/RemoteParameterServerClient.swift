import CoLearnDSSGD
import CoLearnTensor
import CoLearnWire
import Dispatch
import GRPCCore
import GRPCNIOTransportHTTP2
import Synchronization

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// How a participant reaches the server.
public struct RemoteServerConfiguration: Sendable {
  /// Host name or IP address, and port.
  public var host: String
  public var port: Int
  /// TLS (trusting `caCertificate`, a PEM file, or the system's roots when nil); nil connects
  /// in plaintext (`--insecure`).
  public var tls: (caCertificate: String?, serverName: String?)?
  /// The participant's secret token.
  public var token: String
  /// The display name sent with Join.
  public var participantName: String
  /// The participant's model, or nil to take the server's (``RemoteParameterServerClient/
  /// publishedModelFile``).
  public var model: ModelIdentity?
  /// The participant's model file in canonical TOML, sent with Join so that a refusal names
  /// what differs from the server's (empty: not sent).
  public var modelFile: String
  /// The lease asked for per turn.
  public var leaseMilliseconds: UInt32
  /// How long a call keeps retrying transient failures (server down, restarting, unreachable)
  /// before giving up.
  public var retryFor: Duration
  /// Per-call deadline for Join, Download, Upload, Unlock and Status, and how long ending a
  /// turn waits for the server (HoldTurn and Lock wait for the turn without one).
  public var callTimeout: Duration

  public init(
    host: String, port: Int, tls: (caCertificate: String?, serverName: String?)?, token: String,
    participantName: String, model: ModelIdentity?, modelFile: String = "",
    leaseMilliseconds: UInt32 = 600_000,
    retryFor: Duration = .seconds(300), callTimeout: Duration = .seconds(60)
  ) {
    self.host = host
    self.port = port
    self.tls = tls
    self.token = token
    self.participantName = participantName
    self.model = model
    self.modelFile = modelFile
    self.leaseMilliseconds = leaseMilliseconds
    self.retryFor = retryFor
    self.callTimeout = callTimeout
  }
}

/// Why a remote call failed for good.
public enum RemoteServerError: Error, CustomStringConvertible {
  /// The server refused the call (a status that retrying cannot fix).
  case refused(operation: String, code: RPCError.Code, message: String)
  /// Transient failures lasted longer than the retry window.
  case gaveUp(operation: String, after: Duration, last: String)
  /// The connection cannot work as configured (a TLS setting; see ``ConnectionProbe``).
  case misconfigured(operation: String, reason: String)

  public var description: String {
    switch self {
    case .refused(let operation, let code, let message):
      return "the server refused \(operation) (\(code)): \(message)"
    case .gaveUp(let operation, let after, let last):
      return "\(operation) failed for \(after.components.seconds) s, giving up; last error: \(last)"
    case .misconfigured(let operation, let reason):
      return "\(operation) cannot reach the server: \(reason)"
    }
  }

  /// Whether this is the server's end signal: the federation has finished its rounds
  /// (OUT_OF_RANGE on a turn or an upload; colearn.proto). Downloads still work.
  public var isFinished: Bool { code == .outOfRange }

  /// The gRPC status code, when the server refused.
  public var code: RPCError.Code? {
    if case .refused(_, let code, _) = self { return code }
    return nil
  }
}

/// A participant's ``ParameterServerClient`` for a remote server over gRPC (colearn.proto): the
/// same DSSGD turn (``DSSGDTurnRunner``) runs against it as against the simulation's in-process
/// server.
///
/// - Joins on creation, and again whenever the server has forgotten the participant (after a
///   server restart);
/// - ``beginTurn()`` takes the lease under `round-robin` / `random-order` through a HoldTurn
///   call that stays open for the turn, ``endTurn()`` closes it, which gives the lease back; if
///   this process dies or its connection breaks mid-turn, the call ends with it and the server
///   gives the turn to the next participant at once (an older server without HoldTurn: Lock and
///   Unlock, whose lease a vanished participant keeps until it expires);
/// - every upload is clipped to the bounds the server announced (``UpdateBounds``), and carries
///   ``round`` as its idempotency key, so retrying after a lost
///   acknowledgement never applies an update twice;
/// - transient failures (UNAVAILABLE, a broken connection, a deadline, a failed persist) are
///   retried with exponential backoff and jitter for up to `retryFor`; a lease lost to a server
///   restart or expiry is taken again and the call repeated (an interrupted turn's upload is
///   then applied under the new lease: its Δw was computed against the state before the
///   interruption, like a stale download).
///
/// Calls block the calling thread: drive it from a thread of its own (a participant trains on
/// one), never from a Swift concurrency executor.
public final class RemoteParameterServerClient: ParameterServerClient, @unchecked Sendable {
  public let configuration: RemoteServerConfiguration
  /// |w|: the participant's model's, or the server's when it brought none.
  public private(set) var dimension: Int
  /// The server's settings, from Join.
  public private(set) var serverConfiguration = Colearn_V1_ServerConfiguration()
  /// The bounds the server announced at Join: every upload is clipped to them first, so the
  /// server never refuses it for its size.
  public private(set) var bounds = UpdateBounds.none
  /// Uploads that had to be clipped to ``bounds``.
  public private(set) var clippedUploads = 0
  /// The name the server shows this participant under (its token's), from Join.
  public private(set) var serverName = ""
  /// The server's model file in canonical TOML, from Join (empty: an older server).
  public private(set) var publishedModelFile = ""
  /// The federation's dataset schema as JSON, from Join (empty: the server has none).
  public private(set) var publishedSchema = ""
  /// The round of this identity's last upload the server had applied when it (re-)joined.
  public private(set) var lastAppliedRound: UInt64 = 0
  /// The idempotency key of the next upload: one more than the last applied round after Join,
  /// incremented after every acknowledged upload (a caller may also set it per round).
  public var round: UInt64 = 1
  /// Called with every acknowledgement (round, response), before ``upload(_:)`` returns.
  public var onAcknowledgement: ((UInt64, Colearn_V1_UploadResponse) -> Void)?
  /// Called with a line for each retried failure.
  public var onRetry: ((String) -> Void)?
  /// The last acknowledgement.
  public private(set) var lastAcknowledgement: Colearn_V1_UploadResponse?

  private let connection: RPCConnection
  private var participantID = ""
  private var leaseID = ""
  private var sequential = true
  /// The open HoldTurn call of the current turn.
  private var held: HeldTurn?
  /// Set when the server answered HoldTurn with UNIMPLEMENTED (it predates it): turns use Lock.
  private var holdTurnUnsupported = false

  /// Connects and joins.
  ///
  /// - Throws: ``RemoteServerError`` when Join is refused (wrong model, unknown token, …) or the
  ///   server stays unreachable for `retryFor`.
  public init(_ configuration: RemoteServerConfiguration) throws {
    self.configuration = configuration
    dimension = configuration.model?.parameterCount ?? 0
    connection = try RPCConnection(
      RPCEndpoint(
        host: configuration.host, port: configuration.port, tls: configuration.tls,
        token: configuration.token))
    do {
      try join()
    } catch {
      close()
      throw error
    }
  }

  deinit {
    close()
  }

  /// Closes the connection (after in-flight calls; a turn still held is given back).
  public func close() {
    held?.abandon()
    connection.close()
  }

  private var options: CallOptions {
    var options = CallOptions.defaults
    options.timeout = configuration.callTimeout
    options.maxResponseMessageBytes = 64 << 20
    return options
  }

  // MARK: - Calls

  private func join() throws {
    var join = Colearn_V1_JoinRequest()
    if let model = configuration.model { join.model = model.proto }
    join.modelFile = configuration.modelFile
    join.participantName = configuration.participantName
    let request = join
    let response = try call("Join", rejoin: false) { client, metadata, options in
      try await client.join(request, metadata: metadata, options: options)
    }
    if configuration.model == nil {
      let count = response.configuration.model.parameterCount
      guard count >= 1, count <= UInt64(Int32.max) else {
        throw RemoteServerError.refused(
          operation: "Join", code: .dataLoss,
          message: "the server announced a model of \(count) parameters")
      }
      guard dimension == 0 || dimension == Int(count) else {
        throw RemoteServerError.refused(
          operation: "Join", code: .failedPrecondition,
          message: "the server's model changed from |w| = \(dimension) to \(count) while joined")
      }
      dimension = Int(count)
    }
    participantID = response.participantID
    serverConfiguration = response.configuration
    publishedModelFile = response.modelFile
    publishedSchema = response.datasetSchema
    bounds = UpdateBounds(proto: response.configuration)
    serverName = response.participantName
    lastAppliedRound = response.lastAppliedRound
    round = max(round, response.lastAppliedRound + 1)
    sequential = response.configuration.exchangeProtocol != .async
    leaseID = ""
  }

  public func beginTurn() throws {
    guard sequential else { return }
    try lock()
  }

  /// Takes the turn: through HoldTurn (held until ``endTurn()``), or Lock from a server that
  /// predates it. A turn still held (one lost to expiry, say) is ended first.
  private func lock() throws {
    endHeldTurn()
    let duration = configuration.leaseMilliseconds
    if !holdTurnUnsupported {
      do {
        let held = try call("HoldTurn", noTimeout: true) { [self] client, metadata, options in
          var request = Colearn_V1_LockRequest()
          request.leaseDurationMs = duration
          request.participantID = participantID
          return try await HeldTurn.take(request) { producer, onResponse in
            try await client.holdTurn(
              metadata: metadata, options: options, requestProducer: producer,
              onResponse: onResponse)
          }
        }
        self.held = held
        leaseID = held.grant.leaseID
        return
      } catch let error as RemoteServerError where error.code == .unimplemented {
        holdTurnUnsupported = true
        onRetry?("HoldTurn: the server predates it (\(error)); taking turns with Lock and Unlock")
      }
    }
    let response = try call("Lock", noTimeout: true) { [self] client, metadata, options in
      var request = Colearn_V1_LockRequest()
      request.leaseDurationMs = duration
      request.participantID = participantID
      return try await client.lock(request, metadata: metadata, options: options)
    }
    leaseID = response.leaseID
  }

  public func endTurn() throws {
    guard sequential, !leaseID.isEmpty else { return }
    let lease = leaseID
    leaseID = ""
    if held != nil {
      endHeldTurn()
      return
    }
    _ = try call("Unlock") { [self] client, metadata, options in
      var request = Colearn_V1_UnlockRequest()
      request.leaseID = lease
      request.participantID = participantID
      return try await client.unlock(request, metadata: metadata, options: options)
    }
  }

  /// Closes the HoldTurn call of the turn, if one is open, and waits (up to the call timeout)
  /// until the server has released the lease and ended it.
  private func endHeldTurn() {
    guard let held else { return }
    self.held = nil
    let timeout = configuration.callTimeout
    connection.run { await held.end(within: timeout) }
  }

  public func download(fraction: Double, into parameters: UnsafeMutableBufferPointer<Float>)
    throws -> TransferSize
  {
    precondition(parameters.count == dimension, "|w| is \(dimension), got \(parameters.count)")
    let response = try call("Download", relock: true) { [self] client, metadata, options in
      var request = Colearn_V1_DownloadRequest()
      request.fraction = fraction
      request.participantID = participantID
      request.leaseID = leaseID
      return try await client.download(request, metadata: metadata, options: options)
    }
    let vector: SparseVector
    do {
      vector = try SparseVector(proto: response.parameters, dimension: dimension)
    } catch {
      throw RemoteServerError.refused(
        operation: "Download", code: .dataLoss, message: "the server sent \(error)")
    }
    for (index, value) in zip(vector.indices, vector.values) { parameters[Int(index)] = value }
    return TransferSize(parameters: vector.count, bytes: response.parameters.encoded.count)
  }

  public func upload(_ update: SparseVector) throws -> UInt64 {
    let (bounded, clipped) = bounds.clip(update)
    if clipped { clippedUploads += 1 }
    let vector = bounded.proto(dimension: dimension)
    let key = round
    let response = try call("Upload", relock: true) { [self] client, metadata, options in
      var request = Colearn_V1_UploadRequest()
      request.update = vector
      request.round = key
      request.participantID = participantID
      request.leaseID = leaseID
      return try await client.upload(request, metadata: metadata, options: options)
    }
    lastAcknowledgement = response
    onAcknowledgement?(key, response)
    round = key + 1
    return response.sequenceNumber
  }

  /// The server's status.
  public func status() throws -> Colearn_V1_StatusResponse {
    try call("Status") { client, metadata, options in
      try await client.status(Colearn_V1_StatusRequest(), metadata: metadata, options: options)
    }
  }

  /// w_global, whole (θ_d = 1), outside any turn (for evaluation; under a sequential protocol
  /// this takes a turn of its own).
  public func downloadAll() throws -> [Float] {
    var parameters = [Float](repeating: 0, count: dimension)
    try beginTurn()
    defer { try? endTurn() }
    _ = try parameters.withUnsafeMutableBufferPointer { try download(fraction: 1, into: $0) }
    return parameters
  }

  /// Reports this participant's own figures to the operator (colearn.proto's Report):
  /// `report`'s participant id is filled in here. Returns false when the server is older and
  /// has no Report (UNIMPLEMENTED): the figures then stay local. Retries transient failures for
  /// a few seconds only — a report is worth less than a turn.
  @discardableResult
  public func report(_ report: Colearn_V1_ReportRequest) throws -> Bool {
    var request = report
    request.participantID = participantID
    let message = request
    do {
      _ = try call("Report", retryFor: .seconds(5), timeout: .seconds(5)) {
        client, metadata, options in
        try await client.report(message, metadata: metadata, options: options)
      }
      return true
    } catch let error as RemoteServerError where error.code == .unimplemented {
      return false
    }
  }

  /// Leaves the federation.
  public func leave() throws {
    var leave = Colearn_V1_LeaveRequest()
    leave.participantID = participantID
    let request = leave
    // One short attempt, no retries: a server that has stopped (`serve --rounds`, shutdown)
    // forgets its participants anyway, and a participant must not wait minutes to say goodbye.
    _ = try call("Leave", rejoin: false, retryFor: .zero, timeout: .seconds(5)) {
      client, metadata, options in
      try await client.leave(request, metadata: metadata, options: options)
    }
  }

  // MARK: - Retries

  /// Runs `body` until it succeeds, retrying transient failures with backoff; re-joins when the
  /// server forgot the participant, and takes the lease again when it was lost (`relock`).
  private func call<Response: Sendable>(
    _ operation: String, rejoin: Bool = true, relock: Bool = false,
    noTimeout: Bool = false, retryFor: Duration? = nil, timeout: Duration? = nil,
    _ body:
      @escaping @Sendable (
        Colearn_V1_ParameterServer.Client<HTTP2ClientTransport.Posix>, Metadata, CallOptions
      ) async throws -> Response
  ) throws -> Response {
    var options = self.options
    if let timeout { options.timeout = timeout }
    if noTimeout { options.timeout = nil }
    return try connection.call(
      operation, options: options, retryFor: retryFor ?? configuration.retryFor, onRetry: onRetry,
      recover: { failure in
        switch failure.code {
        case .notFound where rejoin:
          onRetry?(
            "\(operation): the server forgot this participant (\(failure.message)); joining again")
          try join()
          if relock, sequential { try lock() }
          return .retryNow
        case .aborted where relock,
          .failedPrecondition where relock && leaseID.isEmpty && sequential:
          onRetry?("\(operation): \(failure.message); taking the turn again")
          leaseID = ""
          try lock()
          return .retryNow
        default:
          return .refuse
        }
      }
    ) { grpc, metadata, options in
      try await body(Colearn_V1_ParameterServer.Client(wrapping: grpc), metadata, options)
    }
  }
}
